"""Intake through one front door: the payload passes the inputs, a retry is the same case, routing decides."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from backoffice.definitions import Priority
from backoffice.engine import Actor, Engine
from backoffice.errors import ContractViolation, IdempotencyKeyReused
from backoffice.store import SqlStore

from .service_request import ANN, T0, later, payload


def test_a_case_starts_in_the_intake_state_with_its_payload(deployed):
    case = deployed.start_case("service-request", payload(), actor=ANN, now=T0)
    assert (case.state, case.version, case.definition_version) == ("new", 1, 1)
    assert case.requester == "ann" and case.created_at == case.updated_at == T0
    assert dict(case.data) == payload()
    assert deployed.case(case.id) == case


def test_every_violation_of_the_inputs_is_listed(deployed):
    with pytest.raises(ContractViolation) as refused:
        deployed.start_case("service-request", {"summary": 42, "category": "it"}, actor=ANN, now=T0)
    paths = [violation.path for violation in refused.value.violations]
    assert paths == ["$.summary", "$.description", "$.urgency", "$.requester_email"]
    message = str(refused.value)
    assert "4 violations" in message and "$.summary: expected text, got 42" in message
    assert deployed.cases() == []


def test_the_same_idempotency_key_returns_the_same_case(deployed):
    first = deployed.start_case("service-request", payload(), actor=ANN, now=T0, idempotency_key="mail-42")
    retry = deployed.start_case("service-request", payload(), actor=ANN, now=later(1), idempotency_key="mail-42")
    assert retry == first
    assert len(deployed.cases()) == 1
    assert len(deployed.history(first.id)) == 1


def test_a_key_sent_again_with_another_payload_is_refused(deployed):
    first = deployed.start_case("service-request", payload(), actor=ANN, now=T0, idempotency_key="mail-42")
    with pytest.raises(IdempotencyKeyReused) as refused:
        deployed.start_case("service-request", payload(summary="Other"), actor=ANN, now=T0,
                            idempotency_key="mail-42")
    assert refused.value.case_id == first.id


def test_concurrent_retries_with_one_key_make_one_case(deployed, database):
    # Each thread has its own engine and connections, as separate API processes would.
    def start(_: int) -> int:
        with SqlStore.open(database) as store:
            return Engine(store).start_case("service-request", payload(), actor=ANN, now=T0,
                                            idempotency_key="portal-7").id

    with ThreadPoolExecutor(8) as pool:
        ids = set(pool.map(start, range(16)))
    assert len(ids) == 1
    assert [case.id for case in deployed.cases()] == list(ids)


def test_routing_assigns_queue_and_priority_by_the_first_rule_that_decides_each(deployed):
    urgent_facilities = deployed.start_case("service-request", payload(category="facilities", urgency="high"),
                                            actor=ANN, now=T0)
    plain = deployed.start_case("service-request", payload(), actor=ANN, now=T0)
    assert (urgent_facilities.queue, urgent_facilities.priority) == ("facilities", Priority.HIGH)
    assert (plain.queue, plain.priority) == ("service-desk", Priority.NORMAL)


def test_the_actor_who_starts_a_case_is_its_requester(deployed):
    case = deployed.start_case("service-request", payload(), actor=Actor("desk-dan", "service-desk"), now=T0)
    assert case.requester == "desk-dan"
    assert deployed.history(case.id)[0].role == "service-desk"


def test_a_naive_time_is_refused(deployed):
    with pytest.raises(ValueError, match="no time zone"):
        deployed.start_case("service-request", payload(), actor=ANN, now=T0.replace(tzinfo=None))


def test_a_routing_rule_reading_an_absent_optional_field_does_not_match(engine, definition_copy):
    engine.deploy(definition_copy(("  - {name: urgent first,",
                                   "  - {name: finance, when: \"data.department == 'finance'\", queue: facilities}\n"
                                   "  - {name: urgent first,")), actor="lead", now=T0)
    assert engine.start_case("service-request", payload(), actor=ANN, now=T0).queue == "service-desk"
    assert engine.start_case("service-request", payload(department="finance"), actor=ANN,
                             now=T0).queue == "facilities"
