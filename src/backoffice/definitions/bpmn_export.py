"""Write a workflow definition as BPMN 2.0 XML with lanes and a diagram, for bpmn.io and Camunda Modeler.

One pool (a collaboration with one participant), one lane per role. States become flow
nodes: the intake a start event, done and cancelled end events, automated states service
tasks (Camunda external tasks whose topic is the action), waiting states receive tasks, and
every state a person works a user task whose candidate group is its role. A state with more
than one way out, or a guarded one, leads into an exclusive gateway whose flows carry the
guards as CEL conditions. Exceptions are error boundary events on the states they may be
raised in; timers that count in a state are non-interrupting boundary timers (ISO 8601
durations), and timers on an SLA sit in event sub-processes with a timer start.

Every element carries `backoffice:` attributes (its state id, kind, role, the transition's
roles, the timer's exact settings), which modelers keep, so `bpmn import` reads the same
definition back. What BPMN has no element for (calendar, SLA, approvals, routing, controls,
monitoring, change rules ...) travels in one `backoffice:definition` extension element.

The diagram reuses the state diagram's swimlane layout (docs.diagram_map and the map's layout).
"""

from __future__ import annotations

import json

import yaml
from lxml import etree

from backoffice.definitions.bpmn_conditions import CEL_LANGUAGE
from backoffice.definitions.bpmn_timers import text_to_iso_duration
from backoffice.definitions.docs import diagram_map
from backoffice.definitions.model import Definition, Party, StateKind, Timer
from backoffice.mapping.layout import MARGIN, LANE_LABEL_WIDTH, NodeKind, layout_map

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
BACKOFFICE = "urn:backoffice:bpmn:1"
NSMAP = {"bpmn": BPMN, "bpmndi": BPMNDI, "dc": DC, "di": DI, "xsi": XSI, "camunda": CAMUNDA,
         "backoffice": BACKOFFICE}
# The parts of a definition that BPMN elements carry; the rest travels in backoffice:definition.
# Exceptions are drawn as error boundaries and carried too: one raised at intake has no task to sit on.
CARRIED = frozenset({"states", "transitions", "roles", "timers"})

LAYER_GAP = 210.0
EVENT = 36.0
GATEWAY = 50.0
POOL_HEADER = 30.0
EXTRA_LANE = 90.0
TAG = {StateKind.INTAKE: "startEvent", StateKind.DONE: "endEvent", StateKind.CANCELLED: "endEvent",
       StateKind.AUTOMATED: "serviceTask", StateKind.WAITING: "receiveTask", StateKind.PARALLEL: "parallelGateway",
       StateKind.SUBCASE: "callActivity", StateKind.CHECKLIST: "parallelGateway"}


def _q(namespace: str, tag: str) -> str:
    return f"{{{namespace}}}{tag}"


def _b(name: str) -> str:
    return _q(BACKOFFICE, name)


def party_text(party: Party | None) -> str | None:
    """Return a party as `role:name`, `queue:name` or `person:name`."""
    return f"{party.kind}:{party.name}" if party else None


def render_definition_bpmn(definition: Definition) -> str:
    """Return a definition as a BPMN 2.0 document with a collaboration, lanes by role and a diagram."""
    return _Exporter(definition).render()



