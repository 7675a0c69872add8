"""Parallel work inside a case: branches open and join (all, first, N), each held to its own controls."""

from __future__ import annotations

import pytest

from backoffice.engine.branches_model import BranchStatus
from backoffice.engine.tasks import TaskStatus
from backoffice.errors import ControlBypassed, TransitionNotAllowed

from .parallel_work import CLERK, DEFINITION, IT, PAYROLL, REQUESTER, SAM, SUE, T0, deploy, branch_case, later, move, \
    started_in_provision


def finish_all(engine, case_id):
    access, equipment, payroll = (branch_case(engine, case_id, name) for name in ("access", "equipment", "payroll"))
    engine.approve(access, actor=SAM, now=later(1))
    engine.approve(access, actor=SUE, now=later(1.1))
    move(engine, access, "provision", IT, later(2), access="standard")
    move(engine, equipment, "provision", IT, later(3), laptop="T14")
    move(engine, payroll, "provision", PAYROLL, later(4), payroll_id="P-7")


def test_a_parallel_state_opens_one_child_case_per_branch_in_its_first_state(engine):
    deploy(engine)
    case_id = started_in_provision(engine)
    case = engine.case(case_id)
    assert case.state == "provision"
    rows = engine.branches(case_id)
    assert [(row.branch, row.status) for row in rows] == [("access", BranchStatus.OPEN),
                                                            ("equipment", BranchStatus.OPEN),
                                                            ("payroll", BranchStatus.OPEN)]
    children = {row.branch: engine.case(row.child_id) for row in rows}
    assert {name: child.state for name, child in children.items()} == {
        "access": "approve-access", "equipment": "order-laptop", "payroll": "setup-payroll"}
    assert all(child.parent_id == case_id and child.requester == "hal" for child in children.values())
    # Each branch has its own tasks in its own queue.
    queues = {task.queue for row in rows for task in engine.store.tasks(case_id=row.child_id)}
    assert queues == {"security", "it", "payroll"}


def test_the_case_moves_on_only_when_every_branch_is_back_at_the_join(engine):
    deploy(engine)
    case_id = started_in_provision(engine)
    access, equipment, payroll = (branch_case(engine, case_id, name) for name in ("access", "equipment", "payroll"))
    engine.approve(access, actor=SAM, now=later(1))
    engine.approve(access, actor=SUE, now=later(1.1))
    move(engine, access, "provision", IT, later(2), access="standard")
    move(engine, equipment, "provision", IT, later(3), laptop="T14")
    assert engine.case(case_id).state == "provision"
    move(engine, payroll, "provision", PAYROLL, later(4), payroll_id="P-7")
    case = engine.case(case_id)
    assert case.state == "confirm"
    # What the branches filled comes back to the case.
    assert {key: case.data.get(key) for key in ("access", "laptop", "payroll_id")} == {
        "access": "standard", "laptop": "T14", "payroll_id": "P-7"}
    assert {row.status for row in engine.branches(case_id)} == {BranchStatus.DONE}
    joins = [event for event in engine.history(case_id) if event.activity == "join"]
    assert len(joins) == 1 and joins[0].attributes["from_state"] == "provision"


def test_the_case_cannot_be_moved_past_its_branches_by_a_transition(engine):
    deploy(engine)
    case_id = started_in_provision(engine)
    with pytest.raises(TransitionNotAllowed, match="waits in 'provision' for its branches"):
        move(engine, case_id, "confirm", CLERK, later(1))
    assert not engine.can_transition(case_id, "confirm", actor=CLERK, now=later(1))


def test_the_join_waits_while_an_approval_in_a_required_branch_is_undecided(engine):
    deploy(engine)
    case_id = started_in_provision(engine)
    move(engine, branch_case(engine, case_id, "equipment"), "provision", IT, later(1))
    move(engine, branch_case(engine, case_id, "payroll"), "provision", PAYROLL, later(2), payroll_id="P-7")
    access = branch_case(engine, case_id, "access")
    engine.approve(access, actor=SAM, now=later(3))  # one vote of a quorum of two
    assert engine.case(case_id).state == "provision"
    with pytest.raises(TransitionNotAllowed, match="open: access"):
        move(engine, case_id, "confirm", CLERK, later(4))


