"""Moving running cases to a new version: those whose state exists there move, the others stay, each with its reason."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backoffice.engine import verify
from backoffice.engine.migration import MIGRATE_ACTIVITY
from backoffice.engine.timers import TimerStatus
from backoffice.errors import StaleVersion, TransitionNotAllowed, UnknownWorkflow, WorkflowNotActive

from .service_request import ANN, DESK, OPERATOR, RESOLVER, T0, later, payload

# Version 2 calls "blocked" "on-hold": cases blocked under version 1 have no state to go to.
VERSION_2 = (("version: 1\n", "version: 2\n"), ("blocked", "on-hold"))


@pytest.fixture
def running_cases(deployed):
    """Cases on version 1: one new, one in progress, one blocked, one done."""
    new = deployed.start_case("service-request", payload(), actor=ANN, now=T0)
    started = deployed.start_case("service-request", payload(), actor=ANN, now=T0)
    started = deployed.transition(started.id, "triage", actor=DESK, expected_version=1, now=later(1))
    working = deployed.transition(started.id, "in-progress", actor=DESK, expected_version=2, now=later(1))
    stuck = deployed.start_case("service-request", payload(), actor=ANN, now=T0)
    for to, actor in (("triage", DESK), ("in-progress", DESK), ("blocked", RESOLVER)):
        stuck = deployed.transition(stuck.id, to, actor=actor, expected_version=stuck.version, now=later(1))
    finished = deployed.start_case("service-request", payload(), actor=ANN, now=T0)
    for to, actor in (("triage", DESK), ("in-progress", DESK)):
        finished = deployed.transition(finished.id, to, actor=actor, expected_version=finished.version, now=later(1))
    finished = deployed.transition(finished.id, "done", actor=RESOLVER, expected_version=finished.version,
                                   now=later(2), data={"resolution_note": "fixed"})
    return deployed, {"new": new, "working": working, "stuck": stuck, "finished": finished}


def test_open_cases_whose_state_exists_move_and_the_others_stay_with_their_reason(running_cases, definition_copy):
    engine, cases = running_cases
    engine.deploy(definition_copy(*VERSION_2), actor="lead", now=later(3))
    migration = engine.migrate_cases("service-request", actor=OPERATOR, now=later(4))
    assert migration.to_version == 2
    assert sorted(case.id for case in migration.moved) == sorted([cases["new"].id, cases["working"].id])
    [left] = migration.left
    assert left.case.id == cases["stuck"].id and left.reason == "version 2 has no state 'blocked'"
    versions = {name: engine.case(case.id).definition_version for name, case in cases.items()}
    assert versions == {"new": 2, "working": 2, "stuck": 1, "finished": 1}
    moved = engine.case(cases["working"].id)
    assert (moved.state, moved.version) == ("in-progress", cases["working"].version + 1)
    last = engine.history(moved.id)[-1]
    assert (last.activity, last.version, last.attributes["from_version"]) == (MIGRATE_ACTIVITY, 2, 1)
    assert engine.store.audit_records()[-1].action == "cases.migrated"
    assert verify(engine.store).ok


def test_a_moved_case_runs_by_the_new_versions_rules(running_cases, definition_copy):
    engine, cases = running_cases
    engine.deploy(definition_copy(*VERSION_2), actor="lead", now=later(3))
    engine.migrate_cases("service-request", actor=OPERATOR, now=later(4))
    working = engine.case(cases["working"].id)
    with pytest.raises(TransitionNotAllowed, match="no state 'blocked'"):
        engine.transition(working.id, "blocked", actor=RESOLVER, expected_version=working.version, now=later(5))
    held = engine.transition(working.id, "on-hold", actor=RESOLVER, expected_version=working.version, now=later(5))
    assert held.state == "on-hold"
    # The case left behind still runs on version 1, where "blocked" exists.
    stuck = engine.case(cases["stuck"].id)
    assert engine.transition(stuck.id, "in-progress", actor=RESOLVER, expected_version=stuck.version,
                             now=later(5)).definition_version == 1


def test_a_dry_run_says_what_would_move_and_changes_nothing(running_cases, definition_copy):
    engine, cases = running_cases
    engine.deploy(definition_copy(*VERSION_2), actor="lead", now=later(3))
    before = engine.store.audit_heads()
    migration = engine.migrate_cases("service-request", actor=OPERATOR, now=later(4), dry_run=True)
    assert len(migration.moved) == 2 and len(migration.left) == 1 and migration.dry_run
    assert engine.store.audit_heads() == before
    assert all(engine.case(case.id).definition_version == 1 for case in cases.values())


def test_moved_cases_get_the_new_versions_timers_without_firing_fired_ones_again(running_cases, definition_copy):
    engine, cases = running_cases
    working = cases["working"]
    # "halfway" (50% of resolution) fired under version 1; version 2 adds a 90% reminder.
    [halfway] = [f for f in engine.fire_timers(T0 + timedelta(days=1, hours=5)) if f.timer.case_id == working.id]
    assert halfway.timer.name == "halfway"
    extra = ("  - {name: late, kind: escalation",
             "  - {name: very late, kind: reminder, sla: resolution, at: 90%, target: {role: resolver}}\n"
             "  - {name: late, kind: escalation")
    engine.deploy(definition_copy(*VERSION_2, extra), actor="lead", now=later(30))
    engine.migrate_cases("service-request", actor=OPERATOR, now=later(31))
    pending = {t.name for t in engine.timers(working.id) if t.status is TimerStatus.PENDING}
    assert pending == {"nearly late", "very late", "late"}


def test_a_case_changed_while_migrating_is_left_to_run_again(running_cases, definition_copy, monkeypatch):
    engine, cases = running_cases
    engine.deploy(definition_copy(*VERSION_2), actor="lead", now=later(3))
    original = engine._migrate

    def racing(case, new, *, actor, now):
        if case.id == cases["new"].id:
            raise StaleVersion(case_id=case.id, expected=case.version, actual=case.version + 1)
        return original(case, new, actor=actor, now=now)

    monkeypatch.setattr(engine, "_migrate", racing)
    migration = engine.migrate_cases("service-request", actor=OPERATOR, now=later(4))
    assert [c.id for c in migration.moved] == [cases["working"].id]
    assert {(left.case.id, left.reason.startswith("it changed while migrating")) for left in migration.left} == {
        (cases["new"].id, True), (cases["stuck"].id, False)}


def test_migrating_to_an_unknown_or_inactive_version_is_refused(running_cases, definition_copy):
    engine, _ = running_cases
    with pytest.raises(UnknownWorkflow):
        engine.migrate_cases("service-request", actor=OPERATOR, now=later(4), to_version=7)
    draft = definition_copy(("version: 1\n", "version: 2\nstatus: draft\n"), name="draft.yaml")
    engine.deploy(draft, actor="lead", now=later(3))
    with pytest.raises(WorkflowNotActive):
        engine.migrate_cases("service-request", actor=OPERATOR, now=later(4))
