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
    page.click("#zoom-actual")
    page.wait_for_load_state("networkidle")
    assert requests == [report.as_uri()]


def _scale(page) -> float:
    return float(page.get_attribute("#map-frame", "data-scale"))


def test_buttons_wheel_and_keys_zoom_and_fit_never_shrinks_text_below_legible(report, browser_page):
    page, _ = browser_page
    page.set_viewport_size({"width": 900, "height": 900})
    page.goto(report.as_uri())
    svg = page.locator("#map-frame svg")
    fitted = _scale(page)
    assert 0.75 <= fitted <= 1  # fit, but never below 9px names
    page.click("#zoom-in")
    assert _scale(page) > fitted
    page.click("#zoom-actual")
    assert _scale(page) == 1
    page.click("#zoom-out")
    assert _scale(page) < 1
    page.click("#zoom-fit")
    assert _scale(page) == fitted
    page.locator("#map-frame").focus()
    page.keyboard.press("+")
    assert _scale(page) > fitted
    page.keyboard.press("0")
    assert _scale(page) == fitted
    page.locator("#map-frame").scroll_into_view_if_needed()
    box = page.locator("#map-frame").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -300)
    assert _scale(page) > fitted
    assert svg.bounding_box()["width"] > 0


def test_dragging_pans_a_map_wider_than_its_frame(report, browser_page):
    page, _ = browser_page
    page.set_viewport_size({"width": 700, "height": 900})
    page.goto(report.as_uri())
    page.click("#zoom-actual")
    svg = page.locator("#map-frame svg")
    page.locator("#map-frame").scroll_into_view_if_needed()
    before = svg.bounding_box()["x"]
    box = page.locator("#map-frame").bounding_box()
    page.mouse.move(box["x"] + 400, box["y"] + 100)
    page.mouse.down()
    page.mouse.move(box["x"] + 150, box["y"] + 100, steps=5)
    page.mouse.up()
    assert svg.bounding_box()["x"] < before - 100
    page.locator("#map-frame").focus()
    page.keyboard.press("ArrowLeft")
    assert svg.bounding_box()["x"] > before - 250 + 30


def test_a_wider_screen_opens_at_a_richer_level_and_a_narrow_one_at_a_smaller(tmp_path, browser_page):
    from .map_fixtures import large_map

    page, _ = browser_page
    path = tmp_path / "busy.html"
    path.write_text(render_html(large_map()), encoding="utf-8")
    shown = {}
    for width in (900, 1400, 2400):
        page.set_viewport_size({"width": width, "height": 1000})
        page.goto(path.as_uri())
        shown[width] = page.locator("#map-canvas g.node[class*='kind-']").count()
        assert float(page.get_attribute("#map-frame", "data-scale")) >= 0.75  # never below legible
        if width > 900:
            frame = page.locator("#map-frame").bounding_box()
            svg = page.locator("#map-canvas svg").bounding_box()
            assert svg["width"] <= frame["width"] + 1, width  # whole at first sight
    assert page.input_value("#detail-activities") != "0"  # 2400 wide: more than the smallest
    assert shown[900] == 6 and shown[900] <= shown[1400] < shown[2400]  # 900: nothing fits, the smallest


def test_hovering_a_path_lights_up_its_label_and_the_label_its_path(report, browser_page):
    page, _ = browser_page
    page.goto(report.as_uri())
    label = page.locator("svg.process-map text.edge-label.measure-frequency").first
    source, target = label.get_attribute("data-source"), label.get_attribute("data-target")
    edge = page.locator(f"svg.process-map g.edge[data-source='{source}'][data-target='{target}']")
    label.scroll_into_view_if_needed()
    label.hover()
    assert "hot" in edge.get_attribute("class").split()
    assert "hot" in label.get_attribute("class").split()
    page.mouse.move(0, 0)
    assert "hot" not in edge.get_attribute("class").split()


def test_printing_shows_the_whole_map_not_the_panned_corner(report, browser_page):
    page, _ = browser_page
    page.goto(report.as_uri())
    page.click("#zoom-in")
    page.emulate_media(media="print")
    svg = page.locator("#map-canvas svg").bounding_box()
    frame = page.locator("#map-frame").bounding_box()
    assert svg["width"] <= frame["width"] + 1 and svg["height"] <= frame["height"] + 1
    assert page.evaluate("getComputedStyle(document.getElementById('map-canvas')).transform") == "none"
