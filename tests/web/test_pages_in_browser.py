"""The web app in Debian's Chromium: sign in, the front door with a field error then success, the case page, who am I.

Each page is checked by axe-core (no serious or critical violation) and, in a context that
keeps the Content-Security-Policy, for refusals the browser reports: the pages run no inline
script or style. BACKOFFICE_SHOTS=folder saves a screenshot of each page.
"""

from __future__ import annotations

from .axe import assert_accessible, axe_context, csp_violations
from .browser import needs_chromium, shot
from .site import CLERK, PASSWORD

pytestmark = needs_chromium


def _signed_in(browser, live, person: str):
    context = axe_context(browser, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{live.url}/sign-in")
    page.get_by_label("Person id").fill(person)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live.url}/")
    return context, page


def test_sign_in_page_then_home(browser, live):
    context = axe_context(browser, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{live.url}/requests")
    assert page.url.startswith(f"{live.url}/sign-in")
    assert_accessible(page, "the sign-in page")
    shot(page, "sign-in")
    page.get_by_label("Person id").fill("alice")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text().startswith("the person id or password is not right")
    assert_accessible(page, "the refused sign-in")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live.url}/requests")
    assert page.get_by_role("heading", level=1).inner_text() == "My requests"
    page.goto(f"{live.url}/")
    assert_accessible(page, "the home page")
    shot(page, "home")
    # The skip link is the first stop of the keyboard and leads to the main content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    context.close()


def test_front_door_a_field_error_then_a_started_case(browser, live):
    context, page = _signed_in(browser, live, "alice")
    page.get_by_role("link", name="Start a request").first.click()
    assert_accessible(page, "the catalogue")
    shot(page, "front-door")
    page.get_by_role("link", name="Supply request").click()
    assert_accessible(page, "the intake form")
    page.get_by_label("Reference").fill("SR-12")
    page.get_by_label("Title").fill("Paper for the printer")
    page.get_by_label("Category").select_option("office")
    page.get_by_label("Total amount").fill("49.90")
    page.get_by_label("Currency").fill("EUR")
    page.get_by_label("Urgent").select_option("false")
    page.get_by_label("Building").fill("North")
    page.locator("#f-lines-0-item").fill("A4 paper")
    page.locator("#f-lines-0-quantity").fill("10")
    page.get_by_role("button", name="Add line").click()
    page.locator("#f-lines-1-item").fill("Toner")
    page.locator("#f-lines-1-quantity").fill("1")
    assert page.locator("#f-lines-0-item").input_value() == "A4 paper"     # kept across the added line
    shot(page, "intake-form")
    page.get_by_role("button", name="Send the request").last.click()
    error = page.locator("#f-reference-error")
    assert error.inner_text() == "Expected text like SR-1234."
    assert page.get_by_label("Reference").get_attribute("aria-invalid") == "true"
    assert page.locator("#f-lines-1-item").input_value() == "Toner"
    assert_accessible(page, "the intake form with an error")
    shot(page, "intake-form-error")
    page.get_by_label("Reference").fill("SR-0001")
    # Enter in a field sends the request (the form's default button), never "Add line".
    page.get_by_label("Reference").press("Enter")
    page.wait_for_url(f"{live.url}/cases/*")
    assert page.get_by_role("status").first.inner_text().startswith("Your request")
    assert page.get_by_role("heading", level=1).inner_text().endswith("Supply request")
    [case] = live.engine.cases(workflow="supply-request")
    assert case.data["lines"] == [{"item": "A4 paper", "quantity": 10}, {"item": "Toner", "quantity": 1}]
    context.close()


def test_case_page_my_requests_and_who_am_i(browser, live):
    from .test_front_door_http import GOOD
    answer = live.start("alice", "supply-request", {**GOOD, "f.title": "<script>alert(1)</script>"})
    case_id = int(answer.headers["location"].rsplit("/", 1)[1])
    live.engine.raise_exception(case_id, "needs_info", actor=CLERK, now=live.clock.now, note="Which toner?")
    live.engine.add_comment(case_id, "We need the toner's model.", actor=CLERK, now=live.clock.now)
    context, page = _signed_in(browser, live, "alice")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{live.url}/cases/{case_id}")
    assert page.get_by_role("heading", name="Needs your answer").is_visible()
    assert "<script>alert(1)</script>" in page.locator("#data-heading + dl").inner_text()
    assert dialogs == []
    assert_accessible(page, "the case page")
    shot(page, "case")
    page.get_by_role("textbox", name="Your answer").fill("HP 305 black")
    page.get_by_role("button", name="Send my answer").last.click()
    page.wait_for_url(f"{live.url}/cases/{case_id}")
    assert live.engine.case(case_id).state == "review"
    page.goto(f"{live.url}/requests")
    assert_accessible(page, "my requests")
    shot(page, "my-requests")
    page.goto(f"{live.url}/me")
    assert_accessible(page, "who am I")
    shot(page, "who-am-i")
    context.close()


def test_pages_run_under_the_content_security_policy_without_refusals(browser, live):
    context = browser.new_context()
    page = context.new_page()
    refused = csp_violations(page)
    page.goto(f"{live.url}/sign-in")
    page.get_by_label("Person id").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live.url}/")
    for path in ("/", "/requests/new", "/requests/new/supply-request", "/requests", "/me"):
        page.goto(live.url + path)
        page.wait_for_load_state("load")
        assert page.evaluate("typeof window.htmx") == "object", path      # the vendored htmx ran
    assert refused == []
    context.close()
