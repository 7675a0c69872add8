"""Turn a BPMN 2.0 process into a workflow definition, listing what the definition cannot say.

A definition is a state machine: a case waits in one state at a time and moves along
transitions. So the places where BPMN work waits become states (tasks, call activities,
catching events, start and end events), and everything between two of them (gateways,
embedded sub-processes, throw events) folds into the transitions: the conditions met on the
way become the transition's guard, in CEL. Lanes and candidate groups become roles; service,
script, send and business rule tasks automated steps with a named action; boundary timers
timers; error boundaries on automated steps the state their retries run out to.

What a one-state-at-a-time machine cannot hold is imported in the nearest form it can hold
and listed with the element's id and line: parallel branches run one after another,
inclusive and event-based gateways become a choice of one way, call activities a waiting
state, multi-instance an activity done once. Nothing is dropped without a line saying so.
What only a person can say (the owner, the trigger's system, the purpose, the proof of
completion, the data contract's types) is filled with placeholders that start with TODO.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backoffice.definitions.bpmn_conditions import translate_condition
from backoffice.definitions.bpmn_reader import CONTAINERS, BpmnDocument, Flow, Node, Process, read_bpmn
from backoffice.definitions.bpmn_timers import iso_duration_to_text
from backoffice.definitions.model import REQUESTER
from backoffice.errors import BpmnFileError

OWNER_ROLE = "process-owner"
UNASSIGNED_ROLE = "to-be-assigned"
TRIGGER_SYSTEM = "todo-trigger-system"
AUTOMATED_TAGS = frozenset({"serviceTask", "scriptTask", "sendTask", "businessRuleTask"})
HUMAN_TAGS = frozenset({"userTask", "manualTask", "task", "adHocSubProcess"})
WAITING_TAGS = frozenset({"receiveTask", "callActivity", "intermediateCatchEvent"})
GATEWAYS = frozenset({"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway",
                      "complexGateway"})


@dataclass(frozen=True)
class Finding:
    """Something of the BPMN model the definition holds differently, or not at all.

    expressible: False when the definition cannot say it (it is imported in the nearest form,
    or left out, as the message says); True for a note on how it was imported.
    """

    element: str
    tag: str
    line: int
    message: str
    expressible: bool = False

    def __str__(self) -> str:
        return f"line {self.line}: {self.tag} {self.element!r}: {self.message}"


@dataclass
class BpmnImport:
    """The definition (as plain YAML-ready values), what could not be expressed, and the placeholders."""

    definition: dict[str, Any]
    process: Process
    findings: list[Finding]
    placeholders: list[str]

    @property
    def not_expressible(self) -> list[Finding]:
        return [f for f in self.findings if not f.expressible]

    @property
    def notes(self) -> list[Finding]:
        return [f for f in self.findings if f.expressible]


def import_bpmn(path: Path | str, *, process_id: str | None = None) -> BpmnImport:
    """Convert one process of a BPMN 2.0 file into a definition.

    Args:
        path: the .bpmn (or .bpmn20.xml) file.
        process_id: which process, when the file holds several (a collaboration).

    Raises:
        BpmnFileError: the file is not a readable BPMN 2.0 model, names a process it does not
            hold, or holds several processes and none was chosen.
    """
    document = read_bpmn(path)
    process = choose_process(document, process_id)
    return _Importer(document, process).run()


def choose_process(document: BpmnDocument, process_id: str | None) -> Process:
    """Return the process to import: the one asked for, or the only one with flow nodes."""
    listing = ", ".join(f"{p.id} ({p.label}, line {p.line})" for p in document.processes)
    if process_id is not None:
        for process in document.processes:
            if process.id == process_id:
                return process
        raise BpmnFileError(document.path, f"holds no process {process_id!r}", expected=f"one of {listing}")
    candidates = [p for p in document.processes if p.nodes]
    if not candidates:
        raise BpmnFileError(document.path, "its processes hold no flow nodes", line=document.processes[0].line,
                            expected="a process with a start event, tasks and flows")
    if len(candidates) > 1:
        listing = ", ".join(f"{p.id} ({p.label}, line {p.line})" for p in candidates)
        raise BpmnFileError(document.path, f"holds {len(candidates)} processes: {listing}",
                            expected="--process ID to import one of them")
    return candidates[0]


def slug(text: str) -> str:
    """Return lowercase words joined by dashes, starting with a letter; empty when nothing is left."""
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1-\2", text)
    value = re.sub(r"[^a-z0-9]+", "-", words.lower()).strip("-")
    return value if not value or value[0].isalpha() else f"step-{value}"


def snake(text: str) -> str:
    return slug(text).replace("-", "_")


@dataclass
class _Path:
    """A way from a state to the next state: the guards met on the way and the last flow name."""

    target: str
    guards: tuple[str, ...] = ()
    name: str | None = None
    untranslated: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()


@dataclass
class _Importer:
    document: BpmnDocument
    process: Process
    findings: list[Finding] = field(default_factory=list)
    outgoing: dict[str, list[Flow]] = field(default_factory=dict)
    incoming: dict[str, list[Flow]] = field(default_factory=dict)
    state_of: dict[str, str] = field(default_factory=dict)  # BPMN node id -> state id
    states: dict[str, dict[str, Any]] = field(default_factory=dict)
    transitions: list[dict[str, Any]] = field(default_factory=list)
    roles: dict[str, dict[str, Any]] = field(default_factory=dict)
    timers: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    data_fields: dict[str, str | None] = field(default_factory=dict)
    reported_flows: set[str] = field(default_factory=set)
    extra_starts: list[Node] = field(default_factory=list)
    joined: set[str] = field(default_factory=set)
    start_node: Node | None = None
    exceptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    lane_role: dict[str, str | None] = field(default_factory=dict)
    placeholders: list[str] = field(default_factory=lambda: list(_PLACEHOLDERS))

    def note(self, node: Node | Flow, message: str, *, expressible: bool = False) -> None:
        tag = node.tag if isinstance(node, Node) else "sequenceFlow"
        self.findings.append(Finding(node.id, tag, node.line, message, expressible))

    # The run

    def run(self) -> BpmnImport:
        nodes = self.process.nodes
        for lane_id, name in self.process.lanes.items():
            extensions = self.process.lane_extensions.get(lane_id, {})
            role = (extensions["role"] or None) if "role" in extensions else (slug(name) or slug(lane_id))
            self.lane_role[lane_id] = role
            if role:
                self.roles.setdefault(role, {"title": name, "queue": extensions.get("queue") or role})
        skipped = self._skipped()
        for flow in self.process.flows.values():
            if flow.source in skipped or flow.target in skipped:
                continue
            self.outgoing.setdefault(flow.source, []).append(flow)
            self.incoming.setdefault(flow.target, []).append(flow)
        self._sequentialize_parallel()
        for node in nodes.values():
            if node.id not in skipped:
                self._classify(node)
        intake = self._intake()
        for node_id, state_id in list(self.state_of.items()):
            if node_id in nodes and self.states[state_id]["kind"] not in ("done", "cancelled"):
                self._transitions_from(nodes[node_id], state_id)
        for start in self.extra_starts:
            for path in self._leave(start):
                self._add_transition(intake, path, f"start at {start.label}")
        self._boundaries(skipped)
        self._close_open_ends()
        self._drop_unreachable(intake)
        self._close_dead_ends()
        definition = self._definition()
        findings = sorted(self.findings, key=lambda f: (f.line, f.element))
        return BpmnImport(definition, self.process, findings, self.placeholders)

    def _skipped(self) -> set[str]:
        """Leave out what no flow reaches: event sub-processes and compensation handlers, with their insides."""
        nodes = self.process.nodes
        skipped: set[str] = set()
        for node in nodes.values():
            if node.triggered_by_event:
                carried = [n for n in nodes.values() if n.parent == node.id and n.extensions.get("timer-kind")]
                self.timers += [_exported_timer(n, None) for n in carried]
                if not carried:
                    self.note(node, "an event sub-process (started by an event while the case runs) has no "
                                    "counterpart; left out with everything inside it")
                skipped.add(node.id)
            elif node.for_compensation:
                self.note(node, "a compensation handler (undoing work) has no counterpart; left out")
                skipped.add(node.id)
            elif node.tag == "boundaryEvent" and node.event == "compensate":
                self.note(node, "a compensation boundary event has no counterpart; left out")
                skipped.add(node.id)
        changed = True
        while changed:
            inside = {n.id for n in nodes.values() if n.parent in skipped and n.id not in skipped}
            changed = bool(inside)
            skipped |= inside
        return skipped

    # Parallel gateways: the definition has no branches yet, so they run one after another.

    def _sequentialize_parallel(self) -> None:
        nodes = self.process.nodes
        for gateway in [n for n in nodes.values() if n.tag == "parallelGateway"]:
            branches = list(self.outgoing.get(gateway.id, []))
            if len(branches) < 2:
                if len(self.incoming.get(gateway.id, [])) > 1 and gateway.id not in self.joined:
                    self.note(gateway, "a parallel join (it waits for every branch that comes in): the definition "
                                       "has no parallel branches, so it passes on when one arrives")
                continue
            reach = [self._reachable(flow.target) for flow in branches]
            joins = [n for n in nodes.values() if n.tag in ("parallelGateway", "inclusiveGateway")
                     and len(self.incoming.get(n.id, [])) > 1 and all(n.id in r for r in reach)]
            labels = ", then ".join(nodes[f.target].label for f in branches)
            if not joins:
                self.note(gateway, f"a parallel split with no join: the definition has no parallel branches; its "
                                   f"{len(branches)} branches were imported as a choice of one "
                                   f"({labels.replace(', then ', ' or ')})")
                continue
            join = min(joins, key=lambda n: sum(r[n.id] for r in reach))
            self.joined.add(join.id)
            members = [self._reachable(flow.target, stop=join.id) for flow in branches]
            for index, flow in enumerate(branches[:-1]):
                following = branches[index + 1].target
                for into_join in list(self.incoming.get(join.id, [])):
                    if into_join.source in members[index] or into_join is flow:
                        self._retarget(into_join, following)
            self.outgoing[gateway.id] = [branches[0]]
            self.incoming[join.id] = [f for f in self.incoming.get(join.id, []) if f.target == join.id]
            self.note(gateway, f"a parallel split: the definition has no parallel branches yet, so its "
                               f"{len(branches)} branches run one after another ({labels}), joined at "
                               f"{join.id!r} (line {join.line})")
            self.note(join, f"the parallel join of {gateway.id!r}: with its branches one after another, it passes on")

    def _reachable(self, start: str, *, stop: str | None = None) -> dict[str, int]:
        distance, queue = {start: 0}, deque([start])
        while queue:
            current = queue.popleft()
            if current == stop:
                continue
            for flow in self.outgoing.get(current, []):
                if flow.target not in distance:
                    distance[flow.target] = distance[current] + 1
                    queue.append(flow.target)
        return distance

    def _retarget(self, flow: Flow, target: str) -> None:
        moved = Flow(flow.id, flow.source, target, flow.name, flow.line, flow.condition, flow.language)
        self.outgoing[flow.source] = [moved if f is flow else f for f in self.outgoing.get(flow.source, [])]
        self.incoming[flow.target] = [f for f in self.incoming.get(flow.target, []) if f is not flow]
        self.incoming.setdefault(target, []).append(moved)

    # States

    def _state_id(self, node: Node) -> str:
        base = node.extensions.get("state") or slug(node.name or "") or slug(node.id) or "step"
        candidate, number = base, 2
        while candidate in self.states:
            candidate, number = f"{base}-{number}", number + 1
        return candidate

    def _lane_role(self, node: Node) -> str | None:
        lane = node.lane
        parent = self.process.nodes.get(node.parent)
        while lane is None and parent is not None:  # inside a sub-process: the sub-process's lane
            lane, parent = parent.lane, self.process.nodes.get(parent.parent)
        return self.lane_role.get(lane) if lane is not None else None

    def _add_state(self, node: Node, kind: str, *, role: str | None = None, extra: str = "") -> str:
        state_id = self._state_id(node)
        state: dict[str, Any] = {"kind": kind, "title": node.label}
        if role:
            state["role"] = role
        where = f"BPMN {node.tag} {node.id}, line {node.line}"
        state["description"] = "; ".join(part for part in (node.documentation, extra, where) if part)
        self.states[state_id] = state
        self.state_of[node.id] = state_id
        if node.loop:
            self.note(node, f"a {node.loop} activity (done once per item) has no counterpart; imported as done once")
        return state_id

    def _classify(self, node: Node) -> None:
        tag = node.tag
        if node.extensions.get("state") and node.extensions.get("kind") and tag != "startEvent":
            self._exported(node)
            return
        if tag in CONTAINERS and not any(n.parent == node.id for n in self.process.nodes.values()):
            self.note(node, "a collapsed sub-process whose steps the file does not hold: imported as one human task",
                      expressible=True)
            self._human(node)
        elif tag in HUMAN_TAGS:
            self._human(node)
        elif tag in AUTOMATED_TAGS or (tag == "intermediateThrowEvent" and node.event == "message"):
            self._automated(node)
        elif tag in WAITING_TAGS and not (tag == "intermediateCatchEvent" and node.event == "link"):
            self._waiting(node)
        elif tag == "endEvent" and not self._inside_container(node):
            self._end(node)
        elif tag in GATEWAYS and tag not in ("exclusiveGateway", "parallelGateway"):
            how = {"inclusiveGateway": "an inclusive gateway (one or more ways at once) was imported as a choice "
                                       "of one way, by its conditions",
                   "eventBasedGateway": "an event-based gateway (the first event to happen decides) was imported "
                                        "as a choice of one way: whoever sees the event moves the case on",
                   "complexGateway": "a complex gateway was imported as a choice of one way"}[tag]
            self.note(node, how)
        elif tag == "intermediateThrowEvent" and node.event and node.event != "link":
            self.note(node, f"{_a(node.event)} throw event has no counterpart; the case passes on")
        elif tag in CONTAINERS and node.loop:
            self.note(node, f"a {node.loop} sub-process (run once per item) has no counterpart; its steps were "
                            "imported to run once")
        elif tag == "transaction":
            self.note(node, "a transaction sub-process: its states were imported, its rollback (cancel) was not")

    def _exported(self, node: Node) -> None:
        """A state `bpmn export` wrote: its kind, role and queue are on it."""
        ext = node.extensions
        role = ext.get("role") or None
        if role and role != REQUESTER:
            self.roles.setdefault(role, {"title": role, "queue": role})
        state_id = self._add_state(node, ext["kind"], role=role)
        if ext.get("queue"):
            self.states[state_id]["queue"] = ext["queue"]
        if ext["kind"] == "automated":
            self.steps.append({"state": state_id, "action": _action(node)[0]})

    def _inside_container(self, node: Node) -> bool:
        return node.parent in self.process.nodes

    def _human(self, node: Node) -> None:
        ext = node.extensions
        groups = [g.strip() for g in ext.get("candidateGroups", "").split(",") if g.strip()]
        dynamic = [g for g in groups if "{" in g]
        if dynamic:
            self.note(node, f"candidate groups {', '.join(dynamic)} are computed at run time; assign a role")
        group_roles = [slug(g) for g in groups if "{" not in g and slug(g)]
        for group, role in zip([g for g in groups if "{" not in g and slug(g)], group_roles):
            self.roles.setdefault(role, {"title": group, "queue": role})
        role = (group_roles[0] if group_roles else None) or self._lane_role(node)
        if role is None:
            role = UNASSIGNED_ROLE
            self.roles.setdefault(UNASSIGNED_ROLE, {"title": "TODO: who does this work (the BPMN model names no "
                                                             "lane or candidate group)", "queue": UNASSIGNED_ROLE})
        people = [f"{k} {ext[k]}" for k in ("assignee", "candidateUsers") if ext.get(k)]
        extra = f"in the BPMN model: {', '.join(people)}" if people else ""
        if node.tag == "adHocSubProcess":
            self.note(node, "an ad-hoc sub-process (tasks in any order) was imported as one human task")
        state_id = self._add_state(node, "human_task", role=role, extra=extra)
        if len(group_roles) > 1:
            self.states[state_id]["_roles"] = group_roles

    def _automated(self, node: Node) -> None:
        ext = node.extensions
        action, how = _action(node)
        state_id = self._add_state(node, "automated", extra=how)
        self.steps.append({"state": state_id, "action": action})
        if node.tag == "scriptTask":
            self.note(node, f"a script ({ext.get('scriptFormat', 'unknown language')}) runs as the action "
                            f"{action!r}: register an action of that name that does what the script did",
                      expressible=True)

    def _waiting(self, node: Node) -> None:
        role = self._lane_role(node)
        if node.tag == "callActivity":
            called = node.called_element or "(not named)"
            held = next((p for p in self.document.processes if p.id == called), None)
            where = f" (this file holds it: import it with --process {called})" if held else ""
            self.note(node, f"a call activity starts the process {called}{where}; definitions have no sub-cases "
                            "yet, so the case waits here until someone moves it on")
            self._add_state(node, "waiting", role=role, extra=f"waits for a sub-case of {called}")
            return
        detail = ""
        if node.event == "timer":
            detail = self._timer_text(node)
            self.note(node, f"a timer catch event ({detail}): the case waits here; the definition has no timed "
                            "move, so a timer escalates when the time is up and a person moves it on")
        elif node.event and node.tag == "intermediateCatchEvent":
            self.note(node, f"waits for a {node.event} event: the case waits here until the API or a person "
                            "moves it on", expressible=True)
        state_id = self._add_state(node, "waiting", role=role, extra=detail)
        if node.event == "timer" and (after := self._timer_after(node)):
            self.timers.append({"name": f"{node.label} due", "kind": "escalation", "state": state_id,
                                "after": after, "target": {"role": role or OWNER_ROLE}})

    def _end(self, node: Node) -> None:
        kind = "cancelled" if node.event in ("error", "cancel") else "done"
        if node.event in ("terminate", "error", "cancel", "message", "signal", "escalation", "compensate"):
            self.note(node, f"{_a(node.event)} end event was imported as a {kind} end state", expressible=True)
        self._add_state(node, kind)

    def _intake(self) -> str:
        starts = [n for n in self.process.nodes.values() if n.tag == "startEvent" and not self._inside_container(n)
                  and n.id not in self._skipped_ids()]
        chosen = next((n for n in starts if n.event is None), starts[0] if starts else None)
        if chosen is None:
            state_id = "start"
            self.states = {"start": {"kind": "intake", "title": "Start",
                                     "description": "the BPMN process has no start event"}, **self.states}
            entry = [n for n in self.process.nodes.values() if not self.incoming.get(n.id)
                     and n.tag not in ("boundaryEvent",) and not self._inside_container(n)
                     and n.id in self.state_of]
            for node in entry:
                self.transitions.append({"from": state_id, "to": self.state_of[node.id]})
            self.findings.append(Finding(self.process.id, "process", self.process.line,
                                         "no start event: an intake state was added before the steps no flow "
                                         "leads to", True))
            return state_id
        state_id = self._state_id(chosen)
        self.states = {state_id: {"kind": "intake", "title": chosen.label,
                                  "description": f"BPMN startEvent {chosen.id}, line {chosen.line}"}, **self.states}
        self.state_of[chosen.id] = state_id
        if chosen.event:
            what = self._timer_text(chosen) if chosen.event == "timer" else chosen.event
            self.note(chosen, f"a {chosen.event} start event ({what}): fill in the trigger (event and system)",
                      expressible=True)
        self.start_node = chosen
        self.extra_starts = [n for n in starts if n is not chosen]
        for other in self.extra_starts:
            self.note(other, f"a second start event ({other.event or 'none'}): the definition has one intake, so "
                             f"its way on starts from {state_id!r}")
        return state_id

    def _skipped_ids(self) -> set[str]:
        return {n.id for n in self.process.nodes.values() if n.triggered_by_event or n.for_compensation}

    # Transitions

    def _leave(self, node: Node, seen: frozenset[str] = frozenset()) -> list[_Path]:
        """Return the paths from a node's way out to the next states."""
        flows = [f for f in self.outgoing.get(node.id, []) if "exception" not in f.extensions]
        if not flows and self._inside_container(node) and node.tag != "boundaryEvent":
            container = self.process.nodes[node.parent]
            return self._leave(container, seen)
        untranslated_siblings = False
        guards: dict[str, str | None] = {}
        for flow in flows:
            if flow.condition:
                condition = translate_condition(flow.condition, flow.language)
                guards[flow.id] = condition.cel
                self._fields(condition.fields)
                if condition.cel is None:
                    untranslated_siblings = True
                    if flow.id not in self.reported_flows:
                        self.reported_flows.add(flow.id)
                        self.note(flow, f"the condition {flow.condition!r} was not translated to CEL: "
                                        f"{condition.reason}; the transition has no guard, so write one")
        implicit_split = node.tag not in GATEWAYS and len([f for f in flows if not f.condition
                                                          and f.id != node.default_flow]) > 1
        if implicit_split:
            self.note(node, f"{len(flows)} unconditioned flows leave it, which BPMN runs in parallel; imported "
                            "as a choice of one way")
        paths: list[_Path] = []
        for flow in flows:
            guard = guards.get(flow.id)
            if flow.id == node.default_flow and not untranslated_siblings:
                others = [g for fid, g in guards.items() if fid != flow.id and g]
                guard = f"!({' || '.join(others)})" if others else None
            untranslated = (flow.condition,) if flow.condition and guards.get(flow.id) is None else ()
            roles = tuple(flow.extensions.get("roles", "").split())
            requires = tuple(flow.extensions.get("requires", "").split())
            for path in self._arrive(flow.target, seen | {node.id}):
                paths.append(_Path(path.target, ((guard,) if guard else ()) + path.guards,
                                   path.name or flow.name, untranslated + path.untranslated,
                                   path.roles or roles, path.requires or requires))
        return paths

    def _arrive(self, node_id: str, seen: frozenset[str]) -> list[_Path]:
        node = self.process.nodes[node_id]
        if node_id in self.state_of:
            return [_Path(self.state_of[node_id])]
        if node_id in seen:  # a loop of gateways with no state on it
            return []
        if node.tag == "intermediateThrowEvent" and node.event == "link":
            name = node.event_detail.get("name") or node.name
            catch = next((n for n in self.process.nodes.values() if n.tag == "intermediateCatchEvent"
                          and n.event == "link" and (n.event_detail.get("name") or n.name) == name), None)
            if catch is None:
                self.note(node, f"a link throw event whose catch ({name!r}) is not in the process; the way ends here")
                return []
            return self._leave(catch, seen | {node.id})
        if node.tag in CONTAINERS and node.id not in self.state_of:
            inner = [n for n in self.process.nodes.values() if n.parent == node.id and n.tag == "startEvent"]
            entry = inner or [n for n in self.process.nodes.values() if n.parent == node.id
                              and not self.incoming.get(n.id) and n.tag != "boundaryEvent"]
            return [p for start in entry for p in (self._arrive(start.id, seen) if start.id in self.state_of
                                                   else self._leave(start, seen | {node.id}))]
        return self._leave(node, seen)

    def _transitions_from(self, node: Node, state_id: str) -> None:
        for path in self._leave(node):
            self._add_transition(state_id, path)

    def _add_transition(self, source: str, path: _Path, name: str | None = None) -> None:
        transition: dict[str, Any] = {"from": source, "to": path.target}
        label = name or path.name
        if path.untranslated:
            label = f"{label or 'to ' + self.states[path.target]['title']} (TODO guard: {' and '.join(path.untranslated)})"
        if label:
            transition["name"] = label
        guards = list(path.guards)
        if len(guards) > 1:
            guards = [f"({g})" if "||" in g and not g.startswith("!(") else g for g in guards]
        if guards:
            transition["guard"] = guards[0] if len(guards) == 1 else " && ".join(guards)
        if path.requires:
            transition["requires"] = list(path.requires)
        roles = path.roles or self.states.get(source, {}).get("_roles")
        if roles:
            transition["roles"] = list(roles)
        if transition not in self.transitions:
            self.transitions.append(transition)

    def _fields(self, found: dict[str, str | None]) -> None:
        for name, kind in found.items():
            if kind or name not in self.data_fields:
                self.data_fields[name] = kind or self.data_fields.get(name)

    # Boundary events

    def _boundaries(self, skipped: set[str]) -> None:
        for node in self.process.nodes.values():
            if node.tag != "boundaryEvent" or node.id in skipped:
                continue
            host = self.process.nodes[node.attached_to]
            sources = [self.state_of[n] for n in self._states_in(host)]
            if host.tag in CONTAINERS:
                self.note(node, f"a boundary event on the sub-process {host.id!r}: imported on each of its "
                                f"{len(sources)} states", expressible=True)
            if node.extensions.get("exception"):
                self._exported_exception(node, sources)
                continue
            if node.extensions.get("timer-kind"):
                for source in sources:
                    self.timers.append(_exported_timer(node, source))
                continue
            paths = self._leave(node)
            if node.event == "timer":
                self._boundary_timer(node, sources, paths)
            elif node.event == "error" and all(self.states[s]["kind"] == "automated" for s in sources) and paths:
                for step in self.steps:
                    if step["state"] in sources:
                        step["on_exhausted"] = paths[0].target
                self.note(node, f"an error boundary event: when the action's retries run out the case goes to "
                                f"{paths[0].target!r}", expressible=True)
            else:
                if not node.interrupting:
                    self.note(node, f"a non-interrupting {node.event} boundary event starts work beside the task; "
                                    "imported as a way on that leaves the task")
                else:
                    self.note(node, f"{_a(node.event or 'none')} boundary event: imported as a way on, taken by whoever sees "
                                    "the event (a person or the API)", expressible=True)
                for source in sources:
                    for path in paths:
                        self._add_transition(source, path, path.name or f"{node.event or 'event'}: {node.label}")

    def _exported_exception(self, node: Node, sources: list[str]) -> None:
        """An exception `bpmn export` wrote as an error boundary: rebuild the reason from it."""
        ext = node.extensions
        code = ext["exception"]
        reason = self.exceptions.setdefault(code, {"raised_in": []})
        if ext.get("description"):
            reason["description"] = ext["description"]
        if ext.get("resolver"):
            reason["resolver"] = _party(ext["resolver"])
        reason["raised_in"] += [s for s in sources if s not in reason["raised_in"]]
        after = ext.get("returns_to") or ext.get("ends")
        if ext.get("returns_to"):
            reason["returns_to"] = ext["returns_to"]
        else:
            reason["ends"] = True if ext.get("ends") == "true" else ext.get("ends")
        for flow in self.outgoing.get(node.id, []):
            target = self.state_of.get(flow.target)
            if target and target != after and self.states[target]["kind"] not in ("done", "cancelled"):
                reason["state"] = target

    def _exception_edges(self) -> list[tuple[str, str]]:
        cancelled = next((sid for sid, s in self.states.items() if s["kind"] == "cancelled"), None)
        edges = []
        for reason in self.exceptions.values():
            after = reason.get("returns_to") or (reason["ends"] if isinstance(reason.get("ends"), str) else cancelled)
            first = reason.get("state") or after
            edges += [(source, first) for source in reason["raised_in"] if first]
            if reason.get("state") and after:
                edges.append((reason["state"], after))
        return edges

    def _states_in(self, host: Node) -> list[str]:
        if host.id in self.state_of:
            return [host.id]
        inside = [n for n in self.process.nodes.values() if n.parent == host.id]
        return [found for n in inside for found in self._states_in(n)
                if self.states[self.state_of[found]]["kind"] not in ("done", "cancelled", "intake")]

    def _boundary_timer(self, node: Node, sources: list[str], paths: list[_Path]) -> None:
        after = self._timer_after(node)
        what = self._timer_text(node)
        if after is None:
            self.note(node, f"a boundary timer ({what}) is not a fixed duration; only durations such as PT4H "
                            "become timers, so set one by hand")
        kind = "escalation" if node.interrupting else "reminder"
        for source in sources:
            role = self.states[source].get("role") or OWNER_ROLE
            if after:
                self.timers.append({"name": f"{node.label} ({what})", "kind": kind, "state": source,
                                    "after": after, "target": {"role": role}})
            for path in paths:
                self._add_transition(source, path, path.name or f"timer {what}")
        if paths and node.interrupting:
            self.note(node, f"an interrupting boundary timer ({what}): the definition's timers escalate but do not "
                            "move a case, so the timer escalates and its way on is a transition a person takes")
        elif paths:
            self.note(node, f"a non-interrupting boundary timer ({what}) starts work beside the task; the timer "
                            "reminds, and its path was imported as a way on that leaves the task")

    def _timer_text(self, node: Node) -> str:
        detail = node.event_detail
        for key in ("timeDuration", "timeCycle", "timeDate"):
            if detail.get(key):
                return f"{key} {detail[key]}"
        return "no time given"

    def _timer_after(self, node: Node) -> str | None:
        text = node.event_detail.get("timeDuration")
        return iso_duration_to_text(text.strip("'\"")) if text else None

    # Ends and reachability

    def _close_open_ends(self) -> None:
        leaving = {t["from"] for t in self.transitions} | {s["state"] for s in self.steps if s.get("on_exhausted")} \
            | {source for source, _ in self._exception_edges()}
        open_states = [sid for sid, s in self.states.items() if s["kind"] not in ("done", "cancelled")
                       and sid not in leaving]
        if not any(s["kind"] == "done" for s in self.states.values()):
            self.states["done"] = {"kind": "done", "title": "Done", "description": "added: the BPMN process has "
                                                                                   "no end event"}
        done = next(sid for sid, s in self.states.items() if s["kind"] == "done")
        by_state = {state: node for node, state in self.state_of.items()}
        for sid in open_states:
            self.transitions.append({"from": sid, "to": done, "name": "done"})
            node = self.process.nodes.get(by_state.get(sid, ""))
            if node is not None:
                self.note(node, f"no flow leaves it, which ends the process there; a transition to {done!r} was "
                                "added", expressible=True)

    def _drop_unreachable(self, intake: str) -> None:
        graph: dict[str, set[str]] = {}
        for t in self.transitions:
            graph.setdefault(t["from"], set()).add(t["to"])
        for step in self.steps:
            if step.get("on_exhausted"):
                graph.setdefault(step["state"], set()).add(step["on_exhausted"])
        for source, target in self._exception_edges():
            graph.setdefault(source, set()).add(target)
        seen, queue = {intake}, deque([intake])
        while queue:
            for target in graph.get(queue.popleft(), ()):
                if target not in seen:
                    seen.add(target)
                    queue.append(target)
        by_state = {state: node for node, state in self.state_of.items()}
        for sid in [s for s in self.states if s not in seen]:
            node = self.process.nodes.get(by_state.get(sid, ""))
            if node is not None:
                self.note(node, "no flow from the start reaches it; left out")
            del self.states[sid]
        self.transitions = [t for t in self.transitions if t["from"] in seen and t["to"] in seen]
        self.steps = [s for s in self.steps if s["state"] in seen]
        self.timers = [t for t in self.timers if t.get("state") is None or t["state"] in seen]

    def _close_dead_ends(self) -> None:
        """Give a way out to states that only loop among themselves (a case there could never end)."""
        ends = {sid for sid, s in self.states.items() if s["kind"] in ("done", "cancelled")}
        graph: dict[str, set[str]] = {}
        for t in self.transitions:
            graph.setdefault(t["to"], set()).add(t["from"])
        for step in self.steps:
            if step.get("on_exhausted"):
                graph.setdefault(step["on_exhausted"], set()).add(step["state"])
        for source, target in self._exception_edges():
            graph.setdefault(target, set()).add(source)
        ending, queue = set(ends), deque(ends)
        while queue:
            for source in graph.get(queue.popleft(), ()):
                if source not in ending:
                    ending.add(source)
                    queue.append(source)
        stuck = [sid for sid in self.states if sid not in ending]
        if not stuck:
            return
        self.states["closed-without-end"] = {"kind": "cancelled", "title": "Closed without an end",
                                             "description": "added: the BPMN model gives these states no way to "
                                                            "an end"}
        by_state = {state: node for node, state in self.state_of.items()}
        for sid in stuck:
            self.transitions.append({"from": sid, "to": "closed-without-end", "name": "close"})
            node = self.process.nodes.get(by_state.get(sid, ""))
            if node is not None:
                self.note(node, "no way from here reaches an end event (a loop, or work that ends with the other "
                                "pool's); a transition to a cancelled state 'closed-without-end' was added")

    # The definition

    def _definition(self) -> dict[str, Any]:
        process = self.process
        for state in self.states.values():
            state.pop("_roles", None)
        if not process.carried_definition:
            self.roles.setdefault(OWNER_ROLE, {"title": "TODO: the accountable owner", "queue": OWNER_ROLE})
        fields = {name: {"type": kind if kind in ("number", "string", "boolean", "object") else "string",
                         "required": False,
                         "description": "TODO: read by a BPMN condition; check the type" + (
                             "" if kind else " (guessed)")}
                  for name, kind in sorted(self.data_fields.items())}
        start = self.start_node
        event = "todo.started"
        if start is not None and start.event == "message":
            message = self.document.messages.get(start.event_detail.get("messageRef", ""), "")
            event = slug(message).replace("-", ".") if slug(message) else event
        definition: dict[str, Any] = {
            "id": slug(process.name or process.participant or "") or slug(process.id) or "imported-process",
            "title": process.label,
            "version": 1,
            "status": "draft",
            "purpose": process.documentation or f"TODO: say why this workflow exists (imported from the BPMN "
                                                f"process {process.id} of {self.document.path.name}).",
            "owner": {"role": OWNER_ROLE},
            "trigger": {"event": event, "system": TRIGGER_SYSTEM},
            "scope": {"starts": [f"TODO: what starts this work (the BPMN start: {self._start_words()})"]},
            "inputs": {"fields": fields},
            "systems": [TRIGGER_SYSTEM],
            "systems_of_record": {},
            "roles": self.roles,
            "proof_of_completion": {"record": "TODO: what proves the work is done"},
            "states": self.states,
            "transitions": self.transitions,
        }
        if self.exceptions:
            definition["exceptions"] = self.exceptions
        if self.timers:
            definition["timers"] = self.timers
        if self.steps:
            definition["automated_steps"] = self.steps
        return self._with_carried(definition)

    def _with_carried(self, definition: dict[str, Any]) -> dict[str, Any]:
        """Take the parts `bpmn export` carried in backoffice:definition instead of the placeholders."""
        import yaml

        text = self.process.carried_definition
        if not text:
            return definition
        try:
            carried = yaml.safe_load(text)
        except yaml.YAMLError:
            carried = None
        if not isinstance(carried, dict):
            self.findings.append(Finding(self.process.id, "process", self.process.line, "its backoffice:definition "
                                         "extension is not a YAML mapping; ignored"))
            return definition
        merged = {key: value for key, value in definition.items()}
        for key, value in carried.items():
            merged[key] = value
        if self.process.extensions.get("id"):
            merged["id"] = self.process.extensions["id"]
        self.placeholders.clear()
        self.findings.append(Finding(self.process.id, "process", self.process.line, "written by `backoffice bpmn "
                                     "export`: the parts BPMN has no element for came from its backoffice:definition "
                                     "extension", True))
        order = ["id", "title", "version", "status", "purpose", "owner", "trigger", "scope", "inputs", "systems",
                 "systems_of_record", "roles", "people", "queues", "calendar", "sla", "proof_of_completion",
                 "states", "transitions"]
        return {key: merged[key] for key in order if key in merged} | {
            key: value for key, value in merged.items() if key not in order}

    def _start_words(self) -> str:
        starts = [n for n in self.process.nodes.values() if n.tag == "startEvent" and not self._inside_container(n)]
        return ", ".join(f"{n.label} ({n.event or 'none'})" for n in starts) or "none"