def test_a_crafted_transition_moving_a_branch_past_its_approval_is_refused(engine):
    deploy(engine)
    case_id = started_in_provision(engine)
    access = branch_case(engine, case_id, "access")
    with pytest.raises(ControlBypassed):
        move(engine, access, "grant-access", SAM, later(1))
    assert engine.case(access).state == "approve-access"


def test_separation_of_duties_in_a_branch_counts_who_acted_before_the_split(engine):
    from backoffice.errors import SeparationOfDuties
    from .parallel_work import Actor
    deploy(engine)
    # tess triages (a clerk) and holds the security role too: she may not approve the access.
    case_id = started_in_provision(engine, by=Actor("tess", "clerk"))
    access = branch_case(engine, case_id, "access")
    with pytest.raises(SeparationOfDuties, match="triage"):
        engine.approve(access, actor=Actor("tess", "security"), now=later(1))


def test_a_branch_that_is_back_at_its_join_moves_no_more(engine):
    deploy(engine)
    case_id = started_in_provision(engine)
    equipment = branch_case(engine, case_id, "equipment")
    move(engine, equipment, "provision", IT, later(1))
    with pytest.raises(TransitionNotAllowed, match="is finished"):
        move(engine, equipment, "confirm", CLERK, later(2))


def test_a_rejected_required_branch_ends_the_case_and_cancels_the_others(engine):
    deploy(engine)
    case_id = started_in_provision(engine)
    access = branch_case(engine, case_id, "access")
    engine.approve(access, actor=SAM, now=later(1), reject=True)
    assert engine.case(access).state == "rejected"
    assert engine.case(case_id).state == "rejected"
    statuses = {row.branch: row.status for row in engine.branches(case_id)}
    assert statuses == {"access": BranchStatus.ENDED, "equipment": BranchStatus.CANCELLED,
                        "payroll": BranchStatus.CANCELLED}
    payroll_tasks = engine.store.tasks(case_id=branch_case(engine, case_id, "payroll"))
    assert [task.status for task in payroll_tasks] == [TaskStatus.CANCELLED]
    assert "cancelled" in payroll_tasks[0].reason and "'access' ended in 'rejected'" in payroll_tasks[0].reason


def test_join_first_cancels_the_other_branches_and_closes_their_tasks_with_the_reason(engine, tmp_path):
    path = tmp_path / "parallel-work.yaml"
    path.write_text(DEFINITION.read_text().replace("    join: all", "    join: first"))
    deploy(engine, path)
    case_id = started_in_provision(engine)
    move(engine, branch_case(engine, case_id, "equipment"), "provision", IT, later(1), laptop="T14")
    assert engine.case(case_id).state == "confirm"
    rows = {row.branch: row for row in engine.branches(case_id)}
    assert rows["equipment"].status is BranchStatus.DONE
    assert rows["access"].status is rows["payroll"].status is BranchStatus.CANCELLED
    assert "'equipment' finished" in rows["payroll"].reason
    for name in ("access", "payroll"):
        tasks = engine.store.tasks(case_id=rows[name].child_id)
        assert tasks and all(task.status is TaskStatus.CANCELLED and "cancelled" in task.reason for task in tasks)
        assert engine.case(rows[name].child_id).state == "provision"


def test_join_two_of_three_moves_on_at_the_second_branch(engine, tmp_path):
    path = tmp_path / "parallel-work.yaml"
    path.write_text(DEFINITION.read_text().replace("    join: all", "    join: 2"))
    deploy(engine, path)
    case_id = started_in_provision(engine)
    move(engine, branch_case(engine, case_id, "equipment"), "provision", IT, later(1))
    assert engine.case(case_id).state == "provision"
    move(engine, branch_case(engine, case_id, "payroll"), "provision", PAYROLL, later(2), payroll_id="P-7")
    assert engine.case(case_id).state == "confirm"
    assert {row.branch: row.status for row in engine.branches(case_id)}["access"] is BranchStatus.CANCELLED


