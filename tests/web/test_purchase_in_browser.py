"""A whole purchase request in Debian's Chromium, by four people in four browser contexts, against a real server.

Uvicorn serves the web app on a loopback port over SQLite, with the library's purchase request
deployed (its budget check and purchase order are automated steps). Each person signs in
through the sign-in page with a local account:

- alice requests: she sends the intake form (generated from the contract) with the supplier's
  quote attached, later answers the buyer's question on her case, and sees the order sent;
- bea is a procurement buyer who also owns budgets: she accepts the request on the board,
  claims its review in My work, asks alice for information, sends the request on, is refused
  as its approver (separation of duties: shown before the click, refused by the core when
  posted anyway), and tries to drag it past its approval on the board (refused on the card);
- ivan owns the budget: he approves with evidence in the Approvals inbox;
- hana leads the team: her dashboard counts the request in the backlog, then started and ended.

The worker runs in process (the real `Worker`, as a service account granted the `worker` role,
with the example actions) between the steps, at the test's clock. Every page visited passes
axe-core; every outcome is asserted in the engine's store too (states, tasks, votes, events,
evidence, audit). BACKOFFICE_SCREENSHOTS=folder keeps a PNG of each step's page.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from backoffice.engine.tasks import TaskKind
from backoffice.services.case_view import case_audit

from ..directory_fixtures import WORKER_ACCOUNT
from .axe import assert_accessible, axe_context
from .browser import needs_chromium, shot
from .purchase_request import BUDGET_OWNER, BUYER, FORM, LEAD, REQUESTER, WORKFLOW, deploy_purchase_request, worker
from .site import PASSWORD

pytestmark = needs_chromium

# A small real PDF: the evidence store sniffs what it keeps.
QUOTE = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
         b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")


@pytest.fixture
def sqlite_site(sqlite_site):
    """The SQLite site with the purchase request deployed (served as `live`)."""
    deploy_purchase_request(sqlite_site.engine, sqlite_site.clock.now)
    return sqlite_site


def signed_in(browser, live, person: str):
    """A new browser context for `person`, signed in through the sign-in page; return its page."""
    context = axe_context(browser, viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{live.url}/sign-in")
    page.get_by_label("Person id").fill(person)
    page.get_by_label("Password").fill(PASSWORD)
    submit(page, page.get_by_role("button", name="Sign in"))
    page.wait_for_url(f"{live.url}/")
    return page


def visit(page, what: str, name: str) -> None:
    """Check the page as it is now with axe-core, and keep its picture as step `name`."""
    assert_accessible(page, what)
    shot(page, f"purchase-{name}")


def later(live, minutes: int = 10) -> None:
    """Let time pass on the server's clock (the people do not all act in the same minute)."""
    live.clock.advance(minutes=minutes)


