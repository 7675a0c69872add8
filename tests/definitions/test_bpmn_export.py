"""`bpmn export`: valid BPMN 2.0 (the OMG schema) with a pool, lanes and a diagram; and the round trip.

What a round trip (export, then import) keeps: every state (id, kind, title, role, queue, description),
every transition (sources, target, name, guard, roles, requires), the roles, the timers and
the exceptions, from the BPMN elements and their backoffice: attributes; the rest of the
definition (owner, trigger, inputs, calendar, SLA, approvals, routing, controls, automated
steps' retry policies, monitoring, change rules) from the backoffice:definition extension.
What it cannot keep: comments and the YAML's layout (the definition is written anew), and a
modeler that drops unknown attributes and extensions leaves only what BPMN itself says (see
test_without_the_backoffice_extensions_the_bpmn_alone_still_gives_the_flow).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lxml import etree

from backoffice.definitions import LIBRARY, check_definition, load_definition
from backoffice.definitions.bpmn_export import BACKOFFICE, render_definition_bpmn
from backoffice.definitions.bpmn_import import import_bpmn, render_yaml
from backoffice.definitions.model import Definition

MODELS = Path(__file__).resolve().parents[1] / "data" / "bpmn"
SCHEMA = MODELS / "schema" / "BPMN20.xsd"
TEMPLATES = sorted(LIBRARY.glob("*.yaml"))
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
      "dc": "http://www.omg.org/spec/DD/20100524/DC", "di": "http://www.omg.org/spec/DD/20100524/DI"}


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA)))


def exported(path: Path, tmp_path: Path) -> Path:
    target = tmp_path / f"{path.stem}.bpmn"
    target.write_text(render_definition_bpmn(load_definition(path)), encoding="utf-8")
    return target


@pytest.mark.parametrize("template", TEMPLATES, ids=[t.stem for t in TEMPLATES])
def test_every_template_exports_as_valid_bpmn_with_lanes_and_a_diagram(template, tmp_path, schema):
    definition = load_definition(template)
    document = etree.parse(str(exported(template, tmp_path)))
    assert schema.validate(document), schema.error_log.last_error
    process = document.find("bpmn:process", NS)
    participant = document.find("bpmn:collaboration/bpmn:participant", NS)
    assert participant.get("processRef") == process.get("id")
    lanes = process.findall("bpmn:laneSet/bpmn:lane", NS)
    assert set(definition.roles) <= {lane.get(f"{{{BACKOFFICE}}}role") for lane in lanes}
    shapes = {shape.get("bpmnElement"): shape.find("dc:Bounds", NS) for shape in
              document.iterfind(".//bpmndi:BPMNShape", NS)}
    edges = {edge.get("bpmnElement"): edge.findall("di:waypoint", NS) for edge in
             document.iterfind(".//bpmndi:BPMNEdge", NS)}
    nodes = [e for e in process.iter() if isinstance(e.tag, str) and e.get("id") and e.tag.split("}")[1]
             not in ("laneSet", "lane", "sequenceFlow", "documentation", "extensionElements", "process")
             and not e.tag.endswith("EventDefinition") and not e.tag.endswith("timeDuration")]
    assert participant.get("id") in shapes
    for element in nodes + lanes:
        assert element.get("id") in shapes, element.get("id")
    for flow in process.iter(f"{{{NS['bpmn']}}}sequenceFlow"):
        assert len(edges[flow.get("id")]) >= 2
    # Every state is a flow node, and sits inside the band of the lane that lists it.
    assert {e.get(f"{{{BACKOFFICE}}}state") for e in nodes} >= set(definition.states)
    for lane in lanes:
        band = shapes[lane.get("id")]
        top, bottom = float(band.get("y")), float(band.get("y")) + float(band.get("height"))
        for ref in lane.findall("bpmn:flowNodeRef", NS):
            bounds = shapes[ref.text]
            assert top <= float(bounds.get("y")) and float(bounds.get("y")) + float(bounds.get("height")) <= bottom


def transitions(definition: Definition) -> list[tuple]:
    """One row per source: a transition from two states is the same as two from one each."""
    return sorted((source, t.to, t.name, t.guard.source if t.guard else None, tuple(t.roles), tuple(t.requires))
                  for t in definition.transitions for source in t.from_)


def imported_back(bpmn: Path, template: Path, tmp_path: Path):
    """Import `bpmn` as the template's definition beside the library's contracts; it must pass check."""
    result = import_bpmn(bpmn)
    shutil.copytree(LIBRARY / "contracts", tmp_path / "contracts", dirs_exist_ok=True)
    written = tmp_path / template.name
    written.write_text(render_yaml(result, bpmn))
    assert check_definition(written).errors == ()
    return result, load_definition(written)


@pytest.mark.parametrize("template", TEMPLATES, ids=[t.stem for t in TEMPLATES])
def test_every_template_round_trips_through_bpmn(template, tmp_path):
    result, after = imported_back(exported(template, tmp_path), template, tmp_path)
    before = load_definition(template)
    assert list(after.states) == list(before.states) or set(after.states) == set(before.states)
    assert after.states == before.states  # kind, title, role, queue and description
    assert transitions(after) == transitions(before)
    assert set(after.roles) == set(before.roles)
    assert after.timers == before.timers
    assert after.exceptions == before.exceptions
    assert (after.id, after.owner, after.trigger, after.approvals, after.automated_steps, after.sla) == \
        (before.id, before.owner, before.trigger, before.approvals, before.automated_steps, before.sla)
    assert result.not_expressible == []
    assert after.status == before.status and len(after.transitions) == len(before.transitions)


def test_without_the_backoffice_extensions_the_bpmn_alone_still_gives_the_flow(tmp_path):
    """A modeler that drops unknown attributes keeps what BPMN says: the steps, ways, guards and lanes."""
    template = LIBRARY / "purchase-request.yaml"
    document = etree.parse(str(exported(template, tmp_path)))
    for element in document.iter():
        for key in [k for k in element.attrib if k.startswith(f"{{{BACKOFFICE}}}")]:
            del element.attrib[key]
    for carried in document.iter(f"{{{BACKOFFICE}}}definition"):
        carried.getparent().remove(carried)
    bare = tmp_path / "bare.bpmn"
    document.write(str(bare))
    result = import_bpmn(bare)
    written = tmp_path / "bare.yaml"
    written.write_text(render_yaml(result, bare))
    assert check_definition(written).errors == ()
    before, after = load_definition(template), load_definition(written)
    assert len(after.states) == len(before.states)
    assert {t.guard.source for t in after.transitions if t.guard} == \
        {t.guard.source for t in before.transitions if t.guard}
    assert {s.title for s in after.states.values()} == {s.title for s in before.states.values()}
    assert {s.role for s in after.states.values() if s.kind.is_human} <= set(before.roles) | {"requester"}
    assert {t.after for t in after.timers if t.after} == {t.after for t in before.timers if t.after and t.state}
    assert result.placeholders  # owner, trigger and the rest are for a person to fill again


def test_the_export_saved_back_by_bpmn_js_imports_to_the_same_definition(tmp_path):
    saved = MODELS / "exported" / "purchase-request-saved-by-bpmn-js.bpmn"
    assert b'" />' in saved.read_bytes()  # written by the modeler (lxml writes no space before />), not by us
    result = import_bpmn(saved)
    shutil.copytree(LIBRARY / "contracts", tmp_path / "contracts")
    written = tmp_path / "purchase-request.yaml"
    written.write_text(render_yaml(result, saved))
    before, after = load_definition(LIBRARY / "purchase-request.yaml"), load_definition(written)
    assert transitions(after) == transitions(before)
    assert (after.timers, after.exceptions, after.approvals, set(after.roles)) == \
        (before.timers, before.exceptions, before.approvals, set(before.roles))
    assert check_definition(written).errors == ()


REAL_MODELS = sorted(MODELS.glob("*.bpmn*"))


@pytest.mark.parametrize("model", REAL_MODELS, ids=[m.name for m in REAL_MODELS])
def test_an_imported_real_model_exports_as_valid_bpmn(model, tmp_path, schema):
    from backoffice.definitions.bpmn_reader import read_bpmn

    for process in read_bpmn(model).processes:
        if not process.nodes:
            continue
        written = tmp_path / f"{process.id}.yaml"
        written.write_text(render_yaml(import_bpmn(model, process_id=process.id), model))
        document = etree.fromstring(render_definition_bpmn(load_definition(written)).encode())
        assert schema.validate(document), schema.error_log.last_error


PARALLEL_DEFINITIONS = Path(__file__).resolve().parents[1] / "engine"


@pytest.mark.parametrize("name", ["parallel-work", "documents-and-vendor"])
def test_parallel_states_checklists_and_sub_cases_export_as_gateways_and_call_activities_and_come_back(
        name, tmp_path, schema):
    source = PARALLEL_DEFINITIONS / f"{name}.yaml"
    shutil.copy(source, tmp_path / source.name)
    shutil.copy(PARALLEL_DEFINITIONS / "vendor-check.yaml", tmp_path / "vendor-check.yaml")
    before = load_definition(tmp_path / source.name)
    bpmn = tmp_path / f"{name}.bpmn"
    bpmn.write_text(render_definition_bpmn(before))
    tree = etree.parse(str(bpmn))
    schema.assertValid(tree)
    tags = {etree.QName(element).localname for element in tree.iter()}
    assert "parallelGateway" in tags
    assert ("callActivity" in tags) is (name == "documents-and-vendor")
    result = import_bpmn(bpmn)
    assert result.not_expressible == []
    written = tmp_path / f"{name}-back.yaml"
    written.write_text(render_yaml(result, bpmn))
    after = load_definition(written)
    # The sources name no titles; the import gives each state its id as title. All else comes back.
    assert {sid: state.model_copy(update={"title": None}) for sid, state in after.states.items()} == before.states
    assert transitions(after) == transitions(before)
