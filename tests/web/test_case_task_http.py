"""The holder of a case's task on the case page: moves shown with the core's answer, completed, and needs_info raised."""

from __future__ import annotations

from backoffice.engine import Actor

from .purchase_request import BUYER, FORM, PAYLOAD, REQUESTER, WORKFLOW, deploy_purchase_request


def _in_review(site, *, claimed: bool = True) -> tuple[int, int]:
    """A purchase request accepted into review; its task claimed by the buyer unless told. Return (case, task)."""
    deploy_purchase_request(site.engine, site.clock.now)
    engine, now = site.engine, site.clock.now
    case = engine.start_case(WORKFLOW, PAYLOAD, actor=Actor(REQUESTER), now=now)
    case = engine.transition(case.id, "review-request", actor=Actor(BUYER), expected_version=case.version, now=now)
    [task] = engine.tasks(case_id=case.id)
    if claimed:
        engine.claim(task.id, actor=Actor(BUYER), now=now)
    return case.id, task.id


def test_the_front_door_starts_the_library_purchase_request_from_its_form(site):
    deploy_purchase_request(site.engine, site.clock.now)
    answer = site.start(REQUESTER, WORKFLOW, FORM)
    assert answer.status_code == 303, answer.text
    [case] = site.engine.cases(workflow=WORKFLOW)
    assert case.state == "submitted" and case.data["amount"] == 4800 and case.data["items"][0]["quantity"] == 6


def test_the_task_holder_sees_the_moves_and_the_exceptions_of_the_state(site):
    case_id, task_id = _in_review(site)
    page = site.client(BUYER).get(f"/cases/{case_id}").text
    assert "Your task: Procurement review" in page and f"You hold task {task_id}" in page
    # Both ways out of the review are a buyer's (withdrawing too), and the core allows them now.
    assert 'name="to" value="check-budget">' in page and 'name="to" value="rejected" class="danger">' in page
    # The exceptions the workflow allows in review, needs_info first.
    assert 'value="needs_info" checked' in page and 'value="quote_missing"' in page
    # Someone who does not hold the task sees none of it.
    assert "Your task" not in site.client(REQUESTER).get(f"/cases/{case_id}").text


def test_a_move_the_core_refuses_is_disabled_with_its_reason(site):
    deploy_purchase_request(site.engine, site.clock.now)
    engine, now = site.engine, site.clock.now
    # From 10,000 the review needs a supplier's quote (the guard): without one, the move is refused.
    large = engine.start_case(WORKFLOW, {**PAYLOAD, "amount": 25000}, actor=Actor(REQUESTER), now=now)
    large = engine.transition(large.id, "review-request", actor=Actor(BUYER), expected_version=large.version, now=now)
    [task] = engine.tasks(case_id=large.id)
    engine.claim(task.id, actor=Actor(BUYER), now=now)
    page = site.client(BUYER).get(f"/cases/{large.id}").text
    assert 'value="check-budget" disabled' in page and "Not now:" in page and "has(data.quote)" in page
    bea = site.client(BUYER)
    answer = bea.post(f"/cases/{large.id}/move", data=site.form(bea, {"to": "check-budget"}))
    assert answer.status_code == 409 and 'id="task-error"' in answer.text
    assert engine.case(large.id).state == "review-request"


def test_the_holder_completes_the_task_through_the_core(site):
    case_id, task_id = _in_review(site)
    bea = site.client(BUYER)
    answer = bea.post(f"/cases/{case_id}/move", data=site.form(bea, {"to": "check-budget"}))
    assert answer.status_code == 303, answer.text
    assert site.engine.case(case_id).state == "check-budget"
    assert site.engine.task(task_id).closed_by == BUYER
    [event] = [e for e in site.engine.history(case_id) if e.activity == "request is complete"]
    assert event.resource == BUYER and event.role == "procurement-buyer"


def test_needs_info_is_raised_by_the_holder_and_lands_with_the_requester(site):
    case_id, _ = _in_review(site)
    bea = site.client(BUYER)
    answer = bea.post(f"/cases/{case_id}/exceptions",
                      data=site.form(bea, {"reason": "needs_info", "note": "Which campaign?"}))
    assert answer.status_code == 303, answer.text
    assert site.engine.case(case_id).state == "waiting-on-requester"
    assert site.engine.store.open_exception(case_id) is not None
    assert "Which campaign?" in site.client(REQUESTER).get(f"/cases/{case_id}").text


def test_without_holding_the_task_nothing_moves(site):
    case_id, _ = _in_review(site, claimed=False)
    bea = site.client(BUYER)
    for path, values in ((f"/cases/{case_id}/move", {"to": "check-budget"}),
                         (f"/cases/{case_id}/exceptions", {"reason": "needs_info"})):
        assert bea.post(path, data=site.form(bea, values)).status_code == 404
    assert site.engine.case(case_id).state == "review-request"


def test_a_reason_the_state_does_not_allow_is_refused_with_the_cores_words(site):
    case_id, _ = _in_review(site)
    bea = site.client(BUYER)
    answer = bea.post(f"/cases/{case_id}/exceptions", data=site.form(bea, {"reason": "no_budget"}))
    assert answer.status_code == 409 and "no_budget" in answer.text and "review-request" in answer.text
    assert site.engine.case(case_id).state == "review-request"
