"""The front door over HTTP: the catalogue, a form generated from the contract, errors beside fields, lines without JS."""

from __future__ import annotations

import re

from .site import CLERK, csrf_of

GOOD = {"f.reference": "SR-0001", "f.title": "Paper for the printer", "f.category": "office",
        "f.total_amount": "49.90", "f.currency": "EUR", "f.urgent": "false", "f.needed_by": "2024-03-11",
        "f.deliver_to.building": "North", "f.deliver_to.floor": "3", "f.lines.__rows": "2",
        "f.lines.0.item": "A4 paper", "f.lines.0.quantity": "10", "f.lines.1.item": "Toner", "f.lines.1.quantity": "1"}


def _error_of(page: str, field_id: str) -> str:
    found = re.search(rf'<p class="field-error" id="{field_id}-error">([^<]*)</p>', page)
    assert found, f"no error shown beside {field_id}"
    return found.group(1)


def test_the_catalogue_lists_the_active_workflows(site):
    page = site.client("alice").get("/requests/new").text
    assert 'href="/requests/new/purchase-approval"' in page and 'href="/requests/new/supply-request"' in page


def test_the_form_is_generated_from_the_contract(site):
    page = site.client("alice").get("/requests/new/supply-request").text
    assert '<input id="f-reference" name="f.reference" type="text"' in page
    assert '<select id="f-category" name="f.category"' in page and '<option value="furniture">' in page
    assert '<input id="f-needed_by" name="f.needed_by" type="date"' in page
    assert '<select id="f-urgent" name="f.urgent"' in page                     # a required yes/no
    assert '<legend>Deliver to</legend>' in page and 'name="f.deliver_to.floor"' in page
    assert 'name="f.lines.0.item"' in page and 'value="add:f.lines"' in page
    assert 'inputmode="decimal"' in page                                       # money
    assert "order_number" not in page                                          # the workflow fills it
    assert 'for="f-reference"' in page and 'aria-describedby="f-reference-hint"' in page


def test_errors_are_shown_beside_their_fields_and_every_value_is_kept(site):
    wrong = {**GOOD, "f.reference": "SR-12", "f.lines.1.quantity": "zero", "f.deliver_to.building": "",
             "f.total_amount": "90000"}
    answer = site.start("alice", "supply-request", wrong)
    assert answer.status_code == 422
    page = answer.text
    assert _error_of(page, "f-reference") == "Expected text like SR-1234."
    assert _error_of(page, "f-lines-1-quantity") == "Expected a whole number."
    assert _error_of(page, "f-deliver_to-building") == "Expected this required field."
    assert _error_of(page, "f-total_amount") == "Expected at most 50000."
    assert 'value="SR-12"' in page and 'value="zero"' in page and 'value="Paper for the printer"' in page
    assert 'aria-invalid="true"' in page and 'role="alert"' in page
    assert site.engine.cases() == []                                           # nothing started


def test_a_good_form_starts_a_case_through_the_engine_with_typed_values(site):
    answer = site.start("alice", "supply-request", GOOD)
    assert answer.status_code == 303
    [case] = site.engine.cases(workflow="supply-request")
    assert answer.headers["location"] == f"/cases/{case.id}"
    assert case.requester == "alice" and case.queue == "supplies"
    assert case.data == {"reference": "SR-0001", "title": "Paper for the printer", "category": "office",
                         "total_amount": 49.9, "currency": "EUR", "urgent": False, "needed_by": "2024-03-11",
                         "deliver_to": {"building": "North", "floor": 3},
                         "lines": [{"item": "A4 paper", "quantity": 10}, {"item": "Toner", "quantity": 1}]}
    assert [r.action for r in site.engine.store.audit_records(chain=f"case:{case.id}")][0] == "case.started"


def test_the_same_form_sent_twice_starts_one_case(site):
    client = site.client("alice")
    page = client.get("/requests/new/supply-request").text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    data = {"csrf_token": csrf_of(page), "idempotency_key": key, "form_action": "submit", **GOOD}
    first, second = client.post("/requests/new/supply-request", data=data), client.post(
        "/requests/new/supply-request", data=data)
    assert first.headers["location"] == second.headers["location"]
    assert len(site.engine.cases()) == 1


def test_lines_are_added_and_removed_without_javascript_keeping_what_was_typed(site):
    client = site.client("alice")
    page = client.get("/requests/new/supply-request").text
    token = csrf_of(page)
    added = client.post("/requests/new/supply-request", data={
        "csrf_token": token, "form_action": "add:f.lines", "f.lines.__rows": "1", "f.lines.0.item": "Pens",
        "f.title": "Kept"})
    assert added.status_code == 200
    assert 'name="f.lines.1.item"' in added.text and 'value="Pens"' in added.text and 'value="Kept"' in added.text
    removed = client.post("/requests/new/supply-request", data={
        "csrf_token": token, "form_action": "remove:f.lines:0", "f.lines.__rows": "2", "f.lines.0.item": "Pens",
        "f.lines.1.item": "Clips"})
    assert 'name="f.lines.1.item"' not in removed.text
    assert '<input id="f-lines-0-item" name="f.lines.0.item" type="text" value="Clips"' in removed.text
    assert site.engine.cases() == []


def test_an_attachment_is_kept_by_the_evidence_storage_and_a_markup_file_refused(site):
    refused = site.start("alice", "purchase-approval", {"f.item": "laptop", "f.amount": "1800"},
                         **{"attachment:quote": ("quote.html", b"<html><script>x</script></html>", "text/html")})
    assert refused.status_code == 422
    assert "the file is markup" in refused.text.lower() and site.engine.cases() == []
    answer = site.start("alice", "purchase-approval", {"f.item": "laptop", "f.amount": "1800"},
                        **{"attachment:quote": ("quote.pdf", b"%PDF-1.7 quote", "application/pdf")})
    assert answer.status_code == 303
    [case] = site.engine.cases()
    assert site.engine.store.evidence_names(case.id) == {"quote"}
    [record] = [r for r in site.engine.store.audit_records(chain=f"case:{case.id}") if r.action == "evidence.attached"]
    assert "sha256:" in record.detail


def test_an_unknown_workflow_has_no_form(site):
    answer = site.client("alice").get("/requests/new/no-such-flow")
    assert answer.status_code == 404 and "no-such-flow" in answer.text


def test_the_clerk_of_the_workflow_sees_the_started_case_in_their_queue(site):
    answer = site.start("alice", "supply-request", GOOD)
    assert site.client(CLERK).get(answer.headers["location"]).status_code == 200


def test_a_pattern_is_explained_by_an_example_of_its_shape(site):
    page = site.client("alice").get("/requests/new/supply-request").text
    assert "Your own reference. Written like SR-1234." in page
