"""Exceptions: raised where the taxonomy allows, routed to the resolver, resolved back; needs info pauses the SLA."""

from __future__ import annotations

import pytest

from backoffice.engine import Actor
from backoffice.engine.tasks import TaskKind
from backoffice.errors import (ContractViolation, ExceptionNotAllowed, NoOpenException, NotEligibleForTask,
                               RoleRequired, UnknownExceptionReason)

from ..directory_fixtures import seed
from .service_request import ANN, DESK, RESOLVER, later, payload


def in_triage(engine):
    case = engine.start_case("service-request", payload(), actor=ANN, now=later(0))
    return engine.transition(case.id, "triage", actor=DESK, expected_version=case.version, now=later(0))


def test_needs_info_goes_back_to_the_requester_and_returns_to_triage(deployed):
    case = in_triage(deployed)
    waiting = deployed.raise_exception(case.id, "needs_info", actor=DESK, now=later(1), note="which printer?")
    assert waiting.state == "waiting-on-requester"
    [task] = deployed.tasks(case_id=case.id)
    assert (task.kind, task.assignee, task.reason) == (TaskKind.EXCEPTION, "ann", "needs_info")
    with pytest.raises(NotEligibleForTask, match="is for person ann"):
        deployed.resolve_exception(case.id, actor=DESK, now=later(2))
    assert deployed.resolve_exception(case.id, actor=ANN, now=later(2)).state == "triage"
    event = deployed.history(case.id)[-1]
    assert (event.activity, event.reason) == ("resolve needs_info", "needs_info")
    with pytest.raises(NoOpenException):
        deployed.resolve_exception(case.id, actor=ANN, now=later(2))


def test_needs_info_pauses_the_sla_by_the_business_time_spent_waiting(deployed):
    case = in_triage(deployed)
    due_before = deployed.tasks(case_id=case.id)[0].due_at
    deployed.raise_exception(case.id, "needs_info", actor=DESK, now=later(1))
    # Monday 11:00 to Tuesday 11:00 in Amsterdam: 6.5 business hours on Monday and 2.5 on Tuesday stood still.
    deployed.resolve_exception(case.id, actor=ANN, now=later(25))
    due_after = deployed.tasks(case_id=case.id)[0].due_at
    calendar = deployed.running("service-request").definition.business_calendar()
    paused = calendar.business_seconds_between(later(1), later(25))
    assert paused == 9 * 3600
    assert calendar.business_seconds_between(due_before, due_after) == paused


def test_an_exception_is_refused_outside_its_raised_in_states(deployed):
    case = in_triage(deployed)
    with pytest.raises(ExceptionNotAllowed, match="'third_party_delay' cannot be raised on case 1 in 'triage'; "
                                                  "expected a case in in-progress"):
        deployed.raise_exception(case.id, "third_party_delay", actor=DESK, now=later(1))
    with pytest.raises(UnknownExceptionReason, match="did you mean 'needs_info'"):
        deployed.raise_exception(case.id, "need_info", actor=DESK, now=later(1))


def test_an_exception_that_ends_the_case_routes_to_its_queue_and_cancels_on_resolution(deployed):
    case = in_triage(deployed)
    assert deployed.raise_exception(case.id, "duplicate", actor=DESK, now=later(1)).state == "triage"
    [task] = deployed.tasks(case_id=case.id)
    assert (task.queue, task.reason) == ("service-desk", "duplicate")
    assert deployed.resolve_exception(case.id, actor=DESK, now=later(2)).state == "cancelled"


def test_a_resolver_exception_returns_to_in_progress(deployed):
    case = in_triage(deployed)
    case = deployed.transition(case.id, "in-progress", actor=DESK, expected_version=case.version, now=later(1))
    assert deployed.raise_exception(case.id, "third_party_delay", actor=RESOLVER, now=later(1)).state == "blocked"
    assert deployed.resolve_exception(case.id, actor=RESOLVER, now=later(2)).state == "in-progress"


def test_the_requester_answers_needs_info_with_the_data_asked_for(deployed):
    case = in_triage(deployed)
    deployed.raise_exception(case.id, "needs_info", actor=DESK, now=later(1), note="which department?")
    with pytest.raises(ContractViolation, match="department"):
        deployed.resolve_exception(case.id, actor=ANN, now=later(2), data={"department": 42})
    assert deployed.case(case.id).state == "waiting-on-requester"           # refused: nothing moved
    resolved = deployed.resolve_exception(case.id, actor=ANN, now=later(2), note="finance",
                                          data={"department": "finance"})
    assert (resolved.state, resolved.data["department"]) == ("triage", "finance")
    assert resolved.data["summary"] == "Printer jammed"                     # the rest kept
    event = deployed.history(case.id)[-1]
    assert event.attributes["data"] == {"department": "finance"}
    record = [r for r in deployed.store.audit_records(chain=f"case:{case.id}")][-1]
    assert '"data":{"department":"finance"}' in record.detail


def test_only_those_who_work_the_workflow_raise_its_exceptions(deployed):
    # An exception moves a case: reading it (an auditor), or having started it where the work is
    # another's, is not enough. Refused in the core, so every interface refuses it alike.
    seed(deployed, {"audra": ["auditor"]})
    case = in_triage(deployed)
    for outsider in (Actor("audra"), ANN):
        with pytest.raises(RoleRequired, match="may not raise 'needs_info'"):
            deployed.raise_exception(case.id, "needs_info", actor=outsider, now=later(1))
    assert deployed.case(case.id).state == "triage"
    assert [event.activity for event in deployed.history(case.id)].count("raise needs_info") == 0
    # Those who work it may: here the desk.
    assert deployed.raise_exception(case.id, "needs_info", actor=DESK, now=later(1)).state == "waiting-on-requester"