def test_events_carry_their_branch(engine):
    deploy(engine)
    case_id = started_in_provision(engine)
    finish_all(engine, case_id)
    equipment = branch_case(engine, case_id, "equipment")
    assert {event.branch for event in engine.history(equipment)} == {"equipment"}
    assert {event.branch for event in engine.history(case_id)} == {None}


def test_a_branch_task_falls_due_by_the_branch_sla_and_its_state_timer_fires_for_it(engine):
    deploy(engine)
    case_id = started_in_provision(engine)
    equipment = branch_case(engine, case_id, "equipment")
    payroll = branch_case(engine, case_id, "payroll")
    [laptop_task] = engine.store.tasks(case_id=equipment)
    # equipment's own SLA: 2 business days from its start (Monday 09:12) is Wednesday 09:12.
    assert laptop_task.due_at is not None and laptop_task.due_at.date().isoformat() == "2024-03-06"
    assert engine.store.tasks(case_id=payroll)[0].due_at is None  # no SLA on the case, none on the branch
    fired = engine.fire_timers(later(24 * 2))
    assert [(fired_timer.timer.case_id, fired_timer.timer.name) for fired_timer in fired] == [(equipment, "laptop late")]


def test_a_branch_approval_sees_the_documents_attached_to_its_case_before_the_split(engine, tmp_path):
    from backoffice.errors import EvidenceMissing
    path = tmp_path / "parallel-work.yaml"
    path.write_text(DEFINITION.read_text().replace("    evidence: {fields: [name]}",
                                                   "    evidence: {fields: [name], documents: [contract]}"))
    deploy(engine, path)
    without = started_in_provision(engine)
    with pytest.raises(EvidenceMissing, match="contract"):
        engine.approve(branch_case(engine, without, "access"), actor=SAM, now=later(1))
    case = engine.start_case("parallel-work", {"name": "Omar"}, actor=REQUESTER, now=T0)
    engine.attach_evidence(case.id, "contract", actor=REQUESTER, now=T0, reference="dms://contract-omar")
    case = engine.transition(case.id, "triage", actor=CLERK, expected_version=engine.case(case.id).version,
                             now=later(0.1))
    engine.transition(case.id, "provision", actor=CLERK, expected_version=case.version, now=later(0.2))
    access = branch_case(engine, case.id, "access")
    engine.approve(access, actor=SAM, now=later(1))
    engine.approve(access, actor=SUE, now=later(1.1))
    assert engine.case(access).state == "grant-access"


def test_an_exception_that_ends_the_case_while_it_waits_cancels_its_open_branches(engine, tmp_path):
    path = tmp_path / "parallel-work.yaml"
    path.write_text(DEFINITION.read_text() + "exceptions:\n  hire_withdrawn:\n    resolver: {role: clerk}\n"
                                             "    raised_in: [provision]\n    ends: true\n")
    deploy(engine, path)
    case_id = started_in_provision(engine)
    move(engine, branch_case(engine, case_id, "equipment"), "provision", IT, later(1))
    engine.raise_exception(case_id, "hire_withdrawn", actor=CLERK, now=later(2), note="the hire withdrew")
    assert engine.case(case_id).state == "provision"  # raised: the clerk resolves it, which ends the case
    engine.resolve_exception(case_id, actor=CLERK, now=later(3))
    assert engine.case(case_id).state == "rejected"
    rows = {row.branch: row for row in engine.branches(case_id)}
    assert rows["equipment"].status is BranchStatus.DONE
    assert rows["access"].status is rows["payroll"].status is BranchStatus.CANCELLED
    assert "ended in 'rejected'" in rows["payroll"].reason
    for name in ("access", "payroll"):
        assert engine.tasks(case_id=rows[name].child_id) == []  # no open task left behind