def _boundary_place(x: float, y: float, w: float, h: float, slot: int) -> tuple[float, float, float, float]:
    """Where the `slot`-th boundary event of a task sits: along its bottom edge, then its top, then its sides.

    A state with many exceptions and timers gets more events than its bottom edge holds; drawn
    in one row they would run past the task onto the next shape (a modeler shows them on top
    of a gateway). Past every edge's room, the bottom row goes on, where nothing is drawn below.
    """
    step = EVENT + 6
    across, down = max(1, int((w - 8) // step)), max(1, int((h - 8) // step))
    rows = ((across, lambda k: (x + 8 + k * step, y + h - EVENT / 2)),    # bottom
            (across, lambda k: (x + 8 + k * step, y - EVENT / 2)),        # top
            (down, lambda k: (x - EVENT / 2, y + 8 + k * step)),          # left
            (down, lambda k: (x + w - EVENT / 2, y + 8 + k * step)))      # right
    for room, place in rows:
        if slot < room:
            return (*place(slot), EVENT, EVENT)
        slot -= room
    return (x + 8 + (across + slot) * step, y + h - EVENT / 2, EVENT, EVENT)

class _Exporter:
    def __init__(self, definition: Definition) -> None:
        self.d = definition
        self.pid = f"Process_{definition.id.replace('-', '_')}"
        self.node_id: dict[str, str] = {}
        for sid in definition.states:  # "a-b" and "a_b" would make the same XML id: number the second
            node_id, number = f"State_{_ncname(sid)}", 2
            while node_id in self.node_id.values():
                node_id, number = f"State_{_ncname(sid)}_{number}", number + 1
            self.node_id[sid] = node_id
        self.bounds: dict[str, tuple[float, float, float, float]] = {}
        self.edges: list[tuple[str, tuple[tuple[float, float], ...]]] = []
        self.lane_of: dict[str, str] = {}  # flow node id -> lane id
        self.flows: list[tuple[str, str, str, dict[str, str], str | None]] = []
        # A parallel state is drawn as a split (its own node) and a join: flows back from its
        # branches go into the join, and its way on leaves from the join.
        self.join_of = {sid: f"Join_{self.node_id[sid].removeprefix('State_')}" for sid, state in
                        definition.states.items() if state.kind in (StateKind.PARALLEL, StateKind.CHECKLIST)}
        self.members = {sid: _branch_members(definition, sid) for sid in self.join_of}

    def render(self) -> str:
        d = self.d
        root = etree.Element(_q(BPMN, "definitions"), nsmap=NSMAP, attrib={
            "id": f"Definitions_{_ncname(d.id)}", "targetNamespace": f"urn:backoffice:workflow:{d.id}",
            "exporter": "backoffice", "exporterVersion": "1"})
        codes = sorted(d.exceptions)
        collaboration = etree.SubElement(root, _q(BPMN, "collaboration"), id="Collaboration_1")
        etree.SubElement(collaboration, _q(BPMN, "participant"), id="Participant_1", name=d.title, processRef=self.pid)
        process = etree.SubElement(root, _q(BPMN, "process"), id=self.pid, name=d.title, isExecutable="false")
        process.set(_b("id"), d.id)
        process.set(_b("version"), str(d.version))
        etree.SubElement(process, _q(BPMN, "documentation")).text = d.purpose
        extension = etree.SubElement(process, _q(BPMN, "extensionElements"))
        rest = {key: value for key, value in d.model_dump(mode="json", by_alias=True, exclude_defaults=True).items()
                if key not in CARRIED}
        rest["status"] = d.status.value  # the import's own default is draft
        etree.SubElement(extension, _b("definition")).text = yaml.safe_dump(rest, sort_keys=False, allow_unicode=True)
        for code in codes:
            root.append(etree.Element(_q(BPMN, "error"), id=f"Error_{_ncname(code)}", name=code, errorCode=code))
        self._place()
        lane_set = etree.SubElement(process, _q(BPMN, "laneSet"), id="LaneSet_1")
        elements = self._flow_nodes(process)
        for lane_id, (name, role, _y, _h) in self.lanes.items():
            lane = etree.SubElement(lane_set, _q(BPMN, "lane"), id=lane_id, name=name)
            lane.set(_b("role"), role or "")
            if role and d.roles[role].queue:
                lane.set(_b("queue"), d.roles[role].queue)
            for element_id in elements:
                if self.lane_of.get(element_id) == lane_id:
                    etree.SubElement(lane, _q(BPMN, "flowNodeRef")).text = element_id
        self._sla_timers(process)
        self._diagram(root)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True).decode("utf-8")

    # Layout

    def _place(self) -> None:
        """Lay the states out as the state diagram does, and make a lane per band and per role left over."""
        d = self.d
        process_map = diagram_map(d)
        layout = layout_map(process_map, layer_gap=LAYER_GAP)
        titles = [state.title or sid for sid, state in d.states.items()]
        label = {sid: (title if titles.count(title) == 1 else f"{title} ({sid})")
                 for (sid, _), title in zip(d.states.items(), titles, strict=True)}
        by_label = {node.activity: node for node in layout.nodes if node.kind is NodeKind.ACTIVITY}
        role_by_title = {(spec.title or rid.replace("-", " ").capitalize()): rid for rid, spec in d.roles.items()}
        self.lanes: dict[str, tuple[str, str | None, float, float]] = {}
        band_lane: dict[str | None, str] = {}
        for index, band in enumerate(layout.lanes):
            role = role_by_title.get(band.label)
            lane_id = f"Lane_{_ncname(role) if role else index}"
            band_lane[band.key] = lane_id
            self.lanes[lane_id] = (band.label, role, band.y, band.height)
        top = layout.lanes[-1].y + layout.lanes[-1].height if layout.lanes else MARGIN
        for rid, spec in d.roles.items():
            if f"Lane_{_ncname(rid)}" not in self.lanes:
                self.lanes[f"Lane_{_ncname(rid)}"] = (spec.title or rid, rid, top, EXTRA_LANE)
                top += EXTRA_LANE
        self.timer_lane_top = top
        self.width = layout.width
        for sid in d.states:
            node = by_label[label[sid]]
            x, y, w, h = node.x, node.y, node.width, node.height
            if self.d.states[sid].kind in TAG and TAG[self.d.states[sid].kind].endswith("Event"):
                x, y, w, h = x + w / 2 - EVENT / 2, y + h / 2 - EVENT / 2, EVENT, EVENT
            if sid in self.join_of:
                x, y, w, h = x, y + h / 2 - GATEWAY / 2, GATEWAY, GATEWAY
                self.bounds[self.join_of[sid]] = (x + GATEWAY + 30, y, GATEWAY, GATEWAY)
                self.lane_of[self.join_of[sid]] = band_lane.get(node.lane, next(iter(self.lanes)))
            self.bounds[self.node_id[sid]] = (x, y, w, h)
            self.lane_of[self.node_id[sid]] = band_lane.get(node.lane, next(iter(self.lanes)))

    # Process content

    def _flow_nodes(self, process: etree._Element) -> list[str]:
        d = self.d
        outgoing: dict[str, list[tuple[str, dict[str, str], str | None, str | None]]] = {}
        for transition in d.transitions:
            attributes = {}
            if transition.roles:
                attributes["roles"] = " ".join(transition.roles)
            if transition.requires:
                attributes["requires"] = " ".join(transition.requires)
            for source in transition.from_:
                target = self.node_id[transition.to]
                if transition.to in self.join_of and source in self.members[transition.to]:
                    target = self.join_of[transition.to]  # the branch ends: back into the join
                outgoing.setdefault(source, []).append((target, attributes, transition.name,
                                                        transition.guard.source if transition.guard else None))
        for sid, join in self.join_of.items():
            for branch in self.d.states[sid].branch_specs().values():
                self._flow(self.node_id[sid], self.node_id[branch.start], {}, None, None)
            for item in self.d.states[sid].items or ():
                if not any(t.to == sid for t in self.d.transitions if item in t.from_):
                    self._flow(self.node_id[item], join, {}, "done", None)  # an item's implicit way: done
        for sid, moves in outgoing.items():
            node_id = self.join_of.get(sid, self.node_id[sid])
            if len(moves) > 1 or any(guard for *_, guard in moves):
                gateway = f"Gateway_{node_id.removeprefix('State_')}"
                x, y, w, h = self.bounds[node_id]
                self.bounds[gateway] = (x + w + 40, y + h / 2 - GATEWAY / 2, GATEWAY, GATEWAY)
                self.lane_of[gateway] = self.lane_of[node_id]
                self._flow(node_id, gateway, {}, None, None)
                for target, attributes, name, guard in moves:
                    self._flow(gateway, target, attributes, name, guard)
            else:
                target, attributes, name, guard = moves[0]
                self._flow(node_id, target, attributes, name, guard)
        boundaries = self._boundaries()
        incoming: dict[str, list[str]] = {}
        leaving: dict[str, list[str]] = {}
        for flow_id, source, target, _, _ in self.flows:
            leaving.setdefault(source, []).append(flow_id)
            incoming.setdefault(target, []).append(flow_id)
        written: list[str] = []
        for sid, state in d.states.items():
            node_id = self.node_id[sid]
            element = etree.SubElement(process, _q(BPMN, TAG.get(state.kind, "userTask")), id=node_id,
                                       name=state.title or sid)
            element.set(_b("state"), sid)
            element.set(_b("kind"), state.kind.value)
            if state.role:
                element.set(_b("role"), state.role)
            if state.queue:
                element.set(_b("queue"), state.queue)
            if state.kind.is_human or state.kind is StateKind.EXCEPTION:
                if state.role:
                    element.set(_q(CAMUNDA, "candidateGroups"), state.role)
            step = d.automated_step(sid)
            if step is not None:
                element.set(_q(CAMUNDA, "type"), "external")
                element.set(_q(CAMUNDA, "topic"), step.action)
            if state.description:
                element.insert(0, _documentation(state.description))
            _refs(element, incoming.get(node_id, []), leaving.get(node_id, []))
            if state.kind is StateKind.CANCELLED:
                etree.SubElement(element, _q(BPMN, "terminateEventDefinition"), id=f"Terminate_{_ncname(sid)}")
            self._parallel_parts(element, sid)
            written.append(node_id)
            if sid in self.join_of:
                join = etree.SubElement(process, _q(BPMN, "parallelGateway"), id=self.join_of[sid],
                                        name=f"{state.title or sid}: join")
                _refs(join, incoming.get(self.join_of[sid], []), leaving.get(self.join_of[sid], []))
                written.append(self.join_of[sid])
        for gateway in [b for b in self.bounds if b.startswith("Gateway_")]:
            element = etree.SubElement(process, _q(BPMN, "exclusiveGateway"), id=gateway, name="Which way?")
            _refs(element, incoming.get(gateway, []), leaving.get(gateway, []))
            written.append(gateway)
        for boundary_id, host, attributes, definition in boundaries:
            element = etree.SubElement(process, _q(BPMN, "boundaryEvent"), id=boundary_id, attachedToRef=host,
                                       cancelActivity=attributes.pop("cancelActivity", "true"))
            name = attributes.pop("name", None)
            if name:
                element.set("name", name)
            for key, value in attributes.items():
                element.set(_b(key), value)
            _refs(element, [], leaving.get(boundary_id, []))
            element.append(definition)
            self.lane_of[boundary_id] = self.lane_of[host]
        for flow_id, source, target, attributes, name in self.flows:
            element = etree.SubElement(process, _q(BPMN, "sequenceFlow"), id=flow_id, sourceRef=source,
                                       targetRef=target)
            guard = attributes.pop("_guard", None)
            if name:
                element.set("name", name)
            for key, value in attributes.items():
                element.set(_b(key), value)
            if guard:
                condition = etree.SubElement(element, _q(BPMN, "conditionExpression"), language=CEL_LANGUAGE)
                condition.set(_q(XSI, "type"), "bpmn:tFormalExpression")
                condition.text = guard
        return written

    def _parallel_parts(self, element: etree._Element, sid: str) -> None:
        """Carry what BPMN has no attribute for: branches and join, a sub-case's mapping, a checklist's items."""
        state = self.d.states[sid]
        dumped = state.model_dump(mode="json", by_alias=True, exclude_none=True)
        if state.kind is StateKind.PARALLEL:
            element.set(_b("branches"), json.dumps(dumped["branches"], sort_keys=True))
            element.set(_b("join"), str(state.join or "all"))
        elif state.kind is StateKind.SUBCASE:
            element.set("calledElement", state.workflow or "")
            element.set(_b("workflow"), state.workflow or "")
            for key in ("pass", "returns"):
                if key in dumped:
                    element.set(_b(key), json.dumps(dumped[key], sort_keys=True))
            if state.outcome:
                element.set(_b("outcome"), state.outcome)
        elif state.kind is StateKind.CHECKLIST:
            element.set(_b("items"), json.dumps(state.items))
            if state.required is not None:
                element.set(_b("required"), json.dumps(state.required))

    def _flow(self, source: str, target: str, attributes: dict[str, str], name: str | None,
              guard: str | None) -> None:
        flow_id = f"Flow_{len(self.flows) + 1}"
        attributes = dict(attributes)
        if guard:
            attributes["_guard"] = guard
        self.flows.append((flow_id, source, target, attributes, name))
        sx, sy, sw, sh = self.bounds[source]
        tx, ty, tw, th = self.bounds[target]
        if tx >= sx + sw:
            start, end = (sx + sw, sy + sh / 2), (tx, ty + th / 2)
            middle = (start[0] + end[0]) / 2
            points = (start, (middle, start[1]), (middle, end[1]), end)
        else:  # back or down: under both shapes
            start, end = (sx + sw / 2, sy + sh), (tx + tw / 2, ty + th)
            below = max(sy + sh, ty + th) + 20
            points = (start, (start[0], below), (end[0], below), end)
        self.edges.append((flow_id, points))

    def _boundaries(self) -> list[tuple[str, str, dict[str, str], etree._Element]]:
        """Error boundaries for exceptions and timer boundaries for timers in a state, with their flows."""
        d = self.d
        found: list[tuple[str, str, dict[str, str], etree._Element]] = []
        placed: dict[str, int] = {}

        def add(host_sid: str, attributes: dict[str, str], definition: etree._Element) -> str | None:
            host = self.node_id[host_sid]
            if not TAG.get(d.states[host_sid].kind, "userTask").endswith("Task"):
                return None  # events take no boundary events
            boundary = f"Boundary_{len(found) + 1}"
            x, y, w, h = self.bounds[host]
            slot = placed.get(host, 0)
            placed[host] = slot + 1
            self.bounds[boundary] = _boundary_place(x, y, w, h, slot)
            found.append((boundary, host, attributes, definition))
            return boundary

        cancelled = next((sid for sid, s in d.states.items() if s.kind is StateKind.CANCELLED), None)
        resolved: set[tuple[str, str]] = set()
        for code, reason in d.exceptions.items():
            after = reason.returns_to or (reason.ends if isinstance(reason.ends, str) else cancelled)
            for source in reason.raised_in:
                definition = etree.Element(_q(BPMN, "errorEventDefinition"), errorRef=f"Error_{_ncname(code)}")
                attributes = {"exception": code, "name": code.replace("_", " ")}
                if reason.resolver:
                    attributes["resolver"] = party_text(reason.resolver) or ""
                if reason.description:
                    attributes["description"] = reason.description
                attributes["ends" if reason.ends is not False else "returns_to"] = (
                    str(reason.ends).lower() if reason.ends is True else str(reason.ends or reason.returns_to))
                boundary = add(source, attributes, definition)
                target = reason.state or after
                if boundary and target:
                    self._flow(boundary, self.node_id[target], {"exception": code}, code.replace("_", " "), None)
            if reason.state and after and (reason.state, after) not in resolved:
                resolved.add((reason.state, after))
                self._flow(self.node_id[reason.state], self.node_id[after], {"exception": code, "resolved": "true"},
                           f"{code.replace('_', ' ')} resolved", None)
        for step in d.automated_steps:
            if step.on_exhausted:
                definition = etree.Element(_q(BPMN, "errorEventDefinition"))
                boundary = add(step.state, {"name": "retries run out"}, definition)
                if boundary:
                    self._flow(boundary, self.node_id[step.on_exhausted], {}, "retries run out", None)
        for timer in d.timers:
            if timer.state is None or timer.after is None:
                continue
            definition = etree.Element(_q(BPMN, "timerEventDefinition"))
            etree.SubElement(definition, _q(BPMN, "timeDuration"), attrib={_q(XSI, "type"): "bpmn:tFormalExpression"}
                             ).text = text_to_iso_duration(timer.after)
            add(timer.state, {**_timer_attributes(timer), "cancelActivity": "false",
                              "name": timer.name or f"{timer.kind} after {timer.after}"}, definition)
        return found

    def _sla_timers(self, process: etree._Element) -> None:
        """Put each timer that counts on an SLA in an event sub-process started by a non-interrupting timer."""
        timers = [t for t in self.d.timers if t.sla is not None]
        if not timers:
            return
        lane_id = "Lane_SLA_timers"  # capitals: no role id (a slug) can make it
        self.lanes[lane_id] = ("SLA timers", None, self.timer_lane_top, 130.0)
        lane = next(e for e in process.iter(_q(BPMN, "laneSet")))
        etree.SubElement(lane, _q(BPMN, "lane"), id=lane_id, name="SLA timers").set(_b("role"), "")
        for index, timer in enumerate(timers, start=1):
            sub_id, start_id, end_id, flow_id = (f"SlaTimer_{index}", f"SlaTimer_{index}_start",
                                                 f"SlaTimer_{index}_end", f"SlaTimer_{index}_flow")
            sub = etree.SubElement(process, _q(BPMN, "subProcess"), id=sub_id, triggeredByEvent="true",
                                   name=timer.name or f"{timer.kind} at {timer.at * 100:g}% of {timer.sla}")
            start = etree.SubElement(sub, _q(BPMN, "startEvent"), id=start_id, isInterrupting="false",
                                     name=f"{timer.at * 100:g}% of the {timer.sla.value.replace('_', ' ')} SLA")
            for key, value in _timer_attributes(timer).items():
                start.set(_b(key), value)
            etree.SubElement(start, _q(BPMN, "outgoing")).text = flow_id
            definition = etree.SubElement(start, _q(BPMN, "timerEventDefinition"))
            etree.SubElement(definition, _q(BPMN, "timeDuration"), attrib={_q(XSI, "type"): "bpmn:tFormalExpression"}
                             ).text = self._sla_iso(timer)
            end = etree.SubElement(sub, _q(BPMN, "endEvent"), id=end_id,
                                   name=f"{timer.kind.value.capitalize()} {party_text(timer.target) or ''}".strip())
            etree.SubElement(end, _q(BPMN, "incoming")).text = flow_id
            etree.SubElement(end, _q(BPMN, "escalationEventDefinition"))
            etree.SubElement(sub, _q(BPMN, "sequenceFlow"), id=flow_id, sourceRef=start_id, targetRef=end_id)
            x, y = MARGIN + LANE_LABEL_WIDTH + (index - 1) * 190, self.timer_lane_top + 15
            self.bounds[sub_id] = (x, y, 170, 100)
            self.bounds[start_id] = (x + 20, y + 32, EVENT, EVENT)
            self.bounds[end_id] = (x + 114, y + 32, EVENT, EVENT)
            self.edges.append((flow_id, ((x + 56, y + 50), (x + 114, y + 50))))
            self.width = max(self.width, x + 190)

    def _sla_iso(self, timer: Timer) -> str:
        """The SLA's share as a wall-clock duration: business time has no BPMN form, so this is approximate."""
        duration = getattr(self.d.sla, timer.sla.value) if self.d.sla and timer.sla else None
        seconds = round(duration.seconds * (timer.at or 1)) if duration else 0
        return f"PT{max(seconds, 1)}S"

    # Diagram

    def _diagram(self, root: etree._Element) -> None:
        diagram = etree.SubElement(root, _q(BPMNDI, "BPMNDiagram"), id="BPMNDiagram_1")
        plane = etree.SubElement(diagram, _q(BPMNDI, "BPMNPlane"), id="BPMNPlane_1", bpmnElement="Collaboration_1")
        pool_x = MARGIN + LANE_LABEL_WIDTH - 2 * POOL_HEADER
        tops = [y for *_, y, _h in self.lanes.values()]
        bottoms = [y + h for *_, y, h in self.lanes.values()]
        pool_y, pool_height = min(tops), max(bottoms) - min(tops)
        pool_width = self.width - MARGIN - pool_x
        _shape(plane, "Participant_1", (pool_x, pool_y, pool_width, pool_height), isHorizontal="true")
        for lane_id, (_name, _role, y, height) in self.lanes.items():
            _shape(plane, lane_id, (pool_x + POOL_HEADER, y, pool_width - POOL_HEADER, height), isHorizontal="true")
        for element_id, bounds in self.bounds.items():
            extra = {"isMarkerVisible": "true"} if element_id.startswith("Gateway_") else {}
            if element_id.startswith("SlaTimer_") and "_" not in element_id[len("SlaTimer_"):]:
                extra = {"isExpanded": "true"}
            _shape(plane, element_id, bounds, **extra)
        for flow_id, points in self.edges:
            edge = etree.SubElement(plane, _q(BPMNDI, "BPMNEdge"), id=f"{flow_id}_di", bpmnElement=flow_id)
            for x, y in points:
                etree.SubElement(edge, _q(DI, "waypoint"), x=f"{x:.0f}", y=f"{y:.0f}")


def _branch_members(definition: Definition, parallel: str) -> set[str]:
    """Return the states of a parallel state's branches: reached from a branch's start before its join."""
    seen: set[str] = set()
    queue = [branch.start for branch in definition.states[parallel].branch_specs().values()]
    while queue:
        state = queue.pop()
        if state in seen or state == parallel:
            continue
        seen.add(state)
        queue.extend(t.to for t in definition.allowed_transitions(state))
        step = definition.automated_step(state)
        if step is not None and step.on_exhausted:
            queue.append(step.on_exhausted)
    return seen


def _timer_attributes(timer: Timer) -> dict[str, str]:
    attributes = {"timer": timer.name or "", "timer-kind": timer.kind.value,
                  "target": party_text(timer.target) or ""}
    if timer.after is not None:
        attributes["after"] = str(timer.after)
    if timer.sla is not None:
        attributes["sla"] = timer.sla.value
        attributes["at"] = f"{(timer.at or 0) * 100:g}%"
    return attributes


def _documentation(text: str) -> etree._Element:
    element = etree.Element(_q(BPMN, "documentation"))
    element.text = text
    return element


def _refs(element: etree._Element, incoming: list[str], outgoing: list[str]) -> None:
    """Add incoming and outgoing references where the schema wants them: after documentation, before the rest."""
    position = 1 if len(element) and element[0].tag == _q(BPMN, "documentation") else 0
    for tag, refs in (("incoming", incoming), ("outgoing", outgoing)):
        for ref in refs:
            child = etree.Element(_q(BPMN, tag))
            child.text = ref
            element.insert(position, child)
            position += 1


def _shape(plane: etree._Element, element_id: str, bounds: tuple[float, float, float, float], **extra: str) -> None:
    shape = etree.SubElement(plane, _q(BPMNDI, "BPMNShape"), id=f"{element_id}_di", bpmnElement=element_id, **extra)
    x, y, width, height = bounds
    etree.SubElement(shape, _q(DC, "Bounds"), x=f"{x:.0f}", y=f"{y:.0f}", width=f"{width:.0f}",
                     height=f"{height:.0f}")


def _ncname(text: str) -> str:
    """Return text usable in an XML id: letters, digits, underscores."""
    return "".join(c if c.isalnum() or c == "_" else "_" for c in text)
