"""Parallel work keeps the engine's guarantees: audit binding of branch rows, migration, and one join under concurrency."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from backoffice.engine import Engine, verify
from backoffice.engine.branches_model import BranchStatus
from backoffice.store import SqlStore
from backoffice.store.tables import case_branches

from .parallel_work import DEFINITION, IT, PAYROLL, SAM, SUE, deploy, branch_case, later, move, started_in_provision


def test_a_branch_run_verifies_and_a_branch_row_edited_in_the_database_is_named(engine):
    deploy(engine)
    case_id = started_in_provision(engine)
    move(engine, branch_case(engine, case_id, "equipment"), "provision", IT, later(1))
    report = verify(engine.store)
    assert report.ok, str(report)
    payroll = next(row for row in engine.branches(case_id) if row.branch == "payroll")
    # Someone with database access marks the payroll branch done, to pass the join unseen.
    with engine.store.engine.begin() as connection:
        connection.execute(sa.update(case_branches).where(case_branches.c.id == payroll.id).values(status="done"))
    report = verify(engine.store)
    assert not report.ok
    assert f"case_branches row {payroll.id} was changed outside the engine: field status" in str(report.first)


def test_a_case_waiting_for_its_branches_and_the_branches_themselves_are_not_migrated(engine, tmp_path):
    deploy(engine)
    case_id = started_in_provision(engine)
    newer = tmp_path / "parallel-work.yaml"
    newer.write_text(DEFINITION.read_text().replace("version: 1", "version: 2"))
    engine.deploy(newer, actor="lea", now=later(1))
    migration = engine.migrate_cases("parallel-work", actor="ops-admin", now=later(2))
    reasons = {left.case.id: left.reason for left in migration.left}
    assert "waits in 'provision' for its branches" in reasons[case_id]
    for row in engine.branches(case_id):
        assert f"branch {row.branch!r} of case {case_id}" in reasons[row.child_id]
    assert {engine.case(row.child_id).definition_version for row in engine.branches(case_id)} == {1}
    assert engine.case(case_id).definition_version == 1


def _finish(database: str, child_id: int, to_payroll: bool, barrier: threading.Barrier, errors: list) -> None:
    engine = Engine(SqlStore.open(database, upgrade=False))
    try:
        barrier.wait(timeout=30)
        if to_payroll:
            move(engine, child_id, "provision", PAYROLL, later(5), payroll_id="P-7")
        else:
            move(engine, child_id, "provision", IT, later(5), laptop="T14")
    except Exception as exc:  # noqa: BLE001 - reported by the test thread
        errors.append(exc)
    finally:
        engine.store.close()


def test_two_branches_finishing_at_once_join_exactly_once(engine, database):
    deploy(engine)
    cases = []
    for _ in range(4):
        case_id = started_in_provision(engine)
        access = branch_case(engine, case_id, "access")
        engine.approve(access, actor=SAM, now=later(1))
        engine.approve(access, actor=SUE, now=later(1.1))
        move(engine, access, "provision", IT, later(2), access="standard")
        cases.append(case_id)
    for case_id in cases:
        barrier, errors = threading.Barrier(2), []
        threads = [threading.Thread(target=_finish, args=(database, branch_case(engine, case_id, name), name == "payroll",
                                                          barrier, errors)) for name in ("equipment", "payroll")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert errors == []
        case = engine.case(case_id)
        assert case.state == "confirm"
        assert case.data["laptop"] == "T14" and case.data["payroll_id"] == "P-7"
        assert [event.activity for event in engine.history(case_id)].count("join") == 1
        assert {row.status for row in engine.branches(case_id)} == {BranchStatus.DONE}
    assert verify(engine.store).ok


def test_two_branches_finishing_at_once_under_join_first_leave_one_done_and_one_cancelled(engine, database, tmp_path):
    from backoffice.errors import StaleVersion, TransitionNotAllowed
    path = tmp_path / "parallel-work.yaml"
    path.write_text(DEFINITION.read_text().replace("    join: all", "    join: first"))
    deploy(engine, path)
    for _ in range(3):
        case_id = started_in_provision(engine)
        barrier, errors = threading.Barrier(2), []
        threads = [threading.Thread(target=_finish, args=(database, branch_case(engine, case_id, name),
                                                          name == "payroll", barrier, errors))
                   for name in ("equipment", "payroll")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        # The later of the two finds its branch cancelled by the first: refused, never joined twice.
        assert len(errors) == 1 and isinstance(errors[0], (StaleVersion, TransitionNotAllowed)), errors
        assert engine.case(case_id).state == "confirm"
        assert [event.activity for event in engine.history(case_id)].count("join") == 1
        assert sorted(str(row.status) for row in engine.branches(case_id)) == ["cancelled", "cancelled", "done"]
    assert verify(engine.store).ok
