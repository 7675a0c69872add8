"""Turn a BPMN 2.0 process into a workflow definition, listing what the definition cannot say.

A definition is a state machine: a case waits in one state at a time and moves along
transitions. So the places where BPMN work waits become states (tasks, call activities,
catching events, start and end events), and everything between two of them (gateways,
embedded sub-processes, throw events) folds into the transitions: the conditions met on the
way become the transition's guard, in CEL. Lanes and candidate groups become roles; service,
script, send and business rule tasks automated steps with a named action; boundary timers
timers; error boundaries on automated steps the state their retries run out to; an ad-hoc
sub-process of people's tasks a checklist of them.

What the definition cannot hold is imported in the nearest form it can hold and listed with
the element's id and line: inclusive and event-based gateways become a choice of one way, a parallel split without a join
a choice of one way, multi-instance an activity done once. A parallel split and its join
become a parallel state whose branches join again (all of them); a call activity becomes a
sub-case step that starts a case of the called process's workflow. Nothing is dropped without a line saying so.
What only a person can say (the owner, the trigger's system, the purpose, the proof of
completion, the data contract's types) is filled with placeholders that start with TODO.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backoffice.definitions.bpmn_boundaries import BoundaryReader, exported_timer
from backoffice.definitions.bpmn_flows import FlowWalker, Way
from backoffice.definitions.bpmn_reader import BpmnDocument, Flow, Node, Process, read_bpmn
from backoffice.definitions.bpmn_states import OWNER_ROLE, UNASSIGNED_ROLE, StateMaker, article, slug
from backoffice.errors import BpmnFileError

TRIGGER_SYSTEM = "todo-trigger-system"


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
        BpmnFileError: the file is not a readable BPMN 2.0 model, holds no process with flow
            nodes, or names a process it does not hold.
    """
    document = read_bpmn(path)
    process, left_out, entries = choose_process(document, process_id)
    if process.problems:
        raise process.problems[0]
    importer = _Importer(document, process)
    if left_out:
        listing = ", ".join(f"{p.id} ({p.label}, line {p.line})" for p in left_out)
        if entries > 1:
            importer.note_process(f"{entries} of the file's processes could each be where the work starts (marked "
                                  f"alike, and no call activity calls them) and only a person can say which: "
                                  f"imported the first; left out: {listing} (--process ID imports one of them)")
        else:
            importer.note_process(f"imported as the entry of the file's {len(left_out) + 1} processes (the only "
                                  f"one marked executable, or the only one no call activity calls); left out: "
                                  f"{listing} (--process ID imports one of them)", expressible=True)
    return importer.run()


def choose_process(document: BpmnDocument, process_id: str | None) -> tuple[Process, list[Process], int]:
    """Return the process to import, the other processes with flow nodes left out, and of how many it was chosen.

    The one asked for; else the only one with flow nodes. A collaboration often draws the other
    parties as pools of their own (a customer, a supplier) that no engine runs: Camunda, Flowable
    and Zeebe deploy only the processes marked executable, so those are preferred. Of those, a
    process another one calls (a call activity's calledElement) is a sub-case, not where the work
    starts. When several remain, the first that reads without a problem is imported, and the
    choice is listed as one a person must check.
    """
    listing = ", ".join(f"{p.id} ({p.label}, line {p.line})" for p in document.processes)
    if process_id is not None:
        for process in document.processes:
            if process.id == process_id:
                return process, [], 1
        raise BpmnFileError(document.path, f"holds no process {process_id!r}", expected=f"one of {listing}")
    candidates = [p for p in document.processes if p.nodes]
    if not candidates:
        raise BpmnFileError(document.path, "its processes hold no flow nodes", line=document.processes[0].line,
                            expected="a process with a start event, tasks and flows")
    if len(candidates) == 1:
        return candidates[0], [], 1
    pool = [p for p in candidates if p.executable] or candidates
    called = {n.called_element for p in candidates for n in p.nodes.values()
              if n.tag == "callActivity" and n.called_element}
    entries = [p for p in pool if p.id not in called] or pool
    chosen = min(entries, key=lambda p: bool(p.problems))  # the first that reads, if one does
    return chosen, [p for p in candidates if p is not chosen], len(entries)


