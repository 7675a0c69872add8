"""The intake form generator on its own: a contract's schema to fields, posted fields back to a payload, and back."""

from __future__ import annotations

from pathlib import Path

from backoffice.definitions.contract_reader import load_contract
from backoffice.web.intake_form import IntakeForm, pattern_example, posted_from

CONTRACT = load_contract(Path(__file__).resolve().parent / "data" / "contracts" / "supply-request.v1.yaml")
FORM = IntakeForm(CONTRACT.json_schema())
POSTED = {"f.reference": "SR-0001", "f.title": "Paper", "f.category": "office", "f.total_amount": "1,250.50",
          "f.currency": "EUR", "f.urgent": "true", "f.deliver_to.building": "North", "f.deliver_to.floor": "",
          "f.lines.__rows": "3", "f.lines.0.item": "A4", "f.lines.0.quantity": "2", "f.lines.1.item": "",
          "f.lines.1.quantity": "", "f.lines.2.item": "Toner", "f.lines.2.quantity": "1.5"}


def test_posted_fields_make_a_typed_payload_without_empty_fields_or_rows():
    posted, rows = FORM.act(POSTED)
    assert rows == {"f.lines": 3}
    assert FORM.read(posted, rows) == {
        "reference": "SR-0001", "title": "Paper", "category": "office", "total_amount": 1250.5, "currency": "EUR",
        "urgent": True, "deliver_to": {"building": "North"},
        "lines": [{"item": "A4", "quantity": 2}, {"item": "Toner", "quantity": "1.5"}]}


def test_an_error_in_a_row_after_an_empty_one_goes_beside_the_row_it_was_typed_in():
    posted, rows = FORM.act(POSTED)
    errors = FORM.errors(CONTRACT.validate(FORM.read(posted, rows)), rows, posted)
    assert errors == {"f.lines.2.quantity": "Expected a whole number."}


def test_removing_a_row_moves_the_rows_after_it_up():
    posted, rows = FORM.act(POSTED, "remove:f.lines:0")
    assert rows == {"f.lines": 2}
    assert (posted["f.lines.1.item"], posted["f.lines.__rows"]) == ("Toner", "2")
    assert "f.lines.2.item" not in posted


def test_adding_rows_stops_at_the_contracts_maximum():
    posted, rows = dict(POSTED), {}
    for _ in range(6):
        posted, rows = FORM.act(posted, "add:f.lines")
    [lines] = [node for node in FORM.nodes(rows, posted, {}) if node.name == "f.lines"]
    assert rows["f.lines"] == lines.row_count == 5 and not lines.can_add          # max_items: 5


def test_a_case_data_shown_in_the_form_reads_back_to_the_same_data():
    data = {"reference": "SR-0002", "urgent": False, "deliver_to": {"building": "South", "floor": 2},
            "lines": [{"item": "Pens", "quantity": 3}]}
    posted = posted_from(data)
    assert posted["f.urgent"] == "false" and posted["f.lines.__rows"] == "1"
    assert FORM.read(*FORM.act(posted)) == data


def test_simple_patterns_get_an_example_and_others_none():
    assert pattern_example("^PR-[0-9]{6}$") == "PR-123456"
    assert pattern_example("^[A-Z]{2}[0-9]{2}$") == "AB12"
    assert pattern_example("^(a|b)$") is None and pattern_example("PR-") is None
