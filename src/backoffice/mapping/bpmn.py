"""Write the discovered flow as BPMN 2.0 XML with a diagram, for bpmn.io and Camunda Modeler.

One pool, one lane per lane value, a start and an end event, a task per activity and a
sequence flow per path. BPMN wants a node with several ways out (or in) to say how it
chooses, so such nodes get an exclusive split (or join) gateway: the map only knows that
each path happened, and an exclusive choice is what a log of single cases shows.

Task types: straight-through steps are serviceTasks, human steps userTasks, and
approvals userTasks too, since a person decides; every task carries
`backoffice:kind` (straight_through, human or approval) so the kind survives a round
trip through a modeler, which keeps unknown attributes.

The diagram reuses the swimlane layout, with wider gaps so gateways fit between layers.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from lxml import etree

from backoffice.mapping.layout import (
    LANE_LABEL_WIDTH,
    MARGIN,
    EdgeRoute,
    MapLayout,
    NodeBox,
    NodeKind,
    Point,
    RouteShape,
    layout_map,
)
from backoffice.mapping.model import Activity, ProcessMap, StepKind
from backoffice.mapping.durations import humanize
from backoffice.mapping.svg import format_count

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
BACKOFFICE = "urn:backoffice:bpmn:1"
NSMAP = {"bpmn": BPMN, "bpmndi": BPMNDI, "dc": DC, "di": DI, "backoffice": BACKOFFICE}

LAYER_GAP = 210.0  # room for a split gateway, a join gateway and a flow between layers
GATEWAY = 36.0
GATEWAY_OFFSET = 26.0  # between a task and its gateway
EVENT = 36.0
POOL_HEADER = 30.0
TASK_TAG = {StepKind.STRAIGHT_THROUGH: "serviceTask", StepKind.HUMAN: "userTask", StepKind.APPROVAL: "userTask"}


@dataclass(frozen=True)
class _Shape:
    """A flow node with its BPMN id, tag and bounds (top-left x, y, width, height)."""

    id: str
    tag: str
    name: str | None
    lane: str | None
    bounds: tuple[float, float, float, float]

    def anchor(self, side: str) -> Point:
        x, y, w, h = self.bounds
        return {"left": Point(x, y + h / 2), "right": Point(x + w, y + h / 2),
                "top": Point(x + w / 2, y), "bottom": Point(x + w / 2, y + h)}[side]


@dataclass(frozen=True)
class _Flow:
    id: str
    source: str
    target: str
    name: str | None
    waypoints: tuple[Point, ...]


def render_bpmn(process_map: ProcessMap, *, layout: MapLayout | None = None) -> str:
    """Render the map as a BPMN 2.0 document with lanes and a diagram (BPMNDI).

    Args:
        process_map: the as-is map.
        layout: a layout made with a wide layer gap; None makes one (gap LAYER_GAP).

    Returns:
        The XML text, UTF-8 declared: a collaboration with one participant, one process
        with a laneSet, events, tasks, exclusive gateways and sequence flows named with
        their counts, and a BPMNDiagram with a shape for the pool, every lane and every
        flow node and an edge with waypoints for every flow.
    """
    layout = layout or layout_map(process_map, layer_gap=LAYER_GAP)
    activities = {a.name: a for a in process_map.activities}
    shapes, flows = _flow_graph(layout, activities)
    lane_ids = {band.key: f"Lane_{i}" for i, band in enumerate(layout.lanes)}

    definitions = etree.Element(_q(BPMN, "definitions"), nsmap=NSMAP, attrib={
        "id": "Definitions_1", "targetNamespace": "urn:backoffice:map", "exporter": "backoffice",
        "exporterVersion": str(process_map.schema_version)})
    collaboration = etree.SubElement(definitions, _q(BPMN, "collaboration"), id="Collaboration_1")
    etree.SubElement(collaboration, _q(BPMN, "participant"), id="Participant_1",
                     name=f"As-is: {process_map.summary.source}", processRef="Process_1")
    process = etree.SubElement(definitions, _q(BPMN, "process"), id="Process_1", isExecutable="false",
                               name=process_map.summary.source)
    lane_set = etree.SubElement(process, _q(BPMN, "laneSet"), id="LaneSet_1")
    for band in layout.lanes:
        lane = etree.SubElement(lane_set, _q(BPMN, "lane"), id=lane_ids[band.key], name=band.label)
        for shape in shapes:
            if shape.lane == band.key:
                etree.SubElement(lane, _q(BPMN, "flowNodeRef")).text = shape.id

    incoming: dict[str, list[str]] = {}
    outgoing: dict[str, list[str]] = {}
    for flow in flows:
        outgoing.setdefault(flow.source, []).append(flow.id)
        incoming.setdefault(flow.target, []).append(flow.id)
    for shape in shapes:
        node = etree.SubElement(process, _q(BPMN, shape.tag), id=shape.id)
        if shape.name is not None:
            node.set("name", shape.name)
        activity = activities.get(shape.name or "") if shape.id.startswith("Activity_") else None
        if activity is not None:
            etree.SubElement(node, _q(BPMN, "documentation")).text = _describe(activity)
            node.set(_q(BACKOFFICE, "kind"), activity.kind.value)
        if shape.tag == "exclusiveGateway":
            node.set("gatewayDirection", "Diverging" if shape.id.startswith("Gateway_split") else "Converging")
        for flow_id in incoming.get(shape.id, []):
            etree.SubElement(node, _q(BPMN, "incoming")).text = flow_id
        for flow_id in outgoing.get(shape.id, []):
            etree.SubElement(node, _q(BPMN, "outgoing")).text = flow_id
    for flow in flows:
        element = etree.SubElement(process, _q(BPMN, "sequenceFlow"), id=flow.id,
                                   sourceRef=flow.source, targetRef=flow.target)
        if flow.name:
            element.set("name", flow.name)

    _diagram(definitions, layout, shapes, flows, lane_ids)
    return etree.tostring(definitions, xml_declaration=True, encoding="UTF-8", pretty_print=True).decode("utf-8")


def _q(namespace: str, tag: str) -> str:
    return f"{{{namespace}}}{tag}"


def _describe(activity: Activity) -> str:
    wait = activity.wait_before.median if activity.wait_before else None
    return (f"{activity.kind.value.replace('_', '-')} step: {format_count(activity.events)} events in "
            f"{format_count(activity.cases)} cases; median wait before {humanize(wait)}")


def _flow_graph(layout: MapLayout, activities: dict[str, Activity]) -> tuple[list[_Shape], list[_Flow]]:
    """Turn placed nodes and routes into BPMN flow nodes and flows, adding gateways.

    A node with more than one way out gets a split gateway just right of it, and one with
    more than one way in a join gateway just left of it; a self-loop always gets both, so
    the loop runs from the split back to the join instead of from a task to itself.
    """
    ways_out = Counter(route.source for route in layout.edges)
    ways_in = Counter(route.target for route in layout.edges)
    looped = {route.source for route in layout.edges if route.shape is RouteShape.SELF_LOOP}
    shapes: list[_Shape] = []
    flows: list[_Flow] = []
    out_port: dict[str, _Shape] = {}
    in_port: dict[str, _Shape] = {}

    def add_flow(source: _Shape, target: _Shape, waypoints: tuple[Point, ...], name: str | None = None) -> None:
        flows.append(_Flow(id=f"Flow_{len(flows) + 1}", source=source.id, target=target.id, name=name,
                           waypoints=waypoints))

    for node in layout.nodes:
        shape = _node_shape(node, activities)
        shapes.append(shape)
        out_port[node.id] = in_port[node.id] = shape
        middle = node.center.y
        if ways_in[node.id] > 1 or node.id in looped:
            join = _Shape(id=f"Gateway_join_{node.id}", tag="exclusiveGateway", name=None, lane=node.lane,
                          bounds=(node.x - GATEWAY_OFFSET - GATEWAY, middle - GATEWAY / 2, GATEWAY, GATEWAY))
            shapes.append(join)
            add_flow(join, shape, (join.anchor("right"), shape.anchor("left")))
            in_port[node.id] = join
        if ways_out[node.id] > 1 or node.id in looped:
            split = _Shape(id=f"Gateway_split_{node.id}", tag="exclusiveGateway", name=None, lane=node.lane,
                           bounds=(node.x + node.width + GATEWAY_OFFSET, middle - GATEWAY / 2, GATEWAY, GATEWAY))
            shapes.append(split)
            add_flow(shape, split, (shape.anchor("right"), split.anchor("left")))
            out_port[node.id] = split

    for route in layout.edges:
        source, target = out_port[route.source], in_port[route.target]
        name = format_count(route.count) if route.edge is not None else None
        add_flow(source, target, _waypoints(route, source, target, layout), name)
    return shapes, flows


def _node_shape(node: NodeBox, activities: dict[str, Activity]) -> _Shape:
    if node.kind is NodeKind.ACTIVITY:
        activity = activities[node.activity or ""]
        return _Shape(id=f"Activity_{node.id}", tag=TASK_TAG[activity.kind], name=activity.name,
                      lane=node.lane, bounds=(node.x, node.y, node.width, node.height))
    center = node.center
    bounds = (center.x - EVENT / 2, center.y - EVENT / 2, EVENT, EVENT)
    if node.kind is NodeKind.START:
        return _Shape(id="StartEvent_1", tag="startEvent", name="start", lane=node.lane, bounds=bounds)
    return _Shape(id="EndEvent_1", tag="endEvent", name="end", lane=node.lane, bounds=bounds)


def _waypoints(route: EdgeRoute, source: _Shape, target: _Shape, layout: MapLayout) -> tuple[Point, ...]:
    """Return the flow's waypoints: along the layout's bends forward, below the nodes backward."""
    source_node, target_node = layout.node_by_id(route.source), layout.node_by_id(route.target)
    is_gateway = source.tag == "exclusiveGateway", target.tag == "exclusiveGateway"
    if route.shape is RouteShape.SELF_LOOP:
        above = source_node.y - 22
        start, end = source.anchor("top"), target.anchor("top")
        return start, Point(start.x, above), Point(end.x, above), end
    if route.shape is RouteShape.BACKWARD:
        # Under both boxes, so the loop back does not cut through the steps between them.
        start, end = source.anchor("bottom"), target.anchor("bottom")
        below = max(source_node.y + source_node.height, target_node.y + target_node.height,
                    *(p.y for p in route.points[1:-1])) + 14
        return start, Point(start.x, below), Point(end.x, below), end
    start = source.anchor("right") if is_gateway[0] else route.points[0]
    end = target.anchor("left") if is_gateway[1] else route.points[-1]
    return (start, *route.points[1:-1], end)


def _diagram(definitions: etree._Element, layout: MapLayout, shapes: list[_Shape], flows: list[_Flow],
             lane_ids: dict[str | None, str]) -> None:
    diagram = etree.SubElement(definitions, _q(BPMNDI, "BPMNDiagram"), id="BPMNDiagram_1")
    plane = etree.SubElement(diagram, _q(BPMNDI, "BPMNPlane"), id="BPMNPlane_1", bpmnElement="Collaboration_1")
    pool_x = MARGIN + LANE_LABEL_WIDTH - 2 * POOL_HEADER
    pool_y = layout.lanes[0].y if layout.lanes else MARGIN
    pool_width = layout.width - MARGIN - pool_x
    pool_height = sum(band.height for band in layout.lanes) or layout.height
    _shape(plane, "Participant_1", (pool_x, pool_y, pool_width, pool_height), isHorizontal="true")
    for band in layout.lanes:
        _shape(plane, lane_ids[band.key], (pool_x + POOL_HEADER, band.y, pool_width - POOL_HEADER, band.height),
               isHorizontal="true")
    for shape in shapes:
        extra = {"isMarkerVisible": "true"} if shape.tag == "exclusiveGateway" else {}
        _shape(plane, shape.id, shape.bounds, **extra)
    for flow in flows:
        edge = etree.SubElement(plane, _q(BPMNDI, "BPMNEdge"), id=f"{flow.id}_di", bpmnElement=flow.id)
        for point in flow.waypoints:
            etree.SubElement(edge, _q(DI, "waypoint"), x=f"{point.x:.0f}", y=f"{point.y:.0f}")


def _shape(plane: etree._Element, element_id: str, bounds: tuple[float, float, float, float], **extra: str) -> None:
    shape = etree.SubElement(plane, _q(BPMNDI, "BPMNShape"), id=f"{element_id}_di", bpmnElement=element_id,
                             **extra)
    x, y, width, height = bounds
    etree.SubElement(shape, _q(DC, "Bounds"), x=f"{x:.0f}", y=f"{y:.0f}", width=f"{width:.0f}",
                     height=f"{height:.0f}")
