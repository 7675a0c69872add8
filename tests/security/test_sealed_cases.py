"""A case row edited in SQL is never acted on: the engine holds it to the audit record that last wrote it.

A colleague with access to the database moves a case past its approval (`UPDATE cases SET
state = ...`), or changes its data or version. `audit verify` names the row afterwards; these
tests show the engine refuses to act on the case meanwhile, from the Python API, the command
line and HTTP, on both databases, writes nothing, and that `verify` still names it. A case
nobody touched works as before.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from backoffice.engine import Actor, Engine, verify
from backoffice.engine.audit import canonical_json, seal_row
from backoffice.engine.actions import ActionRegistry
from backoffice.engine.outbox import OutboxStatus
from backoffice.engine.worker import Worker
from backoffice.errors import CaseAltered, DefinitionAltered
from backoffice.store import SqlStore
from backoffice.store.tables import audit_records, case_branches, cases

from ..api.live_server import ADMIN as API_ADMIN, PAYLOAD, T0 as API_T0, in_process
from ..cli.test_engine_commands import backoffice, database  # noqa: F401 (fixtures: both databases)
from ..directory_fixtures import WORKER_ACCOUNT, Login
from ..engine import parallel_work
from ..engine.automated_steps import ACTION, deploy_automated
from ..engine.conftest import definition_copy, deployed as service_desk  # noqa: F401 (fixtures)
from ..engine.service_request import ANN, DESK, OPERATOR, later as desk_later, payload
from ..engine.test_migration import VERSION_2
from .spend import BUYER, CAROL, ERIN, REVIEWER, deployed, engine, in_approval, later, seed_database  # noqa: F401
from .test_sealed_definitions import written

ORDERED = {"po_number": "PO-1"}


def edit(store: SqlStore, case_id: int, **values: object) -> None:
    """Change a case's row in SQL, as a colleague with database access would."""
    with store.engine.begin() as connection:
        assert connection.execute(sa.update(cases).where(cases.c.id == case_id).values(**values)).rowcount == 1


def named_by_verify(store: SqlStore, case_id: int) -> str:
    report = verify(store)
    assert not report.ok
    problem = str(report.first)
    assert "cases" in problem and str(case_id) in problem, problem
    return problem


def test_a_case_moved_past_its_approval_in_sql_is_refused_and_nothing_is_written(engine):
    deployed(engine)
    case = in_approval(engine, amount=500.0)      # approve-small: waits for a manager's vote
    other = in_approval(engine, amount=500.0)
    edit(engine.store, case.id, state="order")    # the approval skipped
    before = written(engine.store)
    with pytest.raises(CaseAltered) as refused:
        engine.transition(case.id, "done", actor=BUYER, expected_version=case.version, now=later(3), data=ORDERED)
    message = str(refused.value)
    assert f"case {case.id}" in message and "field state changed" in message and "audit verify" in message, message
    assert isinstance(refused.value, DefinitionAltered)  # the same family: 409 over HTTP, exit 1 on the CLI
    assert written(engine.store) == before
    assert engine.store.case(case.id).state == "order"  # left as the edit put it, for whoever investigates
    named_by_verify(engine.store, case.id)
    # The case nobody touched is approved and moves on as ever.
    approved = engine.approve(other.id, actor=ERIN, now=later(3))
    assert approved.state == "order"


@pytest.mark.parametrize("values", [{"data": {"item": "laptops", "amount": 50.0}}, {"version": 9},
                                    {"definition_version": 1, "owner": "bob"}, {"queue": "elsewhere"}],
                         ids=["data", "version", "owner", "queue"])
def test_any_edited_field_of_the_case_row_is_refused_for_every_act(engine, values):
    deployed(engine)
    case = in_approval(engine, amount=500.0)
    edit(engine.store, case.id, **values)
    current = engine.store.case(case.id)
    before = written(engine.store)
    with pytest.raises(CaseAltered):
        engine.approve(case.id, actor=ERIN, now=later(3))
    with pytest.raises(CaseAltered):
        engine.transition(case.id, "rejected", actor=ERIN, expected_version=current.version, now=later(3))
    with pytest.raises(CaseAltered):
        engine.raise_exception(case.id, "waiver", actor=CAROL, now=later(3))
    assert written(engine.store) == before
    named_by_verify(engine.store, case.id)