_PLACEHOLDERS = [
    "owner: the role process-owner stands for the accountable owner (roles.process-owner)",
    f"trigger: the event and its system ({TRIGGER_SYSTEM})",
    "purpose and scope.starts",
    "inputs: the fields the conditions read, with guessed types; a data contract is better",
    "proof_of_completion",
]


def _action(node: Node) -> tuple[str, str]:
    """Return the action's name for an automated node, and where in the model it comes from."""
    ext = node.extensions
    for key in ("topic", "connectorId", "decisionRef", "class", "delegateExpression", "expression", "type"):
        value = ext.get(key)
        if not value or (key == "type" and value in ("external", "mail", "http", "shell", "camel", "dmn")):
            continue
        inner = re.sub(r"^[$#]\{|\}$", "", value.strip())
        if key == "class":
            inner = inner.rsplit(".", 1)[-1]
        inner = re.sub(r"\(.*\)$", "", inner)
        name = snake(inner)
        if name:
            return (f"decide_{name}" if key == "decisionRef" else name), f"in the BPMN model: {key} {value}"
    if ext.get("type"):
        return snake(f"{ext['type']}-{node.id}"), f"in the BPMN model: type {ext['type']}"
    return snake(node.name or node.id) or "action", "the BPMN model names no implementation"


