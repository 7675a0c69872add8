"""Attacks on the controls of a running case, through the Python API and the command line, on both databases.

Each attack is one a peer product fell to: self-approval (also respelt), one person filling a
two-vote quorum, the approval skipped (a plain transition, the approval task completed,
Engine.transition, an exception, a migration, manual mode), and the amount that picks the
approver edited after intake. Each must be refused, leave the case where it was, and write nothing.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from backoffice.definitions import LIBRARY
from backoffice.engine import Actor, Engine
from backoffice.engine.tasks import TaskKind
from backoffice.errors import (AlreadyVoted, ControlBypassed, FieldImmutable, NotAuthorizedOnBehalf,
                               NotEligibleForTask, RoleRequired, RouteFieldLocked, SeparationOfDuties)
from backoffice.store import SqlStore

from ..cli.test_engine_commands import backoffice, database  # noqa: F401 (fixtures: both databases)
from ..directory_fixtures import Login
from .spend import (ADMIN, BUYER, CAROL, DAVE, DEPLOYER, ERIN, OPERATOR, OTTO, REQUESTER, REVIEWER, LOWER_QUORUM, T0,
                    deployed, engine, in_approval, later, seed_database, started, version_text)  # noqa: F401


def unchanged(engine: Engine, case) -> None:
    """The case is where it was, at the same version, with no event since it got there."""
    now = engine.case(case.id)
    assert (now.state, now.version) == (case.state, case.version)
    assert engine.history(case.id)[-1].attributes.get("case_version") == case.version


# --- self-approval and one person's two votes ---

@pytest.mark.parametrize("spelling", ["bob", "Bob ", "BOB", "\uff42\uff4f\uff42"])
def test_the_requester_cannot_approve_their_own_request_under_any_spelling(engine, spelling):
    case = in_approval(deployed(engine))
    with pytest.raises(SeparationOfDuties, match="requested it"):
        engine.approve(case.id, actor=Actor(spelling, "manager"), now=later(3))
    unchanged(engine, case)
    assert engine.store.votes(case.id, engine.tasks(case_id=case.id)[0].round) == []


def test_acting_on_behalf_of_the_requester_counts_the_requester(engine):
    case = in_approval(deployed(engine))
    with pytest.raises(SeparationOfDuties, match="requested it"):
        engine.approve(case.id, actor=Actor("root", "manager", on_behalf_of="Bob"), now=later(3))
    unchanged(engine, case)


def test_the_requester_cannot_pass_the_review_control_of_their_own_case(engine):
    deployed(engine)
    case = started(engine, requester=Actor("rita", "reviewer"))
    case = engine.transition(case.id, "review", actor=REVIEWER, expected_version=1, now=later(1))
    with pytest.raises(ControlBypassed, match="not passed by the requester rita"):
        engine.transition(case.id, "approve-large", actor=Actor("Rita", "reviewer"), expected_version=2,
                          now=later(2))
    unchanged(engine, case)


def test_one_person_with_two_approver_roles_casts_one_vote(engine):
    case = in_approval(deployed(engine))
    assert engine.approve(case.id, actor=CAROL, now=later(3)).state == "approve-large"
    for again in (CAROL, Actor("carol", "controller"), Actor("Carol ", "controller"), Actor("CAROL", "controller")):
        with pytest.raises(AlreadyVoted, match="one person casts one vote"):
            engine.approve(case.id, actor=again, now=later(4))
    assert engine.case(case.id).state == "approve-large"
    assert engine.approve(case.id, actor=DAVE, now=later(5)).state == "order"


def test_a_delegate_votes_for_the_delegator_who_voted_already(engine):
    case = in_approval(deployed(engine))
    engine.approve(case.id, actor=Actor("carol", "manager"), now=later(3))
    # carol's second task (the controller's) handed to dave: his vote would be carol's second.
    engine.delegate(case.id, actor=Actor("carol", "controller"), to="dave", now=later(4))
    with pytest.raises(AlreadyVoted):
        engine.approve(case.id, actor=DAVE, now=later(5))
    assert engine.case(case.id).state == "approve-large"


# --- acting for someone (the directory's on-behalf and delegation) never makes one person two ---

def test_an_administrator_acting_for_an_approver_on_their_own_request_is_still_the_requester(engine):
    deployed(engine)
    case = started(engine, requester=Actor("root"))
    case = engine.transition(case.id, "review", actor=REVIEWER, expected_version=case.version, now=later(1))
    case = engine.transition(case.id, "approve-large", actor=REVIEWER, expected_version=case.version, now=later(2))
    for acting in (Actor("root", "manager", on_behalf_of="carol"), Actor("ROOT ", "controller", on_behalf_of="Dave")):
        with pytest.raises(SeparationOfDuties, match="requested it"):
            engine.approve(case.id, actor=acting, now=later(3))
    unchanged(engine, case)


def test_an_administrators_vote_for_an_approver_counts_for_both_persons(engine):
    case = in_approval(deployed(engine))
    engine.approve(case.id, actor=Actor("root", "manager", on_behalf_of="carol"), now=later(3))
    [vote] = engine.store.votes(case.id, engine.tasks(case_id=case.id)[0].round)
    assert (vote.approver, vote.on_behalf_of) == ("root", "carol")
    assert engine.history(case.id)[-1].attributes["on_behalf_of"] == "carol"
    # carol has voted through root, and root through carol: neither votes again, for anyone.
    for again in (Actor("carol", "controller"), Actor("root", "controller"),
                  Actor("root", "controller", on_behalf_of="dave"), Actor("dave", "controller", on_behalf_of="carol")):
        with pytest.raises((AlreadyVoted, NotAuthorizedOnBehalf)):
            engine.approve(case.id, actor=again, now=later(4))
    assert engine.case(case.id).state == "approve-large"
    assert engine.approve(case.id, actor=DAVE, now=later(5)).state == "order"


def test_a_delegate_of_the_requester_cannot_approve_for_them(engine):
    case = in_approval(deployed(engine))
    engine.add_delegation("bob", "erin", starts=T0, ends=later(24 * 7), actor="bob", now=T0,
                          workflow="spend-approval", role="manager")
    with pytest.raises(SeparationOfDuties, match="requested it"):
        engine.approve(case.id, actor=Actor("erin", "manager", on_behalf_of="Bob"), now=later(3))
    unchanged(engine, case)
    # In her own name erin is another person, and may approve.
    assert engine.approve(case.id, actor=ERIN, now=later(4)).state == "approve-large"


def test_an_approval_task_is_not_delegated_to_someone_its_separation_of_duties_excludes(engine):
    case = in_approval(deployed(engine))
    for excluded, rule in (("Bob ", "requested it"), ("rita", "role manager")):
        with pytest.raises((SeparationOfDuties, NotEligibleForTask), match=rule):
            engine.delegate(case.id, actor=Actor("carol", "manager"), to=excluded, now=later(3))
    assert all(task.assignee is None for task in engine.tasks(case_id=case.id))


# --- the approval skipped four ways ---

def test_a_plain_transition_past_the_approval_is_refused_even_for_an_admin_or_the_requester(engine):
    case = in_approval(deployed(engine))
    for actor in (ADMIN, REQUESTER, CAROL):
        assert not engine.can_transition(case.id, "order", actor=actor, now=later(3))
        with pytest.raises(ControlBypassed, match="is a control and is left only by its decision"):
            engine.transition(case.id, "order", actor=actor, expected_version=case.version, now=later(3))
    unchanged(engine, case)


def test_completing_the_approval_task_does_not_approve(engine):
    case = in_approval(deployed(engine))
    task = next(t for t in engine.tasks(case_id=case.id) if t.role == "manager")
    assert task.kind is TaskKind.APPROVAL
    engine.claim(task.id, actor=ERIN, now=later(3))
    with pytest.raises(ControlBypassed, match="decided by votes"):
        engine.complete(task.id, actor=ERIN, now=later(3), to="order")
    unchanged(engine, case)
    assert engine.task(task.id).status == "open"


def test_an_exception_that_would_pass_the_approval_is_refused_and_one_that_sends_back_voids_the_votes(engine):
    case = in_approval(deployed(engine))
    engine.approve(case.id, actor=CAROL, now=later(3))
    with pytest.raises(ControlBypassed, match="exception may not take the case past it"):
        engine.raise_exception(case.id, "waived", actor=DAVE, now=later(4))
    assert engine.case(case.id).state == "approve-large"
    # Sending it back is no bypass: the case must come through the approval again, with new votes.
    back = engine.raise_exception(case.id, "needs_info", actor=DAVE, now=later(4))
    assert back.state == "waiting"
    back = engine.resolve_exception(case.id, actor=REQUESTER, now=later(5))
    back = engine.transition(case.id, "approve-large", actor=REVIEWER, expected_version=back.version, now=later(6))
    assert engine.approve(case.id, actor=DAVE, now=later(7)).state == "approve-large"  # carol's vote is void
    assert engine.approve(case.id, actor=CAROL, now=later(8)).state == "order"


def test_a_migration_does_not_move_a_case_in_an_approval_whose_rules_differ(engine, tmp_path):
    case = in_approval(deployed(engine))
    engine.approve(case.id, actor=CAROL, now=later(3))
    newer = tmp_path / "spend-approval.yaml"
    newer.write_text(version_text(LOWER_QUORUM))
    assert engine.deploy(newer, actor=DEPLOYER, now=later(4)).pending
    engine.approve_change("spend-approval", 2, content_hash=engine.changes()[0].candidate.content_hash,
                          actor=OTTO, now=later(5))
    with pytest.raises(RoleRequired, match="needs the role operator"):
        engine.migrate_cases("spend-approval", actor=CAROL, now=later(6))
    migration = engine.migrate_cases("spend-approval", actor=OPERATOR, now=later(6))
    assert [left.case.id for left in migration.left] == [case.id]
    assert "approval whose rules differ in version 2" in migration.left[0].reason
    assert (engine.case(case.id).definition_version, engine.case(case.id).state) == (1, "approve-large")
    assert engine.approve(case.id, actor=DAVE, now=later(7)).state == "order"


def test_manual_mode_needs_an_operator_and_moves_no_case_out_of_an_approval(engine):
    case = in_approval(deployed(engine))
    with pytest.raises(RoleRequired):
        engine.set_mode("spend-approval", manual=True, now=later(3), actor=Actor("mallory", "manager"))
    engine.set_mode("spend-approval", manual=True, now=later(3), actor=OPERATOR)
    with pytest.raises(ControlBypassed):
        engine.transition(case.id, "order", actor=ADMIN, expected_version=case.version, now=later(4))
    unchanged(engine, case)
    modes = [r for r in engine.store.audit_records() if r.action == "workflow.mode_changed"]
    assert [(r.actor, r.role) for r in modes] == [("olga", "operator")]


# --- the amount that picks the approver ---

def test_the_routing_amount_cannot_be_edited_after_intake(engine):
    deployed(engine)
    case = started(engine, amount=5000.0)
    case = engine.transition(case.id, "review", actor=REVIEWER, expected_version=1, now=later(1))
    with pytest.raises(FieldImmutable, match="amount cannot change after intake"):
        engine.transition(case.id, "approve-small", actor=REVIEWER, expected_version=2, now=later(2),
                          data={"amount": 500.0})
    assert not engine.can_transition(case.id, "approve-small", actor=REVIEWER, now=later(2), data={"amount": 500.0})
    unchanged(engine, case)
    assert engine.case(case.id).data["amount"] == 5000.0


def test_the_purchase_request_template_keeps_its_amount_from_intake(engine):
    engine.deploy(LIBRARY / "purchase-request.yaml", actor=DEPLOYER, now=later(0))
    from backoffice.tour.playbooks import PURCHASE_REQUEST
    case = engine.start_case("purchase-request", PURCHASE_REQUEST.payload, actor=Actor("lina"), now=later(0))
    case = engine.transition(case.id, "review-request", actor=Actor("bea", "procurement-buyer"),
                             expected_version=1, now=later(1))
    with pytest.raises(FieldImmutable, match="amount"):
        engine.transition(case.id, "check-budget", actor=Actor("bea", "procurement-buyer"), expected_version=2,
                          now=later(2), data={"amount": 900.0})
    unchanged(engine, case)


def test_a_route_deciding_field_changed_sends_the_case_back_through_routing(engine):
    deployed(engine)
    case = started(engine, category="hardware")
    assert case.queue == "review"
    case = engine.transition(case.id, "review", actor=REVIEWER, expected_version=1, now=later(1))
    moved = engine.transition(case.id, "approve-large", actor=REVIEWER, expected_version=2, now=later(2),
                              data={"category": "software"})
    # The intake rule "software to IT buyers" decides again on the new value: high priority (the
    # approval's own queue takes the work, as for any state entered).
    assert (moved.queue, str(moved.priority)) == ("controller-approvals", "high")
    rerouted = engine.history(case.id)[-1].attributes["rerouted"]
    assert rerouted == {"fields": {"category": {"from": "hardware", "to": "software"}}, "votes_voided": []}
    [record] = [r for r in engine.store.audit_records() if r.action == "case.rerouted"]
    assert record.case_id == case.id and json.loads(record.detail)["fields"]["category"]["to"] == "software"


def test_a_route_deciding_field_cannot_change_once_its_approval_decided(engine):
    case = in_approval(deployed(engine))
    engine.approve(case.id, actor=CAROL, now=later(3))
    case = engine.approve(case.id, actor=DAVE, now=later(4))
    assert case.state == "order"
    with pytest.raises(RouteFieldLocked, match="approve-large"):
        engine.transition(case.id, "done", actor=BUYER, expected_version=case.version, now=later(5),
                          data={"po_number": "PO-1", "category": "software"})
    unchanged(engine, case)


# --- the same attacks from the command line ---

@pytest.fixture
def cli_case(database):  # noqa: F811 (the CLI's database fixture)
    seed_database(database)
    with SqlStore.open(database) as store:
        engine = Engine(store)
        case = in_approval(deployed(engine))
        return case.id, case.version


def test_self_approval_respelt_is_refused_on_the_command_line(database, backoffice, cli_case):  # noqa: F811
    case_id, _ = cli_case
    status, _, err = backoffice("approve", str(case_id), Login("bob"), "--role", "manager")
    assert status == 2 and "separation of duties" in err and "requested it" in err
    # A spelling reaches the command line only as whom an administrator acts for: still bob.
    for spelling in ("bob", "Bob ", "BOB"):
        status, _, err = backoffice("approve", str(case_id), Login("root"), "--as", spelling, "--role", "manager")
        assert status == 2 and "separation of duties" in err and "requested it" in err


def test_one_person_two_roles_one_vote_on_the_command_line(database, backoffice, cli_case):  # noqa: F811
    case_id, _ = cli_case
    assert backoffice("approve", str(case_id), Login("carol"), "--role", "manager")[0] == 0
    status, _, err = backoffice("approve", str(case_id), Login("carol"), "--role", "controller")
    assert status == 2 and "one person casts one vote" in err
    status, _, err = backoffice("approve", str(case_id), Login("root"), "--as", "Carol ", "--role", "controller")
    assert status == 2 and "one person casts one vote" in err
    status, out, _ = backoffice("case", "show", str(case_id), "--json")
    assert json.loads(out)["state"] == "approve-large"


def test_skipping_the_approval_is_refused_on_the_command_line(database, backoffice, cli_case):  # noqa: F811
    case_id, version = cli_case
    status, _, err = backoffice("case", "transition", str(case_id), "order", "--expected-version", str(version),
                                Login("root"), "--role", "controller")
    assert status == 2 and "is a control and is left only by its decision" in err
    status, out, _ = backoffice("task", "list", "--case", str(case_id), "--json")
    task = json.loads(out)[0]
    claimant = "erin" if task["role"] == "manager" else "dave"
    assert backoffice("task", "claim", str(task["id"]), Login(claimant), "--role", task["role"])[0] == 0
    status, _, err = backoffice("task", "complete", str(task["id"]), "--to", "order", Login(claimant), "--role",
                                task["role"])
    assert status == 2 and "decided by votes" in err
    status, _, err = backoffice("exception", "raise", str(case_id), "waived", Login("dave"), "--role", "controller")
    assert status == 2 and "exception may not take the case past it" in err
    status, _, err = backoffice("workflow", "manual", "spend-approval", Login("root"), "--role", "manager")
    assert status == 2 and "needs the role operator" in err
    status, out, _ = backoffice("case", "show", str(case_id), "--json")
    assert (json.loads(out)["state"], json.loads(out)["version"]) == ("approve-large", version)


def test_acting_for_the_requester_is_refused_on_the_command_line(database, backoffice, cli_case):  # noqa: F811
    case_id, version = cli_case
    now = datetime.now(timezone.utc)  # the command line acts on the real clock
    with SqlStore.open(database) as store:
        Engine(store).add_delegation("bob", "erin", starts=now, ends=now + timedelta(days=7), actor="bob", now=now,
                                     workflow="spend-approval")
    for acting in (Login("erin"), Login("root")):
        status, _, err = backoffice("approve", str(case_id), acting, "--as", "bob", "--role", "manager")
        assert status == 2 and "separation of duties" in err and "requested it" in err
    status, out, _ = backoffice("case", "show", str(case_id), "--json")
    assert (json.loads(out)["state"], json.loads(out)["version"]) == ("approve-large", version)


def test_editing_the_amount_is_refused_on_the_command_line(database, backoffice):  # noqa: F811
    seed_database(database)
    with SqlStore.open(database) as store:
        engine = Engine(store)
        case = started(deployed(engine))
        case = engine.transition(case.id, "review", actor=REVIEWER, expected_version=1, now=later(1))
    status, _, err = backoffice("case", "transition", str(case.id), "approve-small", "--expected-version", "2",
                                "--data", '{"amount": 500}', Login("rita"), "--role", "reviewer")
    assert status == 2 and "amount cannot change after intake" in err
    with SqlStore.open(database) as store:
        # One audit record per event of the case (its start and review), none for the refused edit.
        records = [r for r in store.audit_records() if r.case_id == case.id]
        assert len(records) == len(Engine(store).history(case.id)) == 2


def test_an_approval_task_is_never_reassigned_through_the_python_api(engine):
    # An administrator handing the vote to himself would choose the approver around the approval's rules.
    from backoffice.errors import ApprovalNotReassigned

    case = in_approval(deployed(engine))
    votes = [task for task in engine.tasks(case_id=case.id) if task.kind is TaskKind.APPROVAL]
    assert votes
    for vote in votes:
        with pytest.raises(ApprovalNotReassigned):
            engine.reassign(vote.id, actor=ADMIN, now=later(3), person=ADMIN.id)
        assert engine.task(vote.id).assignee == vote.assignee