def test_a_case_put_back_as_its_record_wrote_it_works_again(engine):
    deployed(engine)
    case = in_approval(engine, amount=500.0)
    edit(engine.store, case.id, state="order")
    with pytest.raises(CaseAltered):
        engine.approve(case.id, actor=ERIN, now=later(3))
    edit(engine.store, case.id, state="approve-small")
    assert engine.approve(case.id, actor=ERIN, now=later(3)).state == "order"
    assert verify(engine.store).ok


def test_a_case_and_its_record_rewritten_without_the_audit_key_are_still_refused(engine):
    deployed(engine)
    case = in_approval(engine, amount=500.0)
    edit(engine.store, case.id, state="order")
    # The attacker also lists the edited row's digest in the record that wrote it (the seal cannot be redone).
    with engine.store.engine.begin() as connection:
        row = connection.execute(sa.select(cases).where(cases.c.id == case.id)).one()
        forged = seal_row("cases", case.id, dict(row._mapping), case_id=case.id)
        last = connection.execute(sa.select(audit_records).where(audit_records.c.chain == f"case:{case.id}")
                                  .order_by(audit_records.c.seq.desc()).limit(1)).one()
        listed = json.loads(last.rows)
        [entry] = [item for item in listed if item[0] == "cases" and item[1] == case.id]
        entry[2], entry[3] = forged.digest, dict(forged.fields)
        connection.execute(sa.update(audit_records).where(audit_records.c.id == last.id)
                           .values(rows=canonical_json(listed)))
    for engine_now in (engine, Engine(engine.store, audit_key=engine.audit_key)):  # this process, and the next
        with pytest.raises(CaseAltered) as refused:
            engine_now.transition(case.id, "done", actor=BUYER, expected_version=case.version, now=later(3),
                                  data=ORDERED)
        assert "not sealed by this database's audit key" in str(refused.value), refused.value


def test_an_edited_case_is_refused_on_the_command_line(database, backoffice):  # noqa: F811
    seed_database(database)
    with SqlStore.open(database) as store:
        case = in_approval(deployed(Engine(store)), amount=500.0)
        edit(store, case.id, state="order")
        before = written(store)
    status, out, err = backoffice("case", "transition", str(case.id), "done", "--expected-version",
                                  str(case.version), "--data", '{"po_number": "PO-1"}', Login("bert"))
    assert status == 1, (out, err)
    assert f"case {case.id}" in err and "state" in err and "audit verify" in err, err
    assert "Traceback" not in err
    with SqlStore.open(database) as store:
        assert written(store) == before
        named_by_verify(store, case.id)


def test_an_edited_case_is_refused_over_http(database, tmp_path):  # noqa: F811
    with in_process(database, tmp_path) as (engine, _, client):
        token = engine.create_token("alice", actor=API_ADMIN, now=API_T0).secret
        headers = {"Authorization": f"Bearer {token}"}
        started = [client.post("/v1/workflows/purchase-approval/cases", json=PAYLOAD, headers=headers).json()
                   for _ in range(2)]
        edited, untouched = started
        edit(engine.store, edited["id"], data={**PAYLOAD, "amount": 1})
        before = written(engine.store)
        answer = client.post(f"/v1/cases/{edited['id']}/transitions", json={"to": "prepare"},
                             headers={**headers, "If-Match": f'"{edited["version"]}"'})
        assert answer.status_code == 409, answer.text
        assert f"case {edited['id']}" in answer.text and "field data changed" in answer.text, answer.text
        assert written(engine.store) == before
        named_by_verify(engine.store, edited["id"])
        answer = client.post(f"/v1/cases/{untouched['id']}/transitions", json={"to": "prepare"},
                             headers={**headers, "If-Match": f'"{untouched["version"]}"'})
        assert answer.status_code == 200, answer.text


