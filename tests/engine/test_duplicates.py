"""The duplicate rule: the same work started twice becomes the duplicate exception, never a second piece of work."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from backoffice.engine.duplicates import DUPLICATE_RULE_ACTOR
from backoffice.engine.tasks import TaskKind

from .service_request import ANN, DESK, T0, later, payload

RULE = (
    ("  duplicate:\n    description: The same request is already open\n    resolver: {queue: service-desk}\n"
     "    raised_in: [triage]\n",
     "  duplicate:\n    description: The same request is already open\n    resolver: {queue: service-desk}\n"
     "    raised_in: [new, triage]\n"),
    ("\nfallback:\n",
     "\nduplicates: {fields: [requester_email, summary], reason: duplicate, within: 7d}\n\nfallback:\n"),
)


@pytest.fixture
def deduplicating(engine, definition_copy):
    engine.deploy(definition_copy(*RULE), actor="lead", now=T0)
    return engine


def test_the_same_work_again_starts_as_the_duplicate_exception_routed_to_its_resolver(deduplicating):
    engine = deduplicating
    first = engine.start_case("service-request", payload(), actor=ANN, now=T0)
    again = engine.start_case("service-request", payload(description="Still jammed"), actor=ANN, now=later(2))
    assert again.id != first.id
    raised = engine.store.open_exception(again.id)
    assert raised is not None and raised.reason == "duplicate"
    assert engine.store.open_exception(first.id) is None
    [task] = engine.tasks(case_id=again.id)
    assert (task.kind, task.assignment.queue) == (TaskKind.EXCEPTION, "service-desk")
    last = engine.history(again.id)[-1]
    assert (last.activity, last.reason, last.resource, last.attributes["duplicate_of"]) == (
        "raise duplicate", "duplicate", DUPLICATE_RULE_ACTOR, first.id)
    assert f"as case {first.id}" in last.attributes["note"]
    # Resolved as the taxonomy says: a confirmed duplicate is cancelled.
    resolved = engine.resolve_exception(again.id, actor=DESK, now=later(3))
    assert resolved.state == "cancelled"


def test_other_values_or_an_earlier_case_outside_the_window_are_not_duplicates(deduplicating):
    engine = deduplicating
    engine.start_case("service-request", payload(), actor=ANN, now=T0)
    other = engine.start_case("service-request", payload(summary="Screen flickers"), actor=ANN, now=later(1))
    much_later = engine.start_case("service-request", payload(), actor=ANN, now=T0 + timedelta(days=7, seconds=1))
    for case in (other, much_later):
        assert engine.store.open_exception(case.id) is None
        assert engine.tasks(case_id=case.id) == [] and engine.case(case.id).state == "new"


def test_a_retried_intake_with_its_idempotency_key_is_the_same_case_not_a_duplicate(deduplicating):
    engine = deduplicating
    first = engine.start_case("service-request", payload(), actor=ANN, now=T0, idempotency_key="mail-1")
    again = engine.start_case("service-request", payload(), actor=ANN, now=later(1), idempotency_key="mail-1")
    assert again.id == first.id and engine.store.open_exception(first.id) is None


def test_concurrent_intakes_of_the_same_work_make_one_case_and_duplicates(deduplicating):
    engine = deduplicating
    barrier = threading.Barrier(8)
    started: list[int] = []

    def intake() -> None:
        barrier.wait()
        started.append(engine.start_case("service-request", payload(), actor=ANN, now=T0).id)

    threads = [threading.Thread(target=intake) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    originals = [case_id for case_id in started if engine.store.open_exception(case_id) is None]
    assert len(started) == 8 and len(originals) == 1


def test_the_supplier_invoice_template_sends_the_same_invoice_captured_twice_to_duplicate_review(engine):
    from backoffice.definitions import LIBRARY

    from backoffice.tour.playbooks import SUPPLIER_INVOICE

    engine.deploy(LIBRARY / "supplier-invoice.yaml", actor="lead", now=T0)
    clerk = ANN
    first = engine.start_case("supplier-invoice", SUPPLIER_INVOICE.payload, actor=clerk, now=T0)
    rescanned = dict(SUPPLIER_INVOICE.payload, invoice_id="INV-004712")  # a second capture of the same paper
    again = engine.start_case("supplier-invoice", rescanned, actor=clerk, now=later(1))
    assert engine.case(first.id).state == "received"
    assert engine.case(again.id).state == "duplicate-review"
    [task] = engine.tasks(case_id=again.id)
    assert (task.kind, task.assignment.role) == (TaskKind.EXCEPTION, "ap-manager")
