"""The drawn map in a real browser, on the shared real logs: nothing overlaps, text is legible.

The text of a map is measured where Chromium put it (getBoundingClientRect), at the level
of detail the page opens at and at the full map, in every measure: no two labels overlap,
and no label lies on a box it does not belong to.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from backoffice.mapping.html_report import render_html

from .test_report_in_browser import CHROMIUM, CHROMIUM_ARGS

# ../shared beside the checkout, as tests/conftest.py has it; a git worktree sits one folder deeper.
REPOSITORY = Path(__file__).resolve().parents[2]
LOGS = next((folder / "shared" / "data" / "logs" for folder in (REPOSITORY.parent, REPOSITORY.parent.parent)
             if (folder / "shared" / "data" / "logs").is_dir()), REPOSITORY.parent / "shared" / "data" / "logs")
# (file, lanes): bpic2012 by resource is the crowded case, with steps shared between many people.
SHARED_LOGS = [("bpic2012.xes.gz", None), ("bpic2012.xes.gz", "resource"), ("08_receipt.xes.gz", None),
               ("DomesticDeclarations.xes.gz", None), ("helpdesk.xes.gz", None)]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(),
                                reason=f"Debian's Chromium is not installed at {CHROMIUM} "
                                       "(apt-get install chromium); the browser checks need it")

# Every visible text of the map against every other, and against every box it is not inside.
OVERLAPS = """
() => {
  const svg = document.querySelector("#map-canvas svg.process-map");
  const visible = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const texts = [...svg.querySelectorAll("text")].filter(visible);
  const boxes = [...svg.querySelectorAll("g.node")].map((g) => ({g, el: g.querySelector("rect, circle")}));
  const hit = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 0.5
    && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 0.5;
  const rects = texts.map((t) => t.getBoundingClientRect());
  const problems = [];
  for (let i = 0; i < texts.length; i++) {
    for (let j = i + 1; j < texts.length; j++) {
      if (hit(rects[i], rects[j])) { problems.push(`"${texts[i].textContent}" on "${texts[j].textContent}"`); }
    }
    for (const box of boxes) {
      if (!box.g.contains(texts[i]) && hit(rects[i], box.el.getBoundingClientRect())) {
        problems.push(`"${texts[i].textContent}" on the box ${box.g.dataset.id}`);
      }
    }
  }
  return {problems, texts: texts.length,
          smallest: Math.min(...texts.filter((t) => t.classList.contains("node-name"))
                                     .map((t) => t.getBoundingClientRect().height))};
}
"""


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--headless", *CHROMIUM_ARGS])
        yield browser
        browser.close()


@pytest.fixture(scope="module", params=SHARED_LOGS, ids=lambda p: f"{p[0]}-{p[1] or 'default'}")
def report(request, tmp_path_factory) -> Path:
    name, lanes = request.param
    path = LOGS / name
    if not path.exists():
        pytest.skip(f"the shared logs are not here: {path}")
    from backoffice import read_log
    from backoffice.mapping import analyze

    out = tmp_path_factory.mktemp("maps") / f"{name}.html"
    out.write_text(render_html(analyze(read_log(path), lanes=lanes)), encoding="utf-8")
    return out


def _open(browser, report: Path):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(report.as_uri())
    return page, errors


def _check_every_measure(page, where: str) -> int:
    checked = 0
    for measure, stat in (("frequency", None), ("time", "total"), ("time", "mean"), ("time", "median")):
        page.click(f"label[for=measure-{measure}]")
        if stat:
            page.click(f"label[for=time-{stat}]")
        found = page.evaluate(OVERLAPS)
        assert found["problems"] == [], f"{where}, {measure} {stat or ''}: {found['problems'][:10]}"
        checked += found["texts"]
    return checked


def test_no_label_overlaps_another_or_a_box_at_the_first_and_the_full_level(browser, report):
    page, errors = _open(browser, report)
    assert _check_every_measure(page, f"{report.name} first view") > 0
    page.fill("#detail-activities", page.get_attribute("#detail-activities", "max"))
    page.dispatch_event("#detail-activities", "input")
    page.fill("#detail-paths", page.get_attribute("#detail-paths", "max"))
    page.dispatch_event("#detail-paths", "input")
    assert page.get_attribute("#map-frame", "data-level") == "{}-{}".format(
        page.get_attribute("#detail-activities", "max"), page.get_attribute("#detail-paths", "max"))
    _check_every_measure(page, f"{report.name} full map")
    assert errors == []
    page.close()


def test_the_first_view_fits_the_screen_with_legible_text(browser, report):
    page, errors = _open(browser, report)
    found = page.evaluate(OVERLAPS)
    assert found["smallest"] >= 12 * 0.75 * 1.1, "names are drawn smaller than 9px"
    frame = page.locator("#map-frame").bounding_box()
    svg = page.locator("#map-canvas svg").bounding_box()
    assert svg["width"] <= frame["width"] + 1 and svg["height"] <= frame["height"] + 1
    assert frame["height"] <= 900
    assert errors == []
    page.close()
