"""Governed change, attacked: a weakening deploy without a second person, a deployer approving their own
change, a different content approved than the one pending; and the control diff that tells them apart.

Through the Python API and the command line, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json

import pytest

from backoffice.definitions.control_diff import ControlChangeKind, diff_controls
from backoffice.definitions.loader import load_definition
from backoffice.engine import Actor, Engine
from backoffice.engine.versions import inline_contract
from backoffice.errors import ChangeApprovalRefused, ChangeNotPending, RoleRequired
from backoffice.store import SqlStore

from ..cli.test_engine_commands import backoffice, database  # noqa: F401 (fixtures: both databases)
from ..directory_fixtures import Login
from .spend import (DEFINITION, DEPLOYER, LOWER_QUORUM, OPERATOR, OTTO, PAT, QUINN, T0, deployed, engine,  # noqa: F401
                    later, seed_database, started, version_text)


@pytest.fixture
def weaker(tmp_path):
    path = tmp_path / "spend-approval.yaml"
    path.write_text(version_text(LOWER_QUORUM))
    return path


def kinds(*replacements: tuple[str, str], tmp_path) -> dict[ControlChangeKind, bool]:
    path = tmp_path / "candidate.yaml"
    path.write_text(version_text(*replacements))
    old, new = load_definition(DEFINITION), load_definition(path)
    diff = diff_controls(old, new, old_inputs=inline_contract(old), new_inputs=inline_contract(new))
    return {change.kind: change.weakens for change in diff.changes}


# --- the control diff ---

@pytest.mark.parametrize("replacements, kind", [
    ((LOWER_QUORUM,), ControlChangeKind.QUORUM),
    ((("approvers: [{role: manager}, {role: controller}]", "approvers: [{role: manager}, {role: buyer}]"),),
     ControlChangeKind.APPROVERS),
    ((("    evidence: {fields: [amount, item]}\n    separation_of_duties: {requester: true, actors_of: [review]}\n"
       "    delegation: true", "    evidence: {fields: [item]}\n    separation_of_duties: {requester: true, "
                             "actors_of: [review]}\n    delegation: true"),), ControlChangeKind.EVIDENCE),
    ((("    separation_of_duties: {requester: true, actors_of: [review]}\n    delegation: true",
       "    separation_of_duties: {requester: false, actors_of: [review]}\n    delegation: true"),),
     ControlChangeKind.SEPARATION_OF_DUTIES),
    ((("  - state: approve-small\n    approvers: [{role: manager}]\n",
       "  - state: approve-small\n    approvers: [{role: manager}]\n    delegation: true\n"),),
     ControlChangeKind.DELEGATION),
    ((("  - {state: review, reason: fraud,", "  - {state: review, reason: fraud, when: \"data.amount > 50.0\","),),
     ControlChangeKind.CONTROL),
    ((("guard: \"data.amount >= 1000.0\"", "guard: \"data.amount >= 5000.0\""),), ControlChangeKind.GUARD),
    ((("  - {from: order, to: done,", "  - {from: review, to: order, name: fast track, roles: [reviewer]}\n"
                                     "  - {from: order, to: done,"),), ControlChangeKind.WAY_AROUND),
    ((("  immutable_after_intake: [amount]\n", ""),), ControlChangeKind.IMMUTABLE_FIELDS),
    ((("  risk: [finance]\n", "  risk: []\n"),), ControlChangeKind.CHANGE_RULES),
    ((("    po_number: {type: string, required: false}\n", "    po_number: {type: string, required: false}\n"
                                                         "    cost_center: string\n"),), ControlChangeKind.CONTRACT),
])
def test_the_control_diff_flags_each_weakening(tmp_path, replacements, kind):
    found = kinds(*replacements, tmp_path=tmp_path)
    assert found.get(kind) is True, found


def test_a_control_dropped_weakens(tmp_path):
    found = kinds(("controls:\n  - {state: review, reason: fraud, description: \"A person checks the supplier and "
                   "the amount\"}\n", "controls: []\n"), tmp_path=tmp_path)
    assert found == {ControlChangeKind.CONTROL: True}


def test_tightening_is_listed_but_weakens_nothing(tmp_path):
    path = tmp_path / "candidate.yaml"
    path.write_text(version_text(("guard: \"data.amount >= 1000.0\"", "guard: \"data.amount >= 1000.0 && "
                                                                     "data.amount < 1000000.0\""),
                                 ("controls:\n", "controls:\n  - {state: order, reason: payment}\n")))
    diff = diff_controls(load_definition(DEFINITION), load_definition(path))
    assert diff.changes and not diff.weakens
    assert "controls kept or tightened" in diff.summary


# --- the deploy that waits, through the Python API ---

def test_a_weakening_deploy_waits_and_cases_keep_the_deployed_version(engine, weaker):
    deployed(engine)
    answer = engine.deploy(weaker, actor=DEPLOYER, now=later(1))
    assert answer.pending and answer.created and any("weakens: quorum" in line for line in answer.lines)
    assert [v.version for v in engine.versions("spend-approval")] == [1]
    assert started(engine).definition_version == 1
    [change] = engine.changes("spend-approval")
    assert (change.candidate.version, change.status, change.requested_by) == (2, "pending", DEPLOYER)
    assert engine.deploy(weaker, actor=DEPLOYER, now=later(2)).created is False  # the same content: the same change
    assert [r.action for r in engine.store.audit_records()][-2:] == ["change.pending", "case.started"]


@pytest.mark.parametrize("deployer", [Actor("lead", "change-approver"), Actor("Lead ", "change-approver"),
                                      Actor("root", roles=("change-approver", "process-owner"), on_behalf_of="LEAD")])
def test_the_deployer_cannot_approve_their_own_change(engine, weaker, deployer):
    deployed(engine)
    answer = engine.deploy(weaker, actor=DEPLOYER, now=later(1))
    with pytest.raises(ChangeApprovalRefused, match="lead deployed it"):
        engine.approve_change("spend-approval", 2, content_hash=answer.content_hash, actor=deployer, now=later(2))
    assert [v.version for v in engine.versions("spend-approval")] == [1]


def test_a_second_person_needs_the_change_approver_role_and_the_workflows_change_approvers(engine, weaker):
    deployed(engine)
    answer = engine.deploy(weaker, actor=DEPLOYER, now=later(1))
    with pytest.raises(RoleRequired, match="change-approver"):
        engine.approve_change("spend-approval", 2, content_hash=answer.content_hash,
                              actor=Actor("mia", "process-owner"), now=later(2))
    with pytest.raises(ChangeApprovalRefused, match="name its approvers"):
        engine.approve_change("spend-approval", 2, content_hash=answer.content_hash, actor=QUINN, now=later(2))
    assert engine.changes("spend-approval")[0].status == "pending"


def test_approving_another_content_than_the_pending_one_is_refused(engine, weaker, tmp_path):
    deployed(engine)
    answer = engine.deploy(weaker, actor=DEPLOYER, now=later(1))
    other = tmp_path / "other.yaml"
    other.write_text(version_text(LOWER_QUORUM, ("Spend approval\n", "Spend approval, quicker\n")))
    other_hash = engine.plan_deploy(other, actor="mallory", now=later(1)).candidate.content_hash
    for wrong in (other_hash, answer.content_hash[:12], ""):
        with pytest.raises(ChangeNotPending, match="expected the full content hash"):
            engine.approve_change("spend-approval", 2, content_hash=wrong, actor=OTTO, now=later(2))
    approved = engine.approve_change("spend-approval", 2, content_hash=answer.content_hash, actor=OTTO,
                                     now=later(2), note="quorum 1 agreed by the controller")
    assert (approved.version, approved.deployed_by) == (2, DEPLOYER)
    assert started(engine).definition_version == 2
    actions = [(r.action, r.actor) for r in engine.store.audit_records()]
    assert ("change.approved", "otto") in actions and ("workflow.deployed", DEPLOYER) in actions
    with pytest.raises(ChangeNotPending):
        engine.approve_change("spend-approval", 2, content_hash=answer.content_hash, actor=PAT, now=later(3))


def test_a_rejected_change_is_never_deployed(engine, weaker):
    deployed(engine)
    answer = engine.deploy(weaker, actor=DEPLOYER, now=later(1))
    with pytest.raises(RoleRequired):
        engine.reject_change("spend-approval", 2, content_hash=answer.content_hash, actor=OPERATOR, now=later(2))
    engine.reject_change("spend-approval", 2, content_hash=answer.content_hash, actor=PAT, now=later(2))
    assert engine.changes("spend-approval") == []
    assert engine.changes("spend-approval", status="rejected")[0].decided_by == "pat"
    with pytest.raises(ChangeNotPending):
        engine.approve_change("spend-approval", 2, content_hash=answer.content_hash, actor=OTTO, now=later(3))
    assert [v.version for v in engine.versions("spend-approval")] == [1]


def test_a_change_that_weakens_nothing_to_a_workflow_without_risk_deploys_at_once(engine, tmp_path):
    text = DEFINITION.read_text().replace("  risk: [finance]\n", "  risk: []\n")
    first, second = tmp_path / "v1.yaml", tmp_path / "v2.yaml"
    first.write_text(text)
    second.write_text(text.replace("version: 1\n", "version: 2\n", 1).replace(
        "Spend approval\n", "Spend approval (renamed)\n"))
    engine.deploy(first, actor=DEPLOYER, now=T0)
    assert engine.deploy(second, actor=DEPLOYER, now=later(1)).pending is False
    assert [v.version for v in engine.versions("spend-approval")] == [1, 2]


def test_operator_operations_need_the_operator_role_and_are_audited(engine):
    deployed(engine)
    for attempt in (lambda who: engine.set_mode("spend-approval", manual=True, now=later(1), actor=who),
                    lambda who: engine.migrate_cases("spend-approval", actor=who, now=later(1)),
                    lambda who: engine.replay(1, actor=who, now=later(1))):
        with pytest.raises(RoleRequired, match="operator"):
            attempt(Actor("mallory", "controller"))
    engine.set_mode("spend-approval", manual=True, now=later(2), actor=OPERATOR)
    [record] = [r for r in engine.store.audit_records() if r.action == "workflow.mode_changed"]
    assert (record.actor, record.role) == ("olga", "operator")


# --- the same from the command line ---

def test_a_weakening_deploy_waits_for_a_second_person_on_the_command_line(database, backoffice, weaker):  # noqa: F811
    seed_database(database)
    assert backoffice("deploy", str(DEFINITION), Login("lead"))[0] == 0
    status, out, _ = backoffice("check", str(weaker), "--against", str(DEFINITION))
    assert status == 0 and "weakens: quorum at 'approve-large': 2 -> 1 (fewer votes decide)" in out
    status, out, _ = backoffice("deploy", str(weaker), "--dry-run", Login("lead"))
    assert status == 0 and "would wait for a second person" in out and "weakens: quorum" in out
    assert backoffice("workflow", "changes")[1] == "no change waits for a second person\n"
    status, out, _ = backoffice("deploy", str(weaker), Login("lead"))
    assert status == 0 and "spend-approval version 2 waits for a second person: it is not deployed" in out
    [change] = json.loads(backoffice("workflow", "changes", "--json")[1])
    content = change["content_hash"]

    status, _, err = backoffice("workflow", "approve-change", "spend-approval", "2", "--hash", content,
                                Login("lead"), "--role", "change-approver")
    assert status == 2 and "lead deployed it" in err
    status, _, err = backoffice("workflow", "approve-change", "spend-approval", "2", "--hash", "0" * 64,
                                Login("pat"), "--role", "change-approver")
    assert status == 2 and "expected the full content hash" in err
    status, _, err = backoffice("workflow", "approve-change", "spend-approval", "2", "--hash", content,
                                Login("quinn"), "--role", "change-approver")
    assert status == 2 and "name its approvers" in err
    assert [v["version"] for v in json.loads(backoffice("workflow", "list", "--json")[1])] == [1]

    status, out, _ = backoffice("workflow", "approve-change", "spend-approval", "2", "--hash", content,
                                Login("pat"), "--role", "change-approver")
    assert status == 0 and "spend-approval version 2 is deployed" in out
    assert [v["version"] for v in json.loads(backoffice("workflow", "list", "--json")[1])] == [1, 2]
    with SqlStore.open(database) as store:
        actions = [(r.action, r.actor) for r in store.audit_records() if r.action.startswith(("change.", "workflow."))]
    assert actions[-3:] == [("change.pending", "lead"), ("change.approved", "pat"), ("workflow.deployed", "lead")]


def test_check_against_the_database_prints_the_control_diff(database, backoffice, weaker):  # noqa: F811
    seed_database(database)
    with SqlStore.open(database) as store:
        deployed(Engine(store))
    status, out, _ = backoffice("check", str(weaker), "--db", database)
    assert status == 0 and "1 change weakens a control" in out and "a second person with the change-approver" in out


def test_a_pending_change_approved_by_hand_in_the_database_is_named_by_audit_verify(engine, weaker):
    # Mallory cannot get a second person, so he marks the pending change approved himself.
    import sqlalchemy as sa

    from backoffice.engine.audit_verify import verify
    from backoffice.store.tables import definition_changes

    deployed(engine)
    engine.deploy(weaker, actor=DEPLOYER, now=later(1))
    assert verify(engine.store).ok
    with engine.store.engine.begin() as connection:
        connection.execute(sa.update(definition_changes).values(status="approved", decided_by="pat"))
    report = verify(engine.store)
    assert not report.ok
    assert str(report.first).startswith("definition_changes row 1 was changed outside the engine: field")
