"""The approvals inbox over HTTP: the request, its evidence and why it is mine; a separation-of-duties refusal
shown before the click, and the same refusal from the core when the vote is posted anyway; votes on someone
else's approval refused."""

from __future__ import annotations

from .work_fixtures import at_approval


def test_the_inbox_shows_the_request_its_evidence_and_why_it_is_mine(site):
    case = at_approval(site.engine)
    page = site.client("ivan").get("/approvals")
    assert page.status_code == 200
    assert f"Case {case.id}</a>" in page.text and "dms://quotes/77" in page.text and "laptop" in page.text
    assert "names you" in page.text and "2 approving votes of 3 decide" in page.text
    assert "You cannot approve this" not in page.text
    assert "Nothing waits for your vote" in site.client("bea").get("/approvals").text


def test_a_separation_of_duties_refusal_is_shown_before_the_click_and_holds_when_posted(site):
    case = at_approval(site.engine, requester="hana")
    hana = site.client("hana")
    page = hana.get("/approvals").text
    assert "You cannot approve this" in page and "they requested it" in page
    assert f'name="decision" value="approve" disabled aria-describedby="refusal-{case.id}"' in page
    # Posted anyway, by a crafted form: the core refuses the very same vote.
    posted = hana.post(f"/approvals/{case.id}/vote", data=site.form(hana, {"decision": "approve"}, page="/approvals"))
    assert posted.status_code == 403 and "separation of duties: hana may not approve" in posted.text
    assert site.engine.case(case.id).state == "approve" and site.engine.store.votes(case.id, case.version) == []


def test_a_vote_for_someone_elses_approval_is_refused(site):
    case = at_approval(site.engine)
    for person in ("bea", "dave"):
        client = site.client(person)
        answer = client.post(f"/approvals/{case.id}/vote", data=site.form(client, {"decision": "approve"}))
        assert answer.status_code == 403, person
    assert site.engine.case(case.id).state == "approve"


def test_approvers_vote_with_a_comment_and_evidence_and_the_quorum_moves_the_case(site):
    case = at_approval(site.engine, quote=False)
    ivan, jade = site.client("ivan"), site.client("jade")
    assert "Before approving" in ivan.get("/approvals").text
    voted = ivan.post(f"/approvals/{case.id}/vote", data=site.form(ivan, {
        "decision": "approve", "note": "fair price", "evidence_name": "quote", "evidence_reference": "dms://q/1"}))
    assert voted.status_code == 303
    assert "quote" in site.engine.store.evidence_names(case.id)
    assert "fair price" in jade.get("/approvals").text
    jade.post(f"/approvals/{case.id}/vote", data=site.form(jade, {"decision": "approve"}))
    assert site.engine.case(case.id).state == "ordered"


def test_a_vote_that_is_neither_approve_nor_reject_is_refused(sqlite_site):
    case = at_approval(sqlite_site.engine)
    ivan = sqlite_site.client("ivan")
    answer = ivan.post(f"/approvals/{case.id}/vote", data=sqlite_site.form(ivan, {"decision": "maybe"}))
    assert answer.status_code == 422 and "the decision" in answer.text  # InputRefused, as over the API


def test_amounts_read_with_separators_and_two_decimals_on_the_case_the_approvals_and_the_board(sqlite_site):
    # One helper (services.display) writes them all: before, the pages said 24500.0.
    site = sqlite_site
    case = at_approval(site.engine, amount=24500.0)
    pages = {"case": site.client("alice").get(f"/cases/{case.id}").text,
             "approvals": site.client("hana").get("/approvals").text,
             "board": site.client("root").get("/board/purchase-approval").text}
    assert {name: ("24,500.00" in text, "24500.0" in text) for name, text in pages.items()} == {
        name: (True, False) for name in pages}