@dataclass
class _Importer(StateMaker, FlowWalker, BoundaryReader):
    """One import: the process read, and the definition's parts as they are made."""

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
    checklist_items: set[str] = field(default_factory=set)
    event_subprocesses: list[Node] = field(default_factory=list)  # node ids of an ad-hoc sub-process's checklist items
    parallel: dict[str, str] = field(default_factory=dict)  # parallel split id -> its join's id
    start_node: Node | None = None
    exceptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    lane_role: dict[str, str | None] = field(default_factory=dict)
    placeholders: list[str] = field(default_factory=lambda: list(_PLACEHOLDERS))

    def note(self, node: Node | Flow, message: str, *, expressible: bool = False) -> None:
        tag = node.tag if isinstance(node, Node) else "sequenceFlow"
        finding = Finding(node.id, tag, node.line, message, expressible)
        if finding not in self.findings:  # a node reached by several ways is looked at more than once
            self.findings.append(finding)

    def note_process(self, message: str, *, expressible: bool = False) -> None:
        self.findings.append(Finding(self.process.id, "process", self.process.line, message, expressible))

    # The run

    def run(self) -> BpmnImport:
        nodes = self.process.nodes
        for element, tag, line, message in self.process.notes:
            self.findings.append(Finding(element, tag, line, message))
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
        self._parallel_gateways()
        for node in nodes.values():
            if node.id not in skipped:
                self._classify(node)
        self._fill_checklists()
        for split, join in self.parallel.items():
            self._parallel_state(nodes[split], nodes[join])
        intake = self._intake()
        for node_id, state_id in list(self.state_of.items()):
            if node_id in self.parallel or node_id in self.checklist_items:
                continue  # a split's flows start its branches, the way on leaves from its join; an item's is done
            if node_id in nodes and self.states[state_id]["kind"] not in ("done", "cancelled"):
                self._transitions_from(nodes[node_id], state_id)
        for start in self.extra_starts:
            for path in self._leave(start):
                self._add_transition(intake, path, f"start at {start.label}")
        # A checklist item's way back to its checklist is implicit ("done"): not written as a transition.
        implicit = {(item, sid) for sid, s in self.states.items() if s["kind"] == "checklist" for item in s["items"]}
        self.transitions = [t for t in self.transitions if (t["from"], t["to"]) not in implicit or t.get("guard")
                            or (t.get("name") not in (None, "done"))]
        self._boundaries(skipped)
        for sub_process in self.event_subprocesses:
            self._event_subprocess(sub_process)
        self._close_open_ends()
        self._drop_unreachable(intake)
        self._close_dead_ends()
        self._ensure_success_end()
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
                self.timers += [exported_timer(n, None) for n in carried]
                starts = [n for n in nodes.values() if n.parent == node.id and n.tag == "startEvent"]
                if not carried and len(starts) == 1:
                    self.event_subprocesses.append(node)  # its steps are states, reached from every state (below)
                    continue
                if not carried:
                    self.note(node, "an event sub-process (started by an event while the case runs) with "
                                    f"{len(starts)} start events has no counterpart; left out with everything "
                                    "inside it")
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

    def _event_subprocess(self, sub_process: Node) -> None:
        """Reach an event sub-process's steps from every state of where it sits, by its start event.

        It starts when its event happens, whatever state the case is in: so, as a boundary event
        on a sub-process is, it is a way on from each of those states, taken by whoever sees the
        event. An interrupting one then ends the case where its steps end; a non-interrupting
        one starts work beside the case, which a case in one state at a time cannot do.
        """
        nodes = self.process.nodes
        start = next(n for n in nodes.values() if n.parent == sub_process.id and n.tag == "startEvent")

        def within(node: Node, ancestor: str) -> bool:
            while node.parent in nodes:
                if node.parent == ancestor:
                    return True
                node = nodes[node.parent]
            return node.parent == ancestor

        others = [n.id for n in self.event_subprocesses if n is not sub_process]
        in_branches = self._branch_states()
        sources = [state for node_id, state in self.state_of.items()
                   if within(nodes[node_id], sub_process.parent) and not within(nodes[node_id], sub_process.id)
                   and not any(within(nodes[node_id], other) for other in others)
                   and self.states[state]["kind"] not in ("done", "cancelled", "intake")
                   and state not in in_branches]
        event = start.event or "none"
        if not sources:
            self.note(sub_process, f"an event sub-process started by {article(event)} event, where no state waits "
                                   "that it could interrupt (its sub-process has no task, or only parallel branches): "
                                   "left out with everything inside it")
            return
        paths = self._leave(start)
        done = next((sid for sid, st in self.states.items() if st["kind"] == "done"), None)
        if not paths and start.interrupting and done:
            paths = [Way(target=done)]  # nothing but its end inside: the event ends the case
        for source in dict.fromkeys(sources):
            for path in paths:
                self._add_transition(source, path, path.name or f"{event}: {start.label}")
        if start.interrupting:
            self.note(sub_process, f"an event sub-process started by {article(event)} event: imported as a way from "
                                   f"each of the {len(set(sources))} states it can interrupt to its steps, taken by "
                                   "whoever sees the event", expressible=True)
        else:
            self.note(sub_process, f"a non-interrupting event sub-process ({event}) starts work beside the case; "
                                   "imported as a way on that leaves the state the case is in")

    def _branch_states(self) -> set[str]:
        """The states inside a parallel state's branches: a way out of a branch would leave its join waiting."""
        starts = [b["start"] for s in self.states.values() if s["kind"] == "parallel"
                  for b in s.get("branches", {}).values()]
        joins = {sid for sid, s in self.states.items() if s["kind"] == "parallel"}
        following: dict[str, set[str]] = {}
        for t in self.transitions:
            following.setdefault(t["from"], set()).add(t["to"])
        found, queue = set(starts), list(starts)
        while queue:
            for target in following.get(queue.pop(), ()):
                if target not in found and target not in joins:
                    found.add(target)
                    queue.append(target)
        return found

    # The definition

    def _definition(self) -> dict[str, Any]:
        process = self.process
        for state in self.states.values():
            state.pop("_roles", None)
        if not process.carried_definition:
            self.roles.setdefault(OWNER_ROLE, {"title": "TODO: the accountable owner", "queue": OWNER_ROLE})
        if UNASSIGNED_ROLE in self.roles:
            self.placeholders.append(f"roles.{UNASSIGNED_ROLE}: who works the tasks the model gives no lane or "
                                     "candidate group")
        fields = {name: {"type": kind if kind in ("number", "string", "boolean", "object") else "string",
                         "required": False,
                         "description": "TODO: read by a BPMN condition; check the type" + (
                             "" if kind else " (guessed)")}
                  for name, kind in sorted(self.data_fields.items())}
        order = {sid: index for index, sid in enumerate(self.states)}  # transitions in the order of their states
        start = self.start_node
        event = "todo.started"
        if start is not None and start.event == "message":
            # The message's name says what starts the work; else the start event's own name does.
            message = self.document.messages.get(start.event_detail.get("messageRef", ""), "") or start.name or ""
            event = slug(message).replace("-", ".") if slug(message) and not slug(message).startswith("step-") \
                else event
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
            "transitions": _grouped(sorted(self.transitions, key=lambda t: order[t["from"]])),
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
            self.note_process("its backoffice:definition extension is not a YAML mapping; ignored")
            return definition
        merged = {key: value for key, value in definition.items()}
        for key, value in carried.items():
            merged[key] = value
        if self.process.extensions.get("id"):
            merged["id"] = self.process.extensions["id"]
        self.placeholders.clear()
        self.note_process("written by `backoffice bpmn export`: the parts BPMN has no element for came from its "
                          "backoffice:definition extension", expressible=True)
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


