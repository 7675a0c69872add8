"""The dashboards and the live process map in Chromium: accessible (axe-core), within the CSP, numbers a click away."""

from __future__ import annotations

import pytest

from ..api.live_server import LiveServer
from ..ops.seeded_cases import NOW, at, forge_move
from ..ops.simulated_desk import simulate_desk
from .axe import assert_accessible, axe_context, csp_violations
from .browser import launch, needs_chromium, shot
from .dashboard_site import LEAD, add_service_desk
from .site import PASSWORD

pytestmark = needs_chromium


@pytest.fixture
def busy_site(sqlite_site):
    """The site with the seeded requests, then a simulated busy desk on top (a few hundred events more)."""
    ids = add_service_desk(sqlite_site)
    # A move the engine would refuse, written around it (as an import might): the map marks it.
    forge_move(sqlite_site.engine.store, ids["E"], activity="close", from_state="new", to_state="done",
               moment=at(19, 9))
    simulate_desk(sqlite_site.engine, cases=50, weeks=8, now=NOW, admin="root")
    return sqlite_site


def sign_in(page, url: str) -> None:
    page.goto(f"{url}/sign-in")
    page.fill("input[name=person]", LEAD)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")


def test_the_dashboards_and_the_live_map_work_in_the_browser(busy_site):
    from playwright.sync_api import sync_playwright
    with LiveServer(busy_site.app) as server, sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            context = axe_context(browser, viewport={"width": 1280, "height": 900}, accept_downloads=True)
            page = context.new_page()
            sign_in(page, server.url)
            page.click("nav >> text=Dashboards")
            page.select_option("#filter-workflow", "service-request")
            page.select_option("#filter-weeks", "8")
            page.click("form.dashboard-filter button")
            page.wait_for_url("**/dashboards?workflow=service-request&version=all&weeks=8")
            assert page.locator("svg.chart").count() == 9
            assert_accessible(page, "the dashboards")
            table = page.locator("#heading-throughput ~ details table")
            assert not table.is_visible()
            page.click("#heading-throughput ~ details summary")
            assert table.is_visible() and table.locator("tbody tr").count() == 8
            assert_accessible(page, "the dashboards with a table open")
            shot(page, "dashboards")
            with page.expect_download() as download:
                page.click("text=Download “Throughput by week” as CSV")
            assert download.value.suggested_filename == "throughput-service-request-2024-03-20-8w.csv"

            page.click("nav >> text=Live map")
            page.select_option("#filter-workflow", "service-request")
            page.click("form.dashboard-filter button")
            page.wait_for_url("**/live-map?workflow=service-request&version=all&weeks=4")
            assert page.locator(".map-frame svg.process-map").is_visible()
            assert page.locator("table").filter(has_text="first-response SLA missed").count() == 1
            assert page.locator(".map-frame .edge.deviation").count() == 1
            assert page.locator("td", has_text="new -> done").is_visible()
            assert_accessible(page, "the live process map")
            shot(page, "live-map")
            # The measure the map does not show is hidden by its served style sheet, not by inline style.
            assert page.locator(".map-frame .edge-label.measure-time").first.is_hidden()

            strict = browser.new_context()  # the app's CSP enforced: no refusal on either page
            strict_page = strict.new_page()
            refused = csp_violations(strict_page)
            sign_in(strict_page, server.url)
            strict_page.goto(f"{server.url}/dashboards?workflow=service-request")
            strict_page.goto(f"{server.url}/live-map?workflow=service-request")
            assert strict_page.locator(".map-frame .edge-label.measure-time").first.is_hidden()
            assert refused == []
        finally:
            browser.close()
