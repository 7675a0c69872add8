"""Transitions: checked against the case's own definition version, refused with a reason, never merged."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from backoffice.engine import Actor, Engine
from backoffice.errors import ContractViolation, StaleVersion, TransitionNotAllowed, UnknownCase
from backoffice.store import SqlStore

from .service_request import ANN, DESK, RESOLVER, T0, later, payload


def started(engine: Engine, **changes: object):
    return engine.start_case("service-request", payload(**changes), actor=ANN, now=T0)


def to_in_progress(engine: Engine):
    case = started(engine)
    case = engine.transition(case.id, "triage", actor=DESK, expected_version=case.version, now=later(1))
    return engine.transition(case.id, "in-progress", actor=DESK, expected_version=case.version, now=later(2))


def test_a_case_goes_from_intake_to_done(deployed):
    case = to_in_progress(deployed)
    done = deployed.transition(case.id, "done", actor=RESOLVER, expected_version=case.version, now=later(3),
                               data={"resolution_note": "Replaced the roller"})
    assert (done.state, done.previous_state, done.version) == ("done", "in-progress", 4)
    assert done.data["resolution_note"] == "Replaced the roller" and done.data["summary"] == "Printer jammed"
    assert done.updated_at == later(3) and done.created_at == T0
    assert deployed.case(case.id) == done


def test_entering_a_state_moves_the_work_to_its_queue(deployed):
    case = to_in_progress(deployed)
    assert case.queue == "resolver-groups"


def test_an_actor_outside_the_transitions_roles_is_refused(deployed):
    case = started(deployed)
    case = deployed.transition(case.id, "triage", actor=DESK, expected_version=1, now=later(1))
    with pytest.raises(TransitionNotAllowed) as refused:
        deployed.transition(case.id, "in-progress", actor=RESOLVER, expected_version=2, now=later(2))
    error = refused.value
    assert (error.case_id, error.state, error.to) == (case.id, "triage", "in-progress")
    assert "is for role service-desk, and carl acts as 'resolver'" in error.reason
    assert deployed.case(case.id).version == 2


def test_the_built_in_requester_role_is_whoever_started_the_case(deployed):
    case = started(deployed)
    case = deployed.transition(case.id, "triage", actor=DESK, expected_version=1, now=later(1))
    case = deployed.transition(case.id, "waiting-on-requester", actor=DESK, expected_version=2, now=later(2))
    with pytest.raises(TransitionNotAllowed):
        deployed.transition(case.id, "triage", actor=Actor("kim"), expected_version=3, now=later(3))
    answered = deployed.transition(case.id, "triage", actor=ANN, expected_version=3, now=later(3))
    assert answered.state == "triage"
    assert deployed.history(case.id)[-1].role == "requester"


def test_a_required_field_must_be_filled(deployed):
    case = to_in_progress(deployed)
    with pytest.raises(TransitionNotAllowed) as refused:
        deployed.transition(case.id, "done", actor=RESOLVER, expected_version=case.version, now=later(3),
                            data={"resolution_note": "  "})
    assert "requires resolution_note" in refused.value.reason


def test_a_false_guard_refuses_the_move(deployed, engine, definition_copy):
    engine.deploy(definition_copy(("version: 1", "version: 2"),
                                  ("guard: \"size(data.resolution_note) > 0\"",
                                   "guard: \"size(data.resolution_note) > 10\"")), actor="lead", now=T0)
    case = to_in_progress(engine)
    with pytest.raises(TransitionNotAllowed) as refused:
        engine.transition(case.id, "done", actor=RESOLVER, expected_version=case.version, now=later(3),
                          data={"resolution_note": "Fixed"})
    assert "size(data.resolution_note) > 10" in refused.value.reason and "is false" in refused.value.reason


def test_a_move_the_definition_does_not_have_names_the_allowed_ones(deployed):
    case = started(deployed)
    with pytest.raises(TransitionNotAllowed) as refused:
        deployed.transition(case.id, "done", actor=DESK, expected_version=1, now=later(1))
    assert refused.value.reason.endswith("expected one of triage, cancelled")
    with pytest.raises(TransitionNotAllowed, match="did you mean 'triage'"):
        deployed.transition(case.id, "triag", actor=DESK, expected_version=1, now=later(1))


def test_an_ended_case_moves_no_more(deployed):
    case = started(deployed)
    case = deployed.transition(case.id, "cancelled", actor=ANN, expected_version=1, now=later(1))
    with pytest.raises(TransitionNotAllowed, match="has ended in 'cancelled'"):
        deployed.transition(case.id, "triage", actor=DESK, expected_version=2, now=later(2))


def test_a_stale_version_is_refused_and_nothing_is_written(deployed):
    case = started(deployed)
    deployed.transition(case.id, "triage", actor=DESK, expected_version=1, now=later(1))
    with pytest.raises(StaleVersion) as refused:
        deployed.transition(case.id, "cancelled", actor=ANN, expected_version=1, now=later(2))
    assert (refused.value.expected, refused.value.actual) == (1, 2)
    assert deployed.case(case.id).state == "triage"
    assert len(deployed.history(case.id)) == 2


def test_two_writers_with_the_same_version_one_wins_the_other_is_refused(deployed, database):
    case = started(deployed)
    deployed.transition(case.id, "triage", actor=DESK, expected_version=1, now=later(1))
    targets = ["in-progress", "waiting-on-requester", "cancelled"] * 4

    def move(to: str) -> str:
        with SqlStore.open(database) as store:
            try:
                Engine(store).transition(case.id, to, actor=Actor("bob", "service-desk"), expected_version=2,
                                         now=later(2))
                return "moved"
            except StaleVersion:
                return "stale"

    with ThreadPoolExecutor(len(targets)) as pool:
        outcomes = list(pool.map(move, targets))
    assert outcomes.count("moved") == 1 and outcomes.count("stale") == len(targets) - 1
    assert deployed.case(case.id).version == 3
    assert len(deployed.history(case.id)) == 3


def test_a_case_keeps_the_rules_of_its_version_after_a_new_one_removes_a_move(deployed, definition_copy):
    old = started(deployed)
    old = deployed.transition(old.id, "triage", actor=DESK, expected_version=1, now=later(1))
    # Version 2 lets nobody ask the requester from triage any more.
    deployed.deploy(definition_copy(("version: 1", "version: 2"),
                                    ("{from: [triage, in-progress], to: waiting-on-requester,",
                                     "{from: in-progress, to: waiting-on-requester,")), actor="lead", now=later(2))
    new = started(deployed)
    new = deployed.transition(new.id, "triage", actor=DESK, expected_version=1, now=later(3))
    assert deployed.transition(old.id, "waiting-on-requester", actor=DESK, expected_version=2,
                               now=later(4)).state == "waiting-on-requester"
    with pytest.raises(TransitionNotAllowed, match="version 2 of service-request has no transition"):
        deployed.transition(new.id, "waiting-on-requester", actor=DESK, expected_version=2, now=later(4))


def test_data_that_breaks_the_inputs_is_refused(deployed):
    case = to_in_progress(deployed)
    with pytest.raises(ContractViolation) as refused:
        deployed.transition(case.id, "blocked", actor=RESOLVER, expected_version=case.version, now=later(3),
                            data={"urgency": 3})
    assert [violation.path for violation in refused.value.violations] == ["$.urgency"]
    assert deployed.case(case.id).state == "in-progress"
    asked = deployed.can_transition(case.id, "blocked", actor=RESOLVER, now=later(3), data={"urgency": 3})
    assert not asked and "$.urgency: expected text, got 3" in asked.reason


def test_can_transition_answers_without_moving_the_case(deployed):
    case = started(deployed)
    assert deployed.can_transition(case.id, "triage", actor=DESK, now=later(1))
    refusal = deployed.can_transition(case.id, "done", actor=DESK, now=later(1))
    assert not refusal and "no transition from 'new' to 'done'" in refusal.reason
    assert deployed.case(case.id).version == 1


def test_an_unknown_case_is_named(deployed):
    with pytest.raises(UnknownCase, match="no case 404"):
        deployed.transition(404, "triage", actor=DESK, expected_version=1, now=T0)