def render_yaml(result: BpmnImport, source: Path | str) -> str:
    """Return the definition as YAML, headed by what to fill in and what the import could not express."""
    import yaml

    lines = [f"# Imported from {Path(source).name} (BPMN process {result.process.id}) by `backoffice bpmn import`.",
             "# Fill in what only a person can say (every value starting with TODO):"]
    lines += [f"#   - {item}" for item in result.placeholders]
    if result.not_expressible:
        lines.append("# Not expressible in a definition (imported in the nearest form, or left out):")
        lines += [f"#   - {finding}" for finding in result.not_expressible]
    if result.notes:
        lines.append("# Notes on how the model was imported:")
        lines += [f"#   - {finding}" for finding in result.notes]
    body = yaml.safe_dump(result.definition, sort_keys=False, allow_unicode=True, width=110)
    return "\n".join(lines) + "\n" + body


def _a(word: str) -> str:
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


def _party(text: str) -> dict[str, str]:
    """Read `role:name` (or queue:, person:) as written by `bpmn export`; a bare name is a role."""
    kind, _, name = text.partition(":")
    return {kind: name} if name and kind in ("role", "queue", "person") else {"role": text}


def _exported_timer(node: Node, state: str | None) -> dict[str, Any]:
    """A timer `bpmn export` wrote on a boundary or an event sub-process's start: its settings are on it."""
    ext = node.extensions
    timer: dict[str, Any] = {}
    if ext.get("timer"):
        timer["name"] = ext["timer"]
    timer["kind"] = ext["timer-kind"]
    if ext.get("sla"):
        timer["sla"] = ext["sla"]
        timer["at"] = ext.get("at")
    if ext.get("after"):
        timer["after"] = ext["after"]
    if state and not ext.get("sla"):
        timer["state"] = state
    if ext.get("target"):
        timer["target"] = _party(ext["target"])
    return timer