def menu(page, name: str) -> None:
    """Follow the link `name` of the page's main menu."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name).click()


def submit(page, control) -> None:
    """Click a button that sends its form, and wait for the page the answer leads to (never the one before)."""
    with page.expect_navigation():
        control.click()


def flash(page) -> str:
    """The one-line message the page shows after an act (its first status)."""
    return page.get_by_role("status").first.inner_text()


def test_a_purchase_request_from_the_front_door_to_the_order_by_four_people(browser, live):
    engine = live.engine
    hana = signed_in(browser, live, LEAD)
    hana.goto(f"{live.url}/dashboards?workflow={WORKFLOW}")
    assert hana.locator("#chart-throughput-desc").text_content().endswith("0 started and 0 ended in the window.")
    visit(hana, "the dashboards before the request", "00-dashboards-before")

    # 1. alice sends the request at the front door, the supplier's quote attached.
    alice = signed_in(browser, live, REQUESTER)
    menu(alice, "Start a request")
    alice.get_by_role("link", name="Purchase request approval").click()
    assert_accessible(alice, "the purchase request's intake form")
    for name, value in FORM.items():
        field = alice.locator("#" + name.replace(".", "-"))
        if field.evaluate("element => element.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    alice.get_by_label("Supplier quote", exact=True).set_input_files(
        files=[{"name": "quote.pdf", "mimeType": "application/pdf", "buffer": QUOTE}])
    visit(alice, "the intake form filled in", "01-intake-form")
    submit(alice, alice.get_by_role("button", name="Send the request").last)
    alice.wait_for_url(re.compile(rf"{live.url}/cases/\d+$"))
    case_id = int(alice.url.rsplit("/", 1)[1])
    assert flash(alice) == f"Your request {case_id} is started."
    link = alice.get_by_role("link", name="Download supplier quote")
    with alice.expect_download() as download:
        link.click()
    assert Path(download.value.path()).read_bytes() == QUOTE
    visit(alice, "the case page after intake", "02-case-started")
    case = engine.case(case_id)
    assert (case.state, case.requester, case.data["amount"]) == ("submitted", REQUESTER, 4800)
    assert engine.store.evidence_names(case_id) == {"supplier quote"}

    later(live)
    hana.reload()
    assert hana.locator("#chart-backlog-desc").text_content() == "1 open case in 1 queue: Submitted 1."

    # 2. bea accepts it on the board, claims its review in My work, and asks alice which campaign.
    later(live)
    bea = signed_in(browser, live, BUYER)
    bea.goto(f"{live.url}/board/{WORKFLOW}")
    visit(bea, "the board", "03-board")
    bea.drag_and_drop(f"#card-{case_id}", "section[data-state='review-request']")
    bea.locator(f"section[data-state='review-request'] #card-{case_id}").wait_for()
    assert engine.case(case_id).state == "review-request"
    [review] = engine.tasks(case_id=case_id)
    menu(bea, "My work")
    visit(bea, "My work", "04-my-work")
    submit(bea, bea.get_by_role("button", name=f"Claim task {review.id}"))
    assert flash(bea).startswith(f"Task {review.id} is yours until")
    assert engine.task(review.id).claimed_by == BUYER
    bea.get_by_role("link", name=f"Case {case_id}").first.click()
    bea.wait_for_url(f"{live.url}/cases/{case_id}")
    assert bea.get_by_role("heading", name="Your task: Procurement review").is_visible()
    visit(bea, "the case page with the buyer's task", "05-case-review")
    bea.get_by_label("Needs info", exact=True).check()
    bea.get_by_label("What you need, in a sentence").fill("Which campaign is it for? Add the brief.")
    submit(bea, bea.get_by_role("button", name="Raise the exception"))
    assert flash(bea) == "Needs info is raised: the request waits in waiting-on-requester."
    assert_accessible(bea, "the case page after raising needs_info")
    assert engine.case(case_id).state == "waiting-on-requester"
    assert engine.store.open_exception(case_id) is not None

    # 3. alice answers on her case, found under My requests.
    later(live)
    menu(alice, "My requests")
    visit(alice, "my requests with a question", "06-my-requests")
    alice.get_by_role("link", name=re.compile(rf"\b{case_id}\b")).first.click()
    alice.wait_for_url(f"{live.url}/cases/{case_id}")
    assert "Which campaign is it for?" in alice.locator("#answer-heading + p").inner_text()
    visit(alice, "the case page asking the requester", "07-case-needs-info")
    alice.get_by_role("textbox", name="Your answer").fill("The winter campaign; the brief is in the quote.")
    submit(alice, alice.get_by_role("button", name="Send my answer").last)
    alice.wait_for_url(f"{live.url}/cases/{case_id}")
    assert_accessible(alice, "the case page after the answer")
    assert engine.case(case_id).state == "review-request"
    assert engine.store.open_exception(case_id) is None

    # 4. bea claims the review again and sends the request on; the worker checks the budget.
    later(live)
    bea.goto(f"{live.url}/work")
    [again] = [task for task in engine.tasks(case_id=case_id) if task.state == "review-request"]
    submit(bea, bea.get_by_role("button", name=f"Claim task {again.id}"))
    assert_accessible(bea, "My work after a claim")
    assert engine.task(again.id).claimed_by == BUYER
    bea.goto(f"{live.url}/cases/{case_id}")
    submit(bea, bea.get_by_role("button", name="Request is complete (to check-budget)"))
    assert flash(bea) == f"Task {again.id} is done: the request moves to check-budget."
    assert_accessible(bea, "the case page after the review")
    assert engine.case(case_id).state == "check-budget"
    later(live, 1)
    assert worker(engine).run_once(live.clock.now).done == 1
    assert engine.case(case_id).state == "approve-budget-owner"

    # 5. bea, a budget owner too, is refused as the approver: shown before the click, refused by the core.
    later(live)
    menu(bea, "Approvals")
    refusal = bea.locator(f"#refusal-{case_id}")
    assert "separation of duties" in refusal.inner_text() and "review-request" in refusal.inner_text()
    approve = bea.locator(f"article[aria-labelledby='approval-{case_id}'] button[value='approve']")
    assert approve.is_disabled()
    visit(bea, "the approvals inbox refusing the reviewer", "08-approvals-refused")
    token = bea.locator(f"article[aria-labelledby='approval-{case_id}'] input[name='csrf_token']").input_value()
    posted = bea.request.post(f"{live.url}/approvals/{case_id}/vote",
                              form={"csrf_token": token, "decision": "approve", "note": "mine anyway"},
                              max_redirects=0)
    assert posted.status == 403 and "separation of duties" in posted.text()
    [approval_round] = {task.round for task in engine.tasks(case_id=case_id, status=None, limit=100)
                        if task.kind is TaskKind.APPROVAL}
    assert list(engine.store.votes(case_id, approval_round)) == []
    # Nor does the board let her past the approval.
    bea.goto(f"{live.url}/board/{WORKFLOW}")
    # The board scrolls sideways: brought to the approval's column, the card and create-po are both in view.
    bea.locator(".board").evaluate("(board, at) => { board.scrollLeft = board.querySelector(at).offsetLeft - "
                                   "board.offsetLeft; }", "section[data-state='approve-budget-owner']")
    bea.drag_and_drop(f"#card-{case_id}", "section[data-state='create-po']")
    card_refusal = bea.locator(f"#refusal-{case_id}")
    card_refusal.wait_for(state="visible")
    assert "left only by its decision" in card_refusal.inner_text()
    assert engine.case(case_id).state == "approve-budget-owner"
    visit(bea, "the board refusing a move past the approval", "09-board-refused")

    # 6. ivan approves with evidence in his Approvals inbox.
    later(live)
    ivan = signed_in(browser, live, BUDGET_OWNER)
    menu(ivan, "Approvals")
    assert ivan.locator(f"#refusal-{case_id}").count() == 0
    ivan.get_by_label("Comment").fill("Within the marketing budget for Q1.")
    ivan.get_by_label("Name").fill("budget report")
    ivan.get_by_label("Where it is kept").fill("erp://budgets/CC-4100/2024-Q1")
    visit(ivan, "the approvals inbox of the budget owner", "10-approvals")
    submit(ivan, ivan.locator(f"article[aria-labelledby='approval-{case_id}'] button[value='approve']"))
    assert flash(ivan) == f"You approved case {case_id}; it is in create-po."
    assert_accessible(ivan, "the approvals inbox after the vote")
    [vote] = engine.store.votes(case_id, approval_round)
    assert (vote.approver, vote.decision, vote.note) == (BUDGET_OWNER, "approve", "Within the marketing budget for Q1.")
    assert engine.store.evidence_names(case_id) == {"supplier quote", "budget report"}
    assert engine.case(case_id).state == "create-po"

    # 7. The worker sends the order; the case page shows it done, its timeline, and its verified audit records.
    later(live, 1)
    assert worker(engine).run_once(live.clock.now).done == 1
    later(live)
    alice.goto(f"{live.url}/cases/{case_id}")
    assert alice.locator(".facts .badge").first.inner_text() == "done"
    assert "PO-000412" in alice.locator("#data-heading + dl").inner_text()
    assert alice.locator("#audit-heading + p .badge").inner_text() == "Verified"
    timeline = alice.locator("#timeline-heading + table tbody")
    assert timeline.locator("tr").count() == len(engine.history(case_id))
    visit(alice, "the case page of the order sent", "11-case-done")
    case = engine.case(case_id)
    assert (case.state, case.data["po_number"]) == ("done", "PO-000412")
    assert [(event.activity, event.resource) for event in engine.history(case_id)
            if event.attributes.get("to_state")] == [
        ("submitted", REQUESTER), ("accept", BUYER), ("raise needs_info", BUYER),
        ("resolve needs_info", REQUESTER), ("request is complete", BUYER), ("1000 to 10000", WORKER_ACCOUNT),
        ("approve", BUDGET_OWNER), ("purchase order sent", WORKER_ACCOUNT)]
    audit = case_audit(engine, case_id)
    assert audit.ok and audit.unverified is None and len(audit.records) >= len(engine.history(case_id))

    # hana's dashboard counts the request started and ended.
    later(live)
    hana.goto(f"{live.url}/dashboards?workflow={WORKFLOW}")
    assert hana.locator("#chart-throughput-desc").text_content().endswith("1 started and 1 ended in the window.")
    visit(hana, "the dashboards after the request", "12-dashboards-after")
