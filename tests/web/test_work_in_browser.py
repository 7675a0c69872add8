"""My work, approvals, exceptions, the board and administration in Debian's Chromium: each page works,
passes axe-core, and is photographed (BACKOFFICE_SHOTS). The board is tried by drag and drop: a move
past an approval refused (the reason shown on the card), and one accepted."""

from __future__ import annotations

import re

import pytest

from ..api.live_server import ADMIN, LiveServer
from .axe import assert_accessible, axe_context, csp_violations
from .browser import needs_chromium, shot
from .site import PASSWORD
from .test_exceptions_admin_http import needs_info
from .work_fixtures import at_approval, prepared, started, weaker_purchase, with_service_requests

pytestmark = needs_chromium


@pytest.fixture
def served(sqlite_site):
    with LiveServer(sqlite_site.app) as server:
        yield sqlite_site, server.url


def signed_in(browser, url: str, person: str):
    """Return a page signed in as `person` through the sign-in form (in a context axe can be injected into)."""
    context = axe_context(browser, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{url}/sign-in")
    page.fill("#person", person)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
    return page


def test_my_work_lists_claims_in_bulk_and_refreshes_itself(browser, served):
    site, url = served
    first = prepared(site.engine)
    page = signed_in(browser, url, "bea")
    page.clock.install()
    page.goto(f"{url}/work")
    assert page.locator(f"text=Case {first.id}").count() == 1
    assert_accessible(page, "My work")
    shot(page, "work")
    # New work arrives; the list shows it at its next poll, with no reload and the ticked box kept.
    page.check(f"#pick-{site.engine.tasks(case_id=first.id)[0].id}")
    second = prepared(site.engine, item="chair")
    page.clock.run_for(21_000)
    page.locator(f"text=Case {second.id}").wait_for()
    assert page.is_checked(f"#pick-{site.engine.tasks(case_id=first.id)[0].id}")
    page.select_option("#bulk-action", "claim")
    page.click("text=Apply to ticked tasks")
    page.locator("text=1 of 1 done").wait_for()
    assert_accessible(page, "the results of a bulk act")
    assert site.engine.tasks(case_id=first.id)[0].claimed_by == "bea"


def test_the_approvals_inbox_refuses_before_the_click_and_an_approver_votes(browser, served):
    site, url = served
    own = at_approval(site.engine, requester="hana")
    theirs = at_approval(site.engine, quote=False)
    page = signed_in(browser, url, "hana")
    page.goto(f"{url}/approvals")
    assert page.is_disabled(f"#approval-{own.id} >> xpath=ancestor::article//button[@value='approve']")
    assert "they requested it" in page.locator(f"#refusal-{own.id}").inner_text()
    assert_accessible(page, "the approvals inbox")
    shot(page, "approvals")
    page.fill(f"#evidence-name-{theirs.id}", "quote")
    page.fill(f"#evidence-ref-{theirs.id}", "dms://quotes/9")
    page.fill(f"#note-{theirs.id}", "price checked")
    page.locator(f"#approval-{theirs.id} >> xpath=ancestor::article//button[@value='approve']").click()
    page.locator(f"text=You approved case {theirs.id}").wait_for()
    assert [vote.approver for vote in site.engine.store.votes(theirs.id, theirs.version)] == ["hana"]


def test_a_board_drag_past_an_approval_is_refused_on_the_card_and_a_drag_the_core_allows_moves(browser, served):
    site, url = served
    waiting = at_approval(site.engine)
    new = started(site.engine)
    page = signed_in(browser, url, "hana")
    refused_csp = csp_violations(page)
    page.goto(f"{url}/board/purchase-approval")
    assert_accessible(page, "the board")
    page.drag_and_drop(f"#card-{waiting.id}", "section[data-state='ordered']")
    refusal = page.locator(f"#refusal-{waiting.id}")
    refusal.wait_for(state="visible")
    assert "left only by its decision" in refusal.inner_text()
    assert site.engine.case(waiting.id).state == "approve"
    shot(page, "board-refused")
    assert_accessible(page, "the board with a refusal on a card")
    alice = signed_in(browser, url, "alice")
    alice.goto(f"{url}/board/purchase-approval")
    alice.drag_and_drop(f"#card-{new.id}", "section[data-state='prepare']")
    alice.locator(f"section[data-state='prepare'] #card-{new.id}").wait_for()
    assert site.engine.case(new.id).state == "prepare"
    shot(alice, "board-accepted")
    assert refused_csp == []


def test_exceptions_page_resolves_the_oldest(browser, served):
    site, url = served
    engine = with_service_requests(site.engine)
    older, _ = needs_info(engine, 1), needs_info(engine, 2)
    page = signed_in(browser, url, "alice")
    page.goto(f"{url}/exceptions")
    assert_accessible(page, "the exceptions")
    shot(page, "exceptions")
    page.fill("input[name='note'] >> nth=0", "which printer: 3F")
    page.locator("button:has-text('Resolve') >> nth=0").click()
    page.locator(f"text=Case {older.id}'s exception is resolved").wait_for()
    assert engine.case(older.id).state == "triage"


def test_administration_shows_the_directory_and_makes_a_token_once(browser, served):
    site, url = served
    # A weakened version waits for a second person: the page shows its control diff.
    assert site.engine.deploy(weaker_purchase(site.files), actor=ADMIN, now=site.clock()).pending
    page = signed_in(browser, url, ADMIN)
    page.goto(f"{url}/admin")
    assert "weakens: quorum" in page.locator("#changes").locator("xpath=..").inner_text()
    assert_accessible(page, "administration")
    shot(page, "admin")
    page.fill("#token-of", "bea")
    page.fill("#token-label", "laptop")
    page.click("text=Make token")
    secret = page.input_value("#new-secret")
    assert site.engine.authenticate(secret, now=site.clock()).id == "bea"
    assert_accessible(page, "administration with a new token")
    page.goto(f"{url}/admin")
    assert page.locator("#new-secret").count() == 0


def test_my_work_pages_and_its_poll_after_the_session_ended_goes_to_sign_in(browser, served, monkeypatch):
    from datetime import timedelta

    from backoffice.web import pages_work
    site, url = served
    monkeypatch.setattr(pages_work, "PAGE", 2)
    made = [prepared(site.engine, item="chair") for _ in range(3)]
    page = signed_in(browser, url, "bea")
    page.clock.install()
    page.goto(f"{url}/work?q=chair")
    page.get_by_role("link", name="Next page").click()
    page.wait_for_url(re.compile(re.escape(f"{url}/work?q=chair&after=") + "[\\w-]+$"))
    assert page.locator(f"text=Case {made[2].id}").count() == 1 and page.locator(f"text=Case {made[0].id}").count() == 0
    assert_accessible(page, "the second page of My work")
    shot(page, "work-page-2")
    # The session ends while the page is open: the next poll takes the window to sign-in, not into the list.
    site.clock.now += timedelta(hours=13)
    page.clock.run_for(21_000)
    page.wait_for_url(re.compile(re.escape(f"{url}/sign-in?next=") + ".+"))
    assert page.get_by_role("heading", level=1).count() == 1 and page.locator("#work-list").count() == 0
    assert "%26after%3D" in page.url and "q%3Dchair" in page.url          # back to the same page after sign-in
