"""`bpmn export` opened in bpmn-js, the modeler of bpmn.io and of Camunda Modeler, in Debian's Chromium.

Each library template's export is imported by the real modeler (bpmn-js from the npm registry,
installed from tests/definitions/bpmn_js/package-lock.json): it must import without a warning,
draw every pool, lane, flow node and sequence flow the file holds, with no two flow nodes on
top of each other, and what the modeler saves back must import to the same definition: the
round trip a team makes when it opens an exported workflow, moves a box and saves.
Skips, saying why, without Chromium, Playwright, Node.js or a reachable registry.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from backoffice.definitions import load_definition
from backoffice.definitions.bpmn_export import render_definition_bpmn

from ..npm_packages import installed
from ..web.browser import launch, needs_chromium, shot
from .test_bpmn_export import NS, TEMPLATES, imported_back, transitions

SOURCE = Path(__file__).resolve().parent / "bpmn_js"
DRAWN = ("participant", "lane", "task", "userTask", "serviceTask", "scriptTask", "sendTask", "receiveTask",
         "manualTask", "businessRuleTask", "callActivity", "subProcess", "startEvent", "endEvent",
         "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent", "exclusiveGateway",
         "parallelGateway", "inclusiveGateway", "eventBasedGateway", "sequenceFlow")

OPEN = """async (xml) => {
  if (window.modeler) window.modeler.destroy();  // one diagram on the page at a time
  const modeler = window.modeler = new BpmnJS({container: '#canvas'});
  const {warnings} = await modeler.importXML(xml);
  modeler.get('canvas').zoom('fit-viewport');
  const nodes = modeler.get('elementRegistry').filter(e => e.businessObject && !e.waypoints
      && e.businessObject.$instanceOf('bpmn:FlowNode') && e.type !== 'label');
  const {xml: saved} = await modeler.saveXML({format: true});
  return {warnings: warnings.map(w => w.message), drawn: modeler.get('elementRegistry').getAll().map(e => e.id),
          boxes: nodes.map(e => [e.id, e.x, e.y, e.width, e.height, e.host ? e.host.id : (e.parent ? e.parent.id : null)]), saved};
}"""


@pytest.fixture(scope="module")
def modeler_page():
    """A Chromium page holding bpmn-js's modeler, as bpmn.io and Camunda Modeler load it."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    dist = installed(SOURCE, check="bpmn-js", what="bpmn-js, the modeler of bpmn.io") / "node_modules" / "bpmn-js" / "dist"
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.set_content('<div id="canvas" style="width: 1600px; height: 1000px"></div>')
        for css in ("diagram-js.css", "bpmn-js.css", "bpmn-font/css/bpmn-embedded.css"):
            if (dist / "assets" / css).is_file():
                page.add_style_tag(path=str(dist / "assets" / css))
        page.add_script_tag(path=str(dist / "bpmn-modeler.production.min.js"))
        yield page
        browser.close()


def overlapping(boxes: list[list]) -> list[tuple[str, str]]:
    """The pairs of flow nodes whose boxes cross (touching edges do not count; a boundary event sits on its host's, an event
    sub-process's events inside it)."""
    found = []
    for index, (a, ax, ay, aw, ah, a_host) in enumerate(boxes):
        for b, bx, by, bw, bh, b_host in boxes[index + 1:]:
            if a_host == b or b_host == a:
                continue
            if ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah:
                found.append((a, b))
    return found


@needs_chromium
@pytest.mark.parametrize("template", TEMPLATES, ids=[t.stem for t in TEMPLATES])
def test_every_template_opens_in_bpmn_js_and_what_it_saves_imports_to_the_same_definition(template, tmp_path,
                                                                                          modeler_page):
    xml = render_definition_bpmn(load_definition(template))
    opened = modeler_page.evaluate(OPEN, xml)
    shot(modeler_page, f"bpmn-js-{template.stem}")
    assert opened["warnings"] == []
    document = etree.fromstring(xml.encode("utf-8"))
    written = {element.get("id") for tag in DRAWN for element in document.iter(f"{{{NS['bpmn']}}}{tag}")}
    assert written and written <= set(opened["drawn"]), sorted(written - set(opened["drawn"]))
    assert overlapping(opened["boxes"]) == []

    saved = tmp_path / f"{template.stem}.bpmn"
    saved.write_text(opened["saved"], encoding="utf-8")
    _, after = imported_back(saved, template, tmp_path)
    before = load_definition(template)
    assert after.states == before.states
    assert transitions(after) == transitions(before)
    assert (set(after.roles), after.timers, after.exceptions, after.approvals) == \
        (set(before.roles), before.timers, before.exceptions, before.approvals)
