"""The HTML report in a real browser: the measure switch works and nothing is fetched."""

from __future__ import annotations

from pathlib import Path

import pytest

from backoffice.mapping.html_report import render_html

from .map_fixtures import small_map

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason=f"Debian's Chromium is not installed at {CHROMIUM} "
                                       "(apt-get install chromium); the browser checks need it")


@pytest.fixture
def report(tmp_path: Path) -> Path:
    path = tmp_path / "report.html"
    path.write_text(render_html(small_map()), encoding="utf-8")
    return path


@pytest.fixture
def browser_page():
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        requests: list[str] = []
        errors: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        page.on("pageerror", lambda error: errors.append(str(error)))
        yield page, requests
        assert errors == [], "the page's script failed"
        browser.close()


def test_the_time_switch_shows_waits_and_hides_counts(report, browser_page):
    page, _ = browser_page
    page.goto(report.as_uri())
    frequency_label = page.locator("svg.process-map text.edge-label.measure-frequency").first
    time_label = page.locator("svg.process-map text.edge-label.measure-time").first
    assert frequency_label.is_visible() and not time_label.is_visible()

    page.click("label[for=measure-time]")

    assert time_label.is_visible() and not frequency_label.is_visible()
    shown = page.locator("svg.process-map text.edge-label.measure-time").all_text_contents()
    assert "3.2 d" in shown

    page.click("label[for=measure-frequency]")
    assert frequency_label.is_visible() and not time_label.is_visible()


def test_the_report_makes_no_network_request(report, browser_page):
    page, requests = browser_page
    page.goto(report.as_uri())
    page.click("label[for=measure-time]")
    page.click("label[for=zoom-full]")
    page.wait_for_load_state("networkidle")
    assert requests == [report.as_uri()]


def test_the_zoom_switch_fits_the_map_to_the_page(report, browser_page):
    page, _ = browser_page
    page.goto(report.as_uri())
    svg = page.locator("#map-frame svg")
    page.set_viewport_size({"width": 900, "height": 900})
    page.click("label[for=zoom-full]")
    full_width = svg.bounding_box()["width"]
    page.click("label[for=zoom-fit]")
    fitted_width = svg.bounding_box()["width"]
    assert fitted_width < full_width
    assert fitted_width <= page.locator("#map-frame").bounding_box()["width"]
