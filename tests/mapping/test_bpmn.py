"""The BPMN export: valid references, gateways where flows split or join, and a full diagram."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from lxml import etree

from backoffice.mapping.bpmn import render_bpmn
from backoffice.mapping.model import ProcessMap

from .map_fixtures import APPROVE, ASK, CHECK, PAY, SUBMIT, domestic_declarations, large_map, small_map

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
      "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
      "dc": "http://www.omg.org/spec/DD/20100524/DC",
      "di": "http://www.omg.org/spec/DD/20100524/DI"}
FLOW_NODES = ("startEvent", "endEvent", "task", "userTask", "serviceTask", "businessRuleTask", "exclusiveGateway")
NCNAME = re.compile(r"^[A-Za-z_][\w.\-]*$")


def parse(process_map: ProcessMap) -> etree._Element:
    return etree.fromstring(render_bpmn(process_map).encode("utf-8"))


def flow_nodes(root: etree._Element) -> list[etree._Element]:
    process = root.find("bpmn:process", NS)
    return [e for e in process if etree.QName(e).localname in FLOW_NODES]


def task_named(root: etree._Element, name: str) -> etree._Element:
    (task,) = [e for e in flow_nodes(root) if e.get("name") == name and "Task" in etree.QName(e).localname]
    return task


@pytest.fixture(params=["small", "small_unassigned", "large", "domestic_declarations"])
def any_map(request) -> ProcessMap:
    return {"small": small_map, "small_unassigned": lambda: small_map(unassigned=True),
            "large": large_map, "domestic_declarations": domestic_declarations}[request.param]()


def test_the_document_is_bpmn_2_with_one_process_and_one_pool(any_map):
    root = parse(any_map)
    assert root.tag == "{http://www.omg.org/spec/BPMN/20100524/MODEL}definitions"
    assert len(root.findall("bpmn:process", NS)) == 1
    (participant,) = root.findall("bpmn:collaboration/bpmn:participant", NS)
    assert participant.get("processRef") == root.find("bpmn:process", NS).get("id")


def test_ids_are_unique_ncnames(any_map):
    ids = [e.get("id") for e in parse(any_map).iter() if e.get("id") is not None]
    assert len(ids) == len(set(ids))
    assert all(NCNAME.match(i) for i in ids)


def test_every_sequence_flow_joins_existing_flow_nodes(any_map):
    root = parse(any_map)
    node_ids = {e.get("id") for e in flow_nodes(root)}
    flows = root.findall("bpmn:process/bpmn:sequenceFlow", NS)
    assert flows
    for flow in flows:
        assert flow.get("sourceRef") in node_ids and flow.get("targetRef") in node_ids
        assert flow.get("sourceRef") != flow.get("targetRef")


def test_incoming_and_outgoing_refs_agree_with_the_flows(any_map):
    root = parse(any_map)
    flows = {f.get("id"): f for f in root.findall("bpmn:process/bpmn:sequenceFlow", NS)}
    for node in flow_nodes(root):
        for ref in node.findall("bpmn:incoming", NS):
            assert flows[ref.text].get("targetRef") == node.get("id")
        for ref in node.findall("bpmn:outgoing", NS):
            assert flows[ref.text].get("sourceRef") == node.get("id")


def test_one_task_per_activity_and_one_start_and_end_event(any_map):
    root = parse(any_map)
    tasks = [e for e in flow_nodes(root) if etree.QName(e).localname.endswith("Task")]
    assert sorted(t.get("name") for t in tasks) == sorted(a.name for a in any_map.activities)
    kinds = Counter(etree.QName(e).localname for e in flow_nodes(root))
    assert kinds["startEvent"] == 1 and kinds["endEvent"] == 1


def test_only_gateways_split_or_join_the_flow(any_map):
    root = parse(any_map)
    flows = root.findall("bpmn:process/bpmn:sequenceFlow", NS)
    ways_out = Counter(f.get("sourceRef") for f in flows)
    ways_in = Counter(f.get("targetRef") for f in flows)
    for node in flow_nodes(root):
        if etree.QName(node).localname != "exclusiveGateway":
            assert ways_out[node.get("id")] <= 1 and ways_in[node.get("id")] <= 1, node.get("name")
        elif node.get("gatewayDirection") == "Diverging":
            assert ways_in[node.get("id")] == 1 and ways_out[node.get("id")] > 1
        else:
            assert ways_in[node.get("id")] > 1 and ways_out[node.get("id")] == 1


def test_task_types_follow_the_step_kind():
    root = parse(small_map())
    assert etree.QName(task_named(root, SUBMIT)).localname == "serviceTask"
    assert etree.QName(task_named(root, CHECK)).localname == "userTask"
    approve = task_named(root, APPROVE)
    assert etree.QName(approve).localname == "userTask"
    assert approve.get("{urn:backoffice:bpmn:1}kind") == "approval"


def test_names_with_markup_characters_survive_as_text():
    text = render_bpmn(small_map())
    assert "<docs>" not in text
    assert task_named(etree.fromstring(text.encode()), CHECK).get("name") == CHECK


def test_the_self_loop_runs_from_the_split_back_to_the_join():
    root = parse(small_map())
    ask = task_named(root, ASK).get("id")
    flows = [(f.get("sourceRef"), f.get("targetRef"), f.get("name"))
             for f in root.findall("bpmn:process/bpmn:sequenceFlow", NS)]
    assert (f"Gateway_split_{ask.removeprefix('Activity_')}", f"Gateway_join_{ask.removeprefix('Activity_')}",
            "1") in flows


def test_flows_are_named_with_their_counts():
    root = parse(small_map())
    names = sorted(int(f.get("name")) for f in root.findall("bpmn:process/bpmn:sequenceFlow", NS) if f.get("name"))
    assert names == sorted(e.count for e in small_map().edges)


def test_every_task_belongs_to_exactly_one_lane_named_for_its_lane_value(any_map):
    root = parse(any_map)
    lanes = root.findall("bpmn:process/bpmn:laneSet/bpmn:lane", NS)
    refs = [ref.text for lane in lanes for ref in lane.findall("bpmn:flowNodeRef", NS)]
    assert sorted(refs) == sorted(e.get("id") for e in flow_nodes(root))
    lane_of = {ref.text: lane.get("name") for lane in lanes for ref in lane.findall("bpmn:flowNodeRef", NS)}
    for activity in any_map.activities:
        task = task_named(root, activity.name)
        assert lane_of[task.get("id")] == (activity.lane or "unassigned")


def test_the_diagram_has_a_shape_for_every_node_lane_and_the_pool(any_map):
    root = parse(any_map)
    shapes = {s.get("bpmnElement"): s for s in root.iterfind(".//bpmndi:BPMNShape", NS)}
    expected = [e.get("id") for e in flow_nodes(root)]
    expected += [lane.get("id") for lane in root.iterfind(".//bpmn:lane", NS)]
    expected += [p.get("id") for p in root.iterfind(".//bpmn:participant", NS)]
    assert sorted(shapes) == sorted(expected)
    for shape in shapes.values():
        bounds = shape.find("dc:Bounds", NS)
        assert float(bounds.get("width")) > 0 and float(bounds.get("height")) > 0
    plane = root.find("bpmndi:BPMNDiagram/bpmndi:BPMNPlane", NS)
    assert plane.get("bpmnElement") == root.find("bpmn:collaboration", NS).get("id")


def test_the_diagram_has_an_edge_with_waypoints_for_every_flow(any_map):
    root = parse(any_map)
    edges = {e.get("bpmnElement"): e for e in root.iterfind(".//bpmndi:BPMNEdge", NS)}
    flows = [f.get("id") for f in root.findall("bpmn:process/bpmn:sequenceFlow", NS)]
    assert sorted(edges) == sorted(flows)
    assert all(len(e.findall("di:waypoint", NS)) >= 2 for e in edges.values())


def test_lanes_in_the_diagram_hold_their_tasks():
    root = parse(small_map(unassigned=True))
    bounds = {s.get("bpmnElement"): [float(s.find("dc:Bounds", NS).get(k)) for k in ("x", "y", "width", "height")]
              for s in root.iterfind(".//bpmndi:BPMNShape", NS)}
    for lane in root.iterfind(".//bpmn:lane", NS):
        lx, ly, lw, lh = bounds[lane.get("id")]
        for ref in lane.findall("bpmn:flowNodeRef", NS):
            x, y, w, h = bounds[ref.text]
            assert lx <= x and x + w <= lx + lw and ly <= y and y + h <= ly + lh, ref.text


def test_a_path_from_start_reaches_pay():
    root = parse(small_map())
    successors: dict[str, list[str]] = {}
    for flow in root.findall("bpmn:process/bpmn:sequenceFlow", NS):
        successors.setdefault(flow.get("sourceRef"), []).append(flow.get("targetRef"))
    seen, todo = set(), ["StartEvent_1"]
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(successors.get(node, []))
    assert task_named(root, PAY).get("id") in seen and "EndEvent_1" in seen