def test_a_migration_leaves_an_edited_case_with_why_and_never_vouches_for_it(service_desk, definition_copy):  # noqa: F811
    edited = service_desk.start_case("service-request", payload(), actor=ANN, now=desk_later(0))
    untouched = service_desk.start_case("service-request", payload(), actor=ANN, now=desk_later(0))
    edit(service_desk.store, edited.id, state="triage")
    service_desk.deploy(definition_copy(*VERSION_2), actor="lead", now=desk_later(1))
    migration = service_desk.migrate_cases("service-request", actor=OPERATOR, now=desk_later(2))
    assert [case.id for case in migration.moved] == [untouched.id]
    [left] = migration.left
    assert left.case.id == edited.id and "field state changed" in left.reason and "audit verify" in left.reason
    assert service_desk.store.case(edited.id).definition_version == 1   # not moved: no record vouches for it
    named_by_verify(service_desk.store, edited.id)


def test_the_worker_calls_nothing_for_an_edited_case_and_parks_its_step(engine, definition_copy):  # noqa: F811
    deploy_automated(engine, definition_copy)
    case = engine.start_case("service-request", payload(), actor=ANN, now=desk_later(1))
    engine.transition(case.id, "notify", actor=DESK, expected_version=case.version, now=desk_later(1))
    edit(engine.store, case.id, data={**payload(), "summary": "send the payroll file elsewhere"})
    called = []
    registry = ActionRegistry()
    registry.register(ACTION, lambda call: called.append(call) or {"desk_ticket": "T-1"})
    report = Worker(engine, registry, account=WORKER_ACCOUNT, lease=timedelta(minutes=5)).run_once(desk_later(2))
    assert called == [] and report.done == 0
    [entry] = engine.outbox(case_id=case.id)
    assert entry.status is OutboxStatus.DEAD and f"case {case.id}" in (entry.last_error or ""), entry
    assert engine.store.case(case.id).state == "notify"
    named_by_verify(engine.store, case.id)


def test_a_branch_marked_done_in_sql_never_lets_its_join_pass(engine):
    parallel_work.deploy(engine)
    case_id = parallel_work.started_in_provision(engine)
    access, payroll = (parallel_work.branch_case(engine, case_id, name) for name in ("access", "payroll"))
    with engine.store.engine.begin() as connection:   # the laptop never ordered, its branch marked done
        connection.execute(sa.update(case_branches).where(case_branches.c.case_id == case_id,
                                                          case_branches.c.branch == "equipment")
                           .values(status="done", outcome="provision"))
    engine.approve(access, actor=parallel_work.SAM, now=parallel_work.later(1))
    engine.approve(access, actor=parallel_work.SUE, now=parallel_work.later(1.1))
    before = written(engine.store)
    # A branch coming back to the join is refused whole (the join reads every branch of the visit), the last one too.
    for branch, actor, data in ((access, parallel_work.IT, {"access": "standard"}),
                                (payroll, parallel_work.PAYROLL, {"payroll_id": "P-7"})):
        with pytest.raises(CaseAltered) as refused:
            parallel_work.move(engine, branch, "provision", actor, parallel_work.later(4), **data)
        assert "'equipment'" in str(refused.value) and "field status changed" in str(refused.value), refused.value
    assert written(engine.store) == before
    assert engine.store.case(case_id).state == "provision"
    assert "case_branches" in str(verify(engine.store).first)


def test_a_branch_case_edited_in_sql_is_refused_when_its_parent_joins_it(engine):
    parallel_work.deploy(engine)
    case_id = parallel_work.started_in_provision(engine)
    access, equipment, payroll = (parallel_work.branch_case(engine, case_id, name)
                                  for name in ("access", "equipment", "payroll"))
    engine.approve(access, actor=parallel_work.SAM, now=parallel_work.later(1))
    engine.approve(access, actor=parallel_work.SUE, now=parallel_work.later(1.1))
    parallel_work.move(engine, access, "provision", parallel_work.IT, parallel_work.later(2), access="standard")
    parallel_work.move(engine, equipment, "provision", parallel_work.IT, parallel_work.later(3), laptop="T14")
    edit(engine.store, access, data={**engine.store.case(access).data, "access": "admin"})  # merged at the join
    before = written(engine.store)
    with pytest.raises(CaseAltered) as refused:
        parallel_work.move(engine, payroll, "provision", parallel_work.PAYROLL, parallel_work.later(4),
                           payroll_id="P-7")
    assert f"case {access}" in str(refused.value), refused.value
    assert written(engine.store) == before
    assert engine.store.case(case_id).state == "provision"
