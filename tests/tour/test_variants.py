"""Each simulated case gets its own copy of a playbook's payload: its own ids, and dates moved to its arrival."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from backoffice.definitions import LIBRARY, load_definition
from backoffice.tour.playbooks import PLAYBOOKS, PURCHASE_REQUEST, SUPPLIER_INVOICE, WRITTEN_FOR
from backoffice.tour.variants import case_payload, variants

ARRIVAL = datetime(2026, 11, 9, 10, 30, tzinfo=timezone.utc)  # a Monday, like the playbooks' own


def test_ids_take_the_cases_number_and_dates_move_by_whole_days():
    payload = case_payload(PURCHASE_REQUEST.payload, variants("purchase-request")[2], number=57, arrival=ARRIVAL)
    days = timedelta(days=(ARRIVAL.date() - WRITTEN_FOR.date()).days)
    assert payload["request_id"] == "PR-000057"
    assert payload["needed_by"] == (date.fromisoformat(PURCHASE_REQUEST.payload["needed_by"]) + days).isoformat()
    assert datetime.fromisoformat(payload["submitted_at"]).date() == ARRIVAL.date()
    assert payload["amount"] == PURCHASE_REQUEST.payload["amount"]
    invoice = case_payload(SUPPLIER_INVOICE.payload, variants("supplier-invoice")[0], number=12, arrival=ARRIVAL)
    # The supplier's own number changes too, or every invoice would be a duplicate of the first.
    assert invoice["supplier_invoice_number"] == "AOS-2026-0012"


def test_a_variant_changes_the_fields_that_send_a_case_down_another_path():
    small = case_payload(PURCHASE_REQUEST.payload, variants("purchase-request")[0], number=1, arrival=ARRIVAL)
    assert small["amount"] == 640.0 and small["items"][0]["unit_price"] == 640.0


@pytest.mark.parametrize("playbook", PLAYBOOKS, ids=lambda playbook: playbook.workflow)
def test_every_variants_moves_name_states_of_its_workflow(playbook):
    definition = load_definition(LIBRARY / f"{playbook.workflow}.yaml")
    for variant in variants(playbook.workflow):
        assert set(variant.moves) <= set(definition.states), variant.name
        assert {move.to for move in variant.moves.values()} <= set(definition.states), variant.name
