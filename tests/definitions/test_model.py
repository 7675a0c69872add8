"""The definition model: each part validated on its own, and the helpers the engine runs on."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from pydantic import ValidationError
from ruamel.yaml import YAML

import backoffice.definitions
from backoffice.definitions import LIBRARY, Definition, Duration, StateKind
from backoffice.definitions.model import (Approval, ExceptionReason, Inputs, Owner, Party, RetryPolicy, Timer,
                                          Transition)
from backoffice.errors import UnknownState


@pytest.fixture(scope="module")
def template() -> dict:
    return YAML(typ="safe").load((LIBRARY / "service-request.yaml").read_text())


@pytest.fixture(scope="module")
def service_request(template) -> Definition:
    return Definition.model_validate(template)


def test_the_intake_to_resolution_lifecycle_is_expressible_as_is(service_request):
    kinds = {sid: state.kind for sid, state in service_request.states.items()}
    assert kinds == {"new": StateKind.INTAKE, "triage": StateKind.HUMAN_TASK, "in-progress": StateKind.HUMAN_TASK,
                     "waiting-on-requester": StateKind.WAITING, "blocked": StateKind.WAITING,
                     "done": StateKind.DONE, "cancelled": StateKind.CANCELLED}
    assert [service_request.states[s].title for s in ("new", "triage", "in-progress", "waiting-on-requester",
                                                      "blocked", "done")] == [
        "New", "Triage", "In progress", "Waiting on requester", "Blocked", "Done"]


def test_helpers_resolve_states_and_transitions(service_request):
    assert service_request.intake_state == "new"
    assert service_request.end_states == ("done", "cancelled")
    assert [t.label for t in service_request.allowed_transitions("triage")] == ["assign", "ask requester", "withdraw"]
    assert service_request.allowed_transitions("done") == ()
    assert service_request.queue_of("triage") == "service-desk"
    assert service_request.pauses_sla("blocked") and not service_request.pauses_sla("triage")
    assert service_request.approval("triage") is None and service_request.automated_step("triage") is None
    assert [c.reason for c in service_request.controls_at("triage")] == ["permissions"]


def test_an_unknown_state_is_a_user_error_with_a_suggestion(service_request):
    with pytest.raises(UnknownState, match="did you mean 'triage'"):
        service_request.state("triag")
    with pytest.raises(UnknownState):
        service_request.allowed_transitions("nowhere")


def test_guards_are_compiled_once_and_evaluate_on_the_case(service_request):
    resolve = next(t for t in service_request.transitions if t.name == "resolve")
    assert resolve.guard.test({"data": {"resolution_note": "replaced the badge"}})
    assert not resolve.guard.test({"data": {"resolution_note": ""}})
    assert [path for path, _ in service_request.expressions()][:2] == [
        ("proof_of_completion", "condition"), ("transitions", 6, "guard")]


def test_sla_due_counts_business_time_on_the_calendar(service_request):
    # Tuesday 24 December 2024, 16:00 in Amsterdam; 25 and 26 December are public holidays in NL.
    start = datetime(2024, 12, 24, 15, 0, tzinfo=timezone.utc)
    assert service_request.sla_due(start, "first_response").isoformat() == "2024-12-27T11:00:00+01:00"
    assert service_request.sla_due(start).isoformat() == "2024-12-31T16:00:00+01:00"


def test_the_model_is_frozen_and_serializes_back_to_the_yaml_names(service_request):
    with pytest.raises(ValidationError):
        service_request.title = "changed"
    dumped = service_request.model_dump(mode="json", by_alias=True)
    assert dumped["transitions"][6]["from"] == ["in-progress"]
    assert dumped["transitions"][6]["guard"] == "size(data.resolution_note) > 0"
    assert dumped["sla"]["resolution"] == "3d" and dumped["calendar"]["working_hours"] == ["08:30-17:30"]
    assert Definition.model_validate(dumped) == service_request


def test_unknown_fields_are_refused(template):
    with pytest.raises(ValidationError, match="extra"):
        Definition.model_validate(dict(template, colour="blue"))


@pytest.mark.parametrize("vague", ["the team", "team", "Everyone", "", "  ", "the finance team", "TBD"])
def test_the_owner_is_one_accountable_role_or_person(vague):
    with pytest.raises(ValidationError, match="accountable"):
        Owner(role=vague)


def test_an_owner_is_exactly_one_role_or_person():
    assert Owner(role="ap-team-lead").role == "ap-team-lead"
    with pytest.raises(ValidationError):
        Owner()
    with pytest.raises(ValidationError):
        Owner(role="a", person="b")


def test_a_party_is_exactly_one_of_role_queue_or_person():
    assert str(Party(queue="ap")) == "queue ap"
    with pytest.raises(ValidationError, match="exactly one"):
        Party(role="a", queue="b")


def test_inputs_are_a_contract_or_inline_fields_in_short_form():
    inline = Inputs.model_validate({"fields": {"amount": "number", "note": {"type": "string", "required": False}}})
    assert inline.fields["amount"].type == "number" and not inline.fields["note"].required
    with pytest.raises(ValidationError, match="one source"):
        Inputs.model_validate({"contract": "c.yaml", "fields": {"a": "string"}})


def test_a_transition_takes_one_state_or_a_list_and_a_cel_guard():
    transition = Transition.model_validate({"from": "a", "to": "b", "guard": "data.amount > 10"})
    assert transition.from_ == ["a"] and transition.label == "a -> b"
    with pytest.raises(ValidationError, match="CEL syntax error"):
        Transition.model_validate({"from": "a", "to": "b", "guard": "data.amount >"})


def test_quorum_and_votes_needed():
    approvers = [{"role": "a"}, {"role": "b"}, {"role": "c"}]
    assert Approval(state="s", approvers=approvers).votes_needed() == 1
    assert Approval(state="s", approvers=approvers, quorum="all").votes_needed() == 3
    assert Approval(state="s", approvers=approvers, quorum=2).votes_needed() == 2
    with pytest.raises(ValidationError, match="quorum"):
        Approval(state="s", approvers=approvers, quorum="most")


def test_an_exception_returns_somewhere_or_ends():
    assert ExceptionReason(resolver={"queue": "q"}, ends=True).ends is True
    with pytest.raises(ValidationError, match="returns_to"):
        ExceptionReason(resolver={"queue": "q"})
    with pytest.raises(ValidationError):
        ExceptionReason(resolver={"queue": "q"}, returns_to="a", ends=True)


def test_a_timer_fires_at_a_share_of_an_sla_or_after_a_duration():
    assert Timer(kind="escalation", sla="resolution", at="100%").at == 1.0
    assert Timer(kind="reminder", after="2d", state="waiting").after.days == 2
    with pytest.raises(ValidationError):
        Timer(kind="reminder", at="50%")
    with pytest.raises(ValidationError):
        Timer(kind="reminder", sla="resolution", at="50%", after="1d")
    with pytest.raises(ValidationError, match="percentage"):
        Timer(kind="reminder", sla="resolution", at="half")


def test_retry_policy_backs_off_by_its_factor_up_to_its_max():
    policy = RetryPolicy(attempts=5, backoff="1m", factor=2, max="3m")
    assert [policy.delay(n) for n in (1, 2, 3, 4)] == [60, 120, 180, 180]
    with pytest.raises(ValidationError):
        RetryPolicy(attempts=0)


def test_durations_are_value_objects():
    assert Duration.parse("1d12h") == Duration("1d12h", 0, 1, 43200)
    assert Duration.parse("2w").seconds == 14 * 86400
    with pytest.raises(ValueError, match="expected"):
        Duration.parse("soon")


def test_the_public_surface_of_definitions():
    assert set(backoffice.definitions.__all__) == {
        "LIBRARY", "Approval", "AutomatedStep", "BusinessCalendar", "CheckReport", "ControlReason", "Definition",
        "Duration", "ExceptionReason", "Expression", "Party", "Priority", "State", "StateKind", "Timer",
        "Transition", "check_definition", "load_definition"}
    assert all(hasattr(backoffice.definitions, name) for name in backoffice.definitions.__all__)