def render_yaml(result: BpmnImport, source: Path | str) -> str:
    """Return the definition as YAML, headed by what to fill in and what the import could not express."""
    import yaml

    lines = [f"# Imported from {Path(source).name} (BPMN process {result.process.id}) by `backoffice bpmn import`.",
             "# Fill in what only a person can say (every value starting with TODO):"]
    lines += [f"#   - {item}" for item in result.placeholders]
    # A comment is one line: a name or condition written on several (as modelers wrap them) is joined.
    if result.not_expressible:
        lines.append("# Not expressible in a definition (imported in the nearest form, or left out):")
        lines += [f"#   - {' '.join(str(finding).split())}" for finding in result.not_expressible]
    if result.notes:
        lines.append("# Notes on how the model was imported:")
        lines += [f"#   - {' '.join(str(finding).split())}" for finding in result.notes]
    body = yaml.safe_dump(result.definition, sort_keys=False, allow_unicode=True, width=110)
    return "\n".join(lines) + "\n" + body



def _grouped(transitions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Write the same move from several states once, with the states in a list (as definitions do)."""
    grouped: dict[str, dict[str, Any]] = {}
    for transition in transitions:
        key = repr({k: v for k, v in transition.items() if k != "from"})
        if key in grouped:
            sources = grouped[key]["from"]
            grouped[key]["from"] = (sources if isinstance(sources, list) else [sources]) + [transition["from"]]
        else:
            grouped[key] = dict(transition)
    return list(grouped.values())
