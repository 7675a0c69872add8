"""A calendar changed in administration, in Debian's Chromium: a mistake beside its field, then the new version.

axe-core checks each page (no serious or critical violation); the Content-Security-Policy
refuses nothing (no inline script or style).
"""

from __future__ import annotations

from ..api.live_server import ADMIN
from .axe import assert_accessible, axe_context, csp_violations
from .browser import needs_chromium, shot
from .site import PASSWORD

pytestmark = needs_chromium


def test_an_administrator_changes_a_calendar(browser, live):
    context = axe_context(browser, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    refused = csp_violations(page)
    page.goto(f"{live.url}/sign-in")
    page.get_by_label("Person id").fill(ADMIN)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live.url}/")
    page.goto(f"{live.url}/admin#calendars")
    page.get_by_role("link", name="Change the calendar of supply-request").click()
    page.wait_for_url(f"{live.url}/admin/calendars/supply-request")
    assert_accessible(page, "the calendar form")
    page.get_by_label("Time zone").fill("Europe/Amsterdm")
    page.get_by_label("Sat").check()
    page.get_by_role("button", name="Deploy version 2 with this calendar").click()
    assert page.locator("#cal-timezone-error").inner_text().startswith("Unknown time zone 'Europe/Amsterdm'")
    assert page.get_by_label("Time zone").get_attribute("aria-invalid") == "true"
    assert page.get_by_label("Sat").is_checked()                                  # what was chosen is kept
    assert_accessible(page, "the calendar form with an error")
    shot(page, "calendar-error")
    page.get_by_label("Time zone").fill("Europe/Amsterdam")
    page.get_by_label("Country").fill("NL")
    page.get_by_role("button", name="Deploy version 2 with this calendar").click()
    page.wait_for_url(f"{live.url}/admin#calendars")
    assert "version 2 is deployed with the new calendar" in page.get_by_role("status").first.inner_text()
    assert_accessible(page, "administration after the change")
    calendar = live.engine.running("supply-request").definition.calendar
    assert calendar.timezone == "Europe/Amsterdam" and "sat" in [str(day) for day in calendar.working_days]
    assert refused == []
    context.close()
