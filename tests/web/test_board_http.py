"""The board over HTTP: columns with counts and ages, a move accepted, a move past an approval refused by the
core and explained on the card (form and JSON), a stale card refused, and a case not mine answered as absent."""

from __future__ import annotations

from backoffice.definitions import LIBRARY
from backoffice.engine.controls import gated_for_every_case
from backoffice.readmodels import viewer_of
from backoffice.readmodels.board import board

from ..api.live_server import ADMIN, T0
from .work_fixtures import at_approval, prepared, started


def test_the_board_has_a_column_per_state_with_counts_and_ages(site):
    at_approval(site.engine)
    started(site.engine)
    site.clock.advance(hours=30)
    page = site.client("root").get("/board/purchase-approval")
    assert page.status_code == 200
    for state in ("new", "prepare", "approve", "ordered", "rejected"):
        assert f'data-state="{state}"' in page.text
    assert 'aria-label="1 cases">1</span>' in page.text and "Age 1d 6h" in page.text
    assert "A control: a case leaves only by its decision" in page.text
    assert "purchase-approval" in site.client("root").get("/board").text


def test_a_card_moved_past_an_approval_is_refused_on_the_card(site):
    case = at_approval(site.engine)
    hana = site.client("hana")
    form = {"case_id": case.id, "to": "ordered", "expected_version": site.engine.case(case.id).version}
    answer = hana.post("/board/purchase-approval/move", data=site.form(hana, form))
    assert answer.status_code == 409
    assert f'id="refusal-{case.id}">' in answer.text and "left only by its decision" in answer.text
    as_json = hana.post("/board/purchase-approval/move", data=site.form(hana, form),
                        headers={"Accept": "application/json"})
    assert as_json.status_code == 409 and as_json.json()["moved"] is False
    assert "left only by its decision" in as_json.json()["refusal"]
    assert site.engine.case(case.id).state == "approve"


def test_a_card_moves_when_the_core_allows_and_a_stale_card_is_refused(site):
    case = started(site.engine)
    alice = site.client("alice")
    form = {"case_id": case.id, "to": "prepare", "expected_version": case.version}
    moved = alice.post("/board/purchase-approval/move", data=site.form(alice, form),
                       headers={"Accept": "application/json"})
    assert moved.status_code == 200 and moved.json()["state"] == "prepare"
    again = alice.post("/board/purchase-approval/move", data=site.form(alice, {**form, "to": "new"}))
    assert again.status_code == 409 and "version" in again.text
    assert site.engine.case(case.id).state == "prepare"


def test_a_move_missing_a_required_field_is_explained_on_the_card(sqlite_site):
    case = prepared(sqlite_site.engine)
    bea = sqlite_site.client("bea")
    form = {"case_id": case.id, "to": "approve", "expected_version": case.version}
    answer = bea.post("/board/purchase-approval/move", data=sqlite_site.form(bea, form))
    assert answer.status_code == 409 and "supplier" in answer.text.split(f'id="refusal-{case.id}">')[1][:400]
    assert sqlite_site.engine.case(case.id).state == "prepare"


def test_a_card_of_a_case_i_may_not_see_is_absent(sqlite_site):
    case = started(sqlite_site.engine)
    dave = sqlite_site.client("dave")
    form = {"case_id": case.id, "to": "cancelled", "expected_version": case.version}
    assert dave.post("/board/purchase-approval/move", data=sqlite_site.form(dave, form)).status_code == 404
    assert f"Case {case.id}<" not in dave.get("/board/purchase-approval").text
    assert dave.get("/board/no-such-workflow").status_code == 404


def test_only_the_states_the_core_gates_for_every_case_are_marked_as_controls(sqlite_site):
    # Procurement review has controls with conditions (software, no known supplier): the core gates some
    # cases there, by a buyer's decision, not a vote; the column is no control, and says nothing of Approvals.
    engine = sqlite_site.engine
    engine.deploy(LIBRARY / "purchase-request.yaml", actor=ADMIN, now=T0)
    columns = {c.state: c for c in board(engine, viewer_of(engine, "root"), "purchase-request", now=T0).columns}
    marked = {state for state, column in columns.items() if column.control}
    assert marked == {"approve-line-manager", "approve-budget-owner", "approve-finance", "approve-executive"}
    assert all(columns[state].approval for state in marked)
    definition = engine.running("purchase-request", 1).definition
    assert definition.controls_at("review-request") and not gated_for_every_case(definition, "review-request")
    page = sqlite_site.client("root").get("/board/purchase-request").text
    review = page[page.index('data-state="review-request"'):page.index('data-state="waiting-on-requester"')]
    assert "A control" not in review and 'board-column control" data-state="approve-finance"' in page
