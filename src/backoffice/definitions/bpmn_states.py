"""Which BPMN flow nodes become which states of a definition, with their roles and actions.

Tasks a person works become human tasks (their role from the candidate groups, else the
lane), service, script, send and business rule tasks automated steps with a named action,
receive tasks, call activities and catching events waiting states, end events end states,
and the first none start event the intake. A node `bpmn export` wrote carries its state id,
kind and role, and is read back as it was.
"""

from __future__ import annotations

import json
import re
from typing import Any

from backoffice.definitions.bpmn_reader import CONTAINERS, Node
from backoffice.definitions.bpmn_timers import iso_duration_to_text
from backoffice.definitions.model import REQUESTER

OWNER_ROLE = "process-owner"
UNASSIGNED_ROLE = "to-be-assigned"
AUTOMATED_TAGS = frozenset({"serviceTask", "scriptTask", "sendTask", "businessRuleTask"})
HUMAN_TAGS = frozenset({"userTask", "manualTask", "task", "adHocSubProcess"})
WAITING_TAGS = frozenset({"receiveTask", "callActivity", "intermediateCatchEvent"})
GATEWAYS = frozenset({"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway",
                      "complexGateway"})


def _join_value(text: str) -> str | int:
    return int(text) if text.isdigit() else text


def _literal_duration(text: str) -> str:
    """Return the ISO 8601 duration a timer writes as a literal: bare, quoted (SpiffWorkflow's Python),
    or as FEEL (Camunda 8: =PT4H, =duration("PT4H")); anything else is returned for the caller to refuse."""
    body = text.strip()
    body = body[1:].strip() if body.startswith("=") else body
    call = re.fullmatch(r"duration\(\s*(.*?)\s*\)", body)
    body = call.group(1) if call else body
    return body.strip("'\"")


def slug(text: str) -> str:
    """Return lowercase words joined by dashes, starting with a letter; empty when nothing is left."""
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1-\2", text)
    value = re.sub(r"[^a-z0-9]+", "-", words.lower()).strip("-")
    return value if not value or value[0].isalpha() else f"step-{value}"


def snake(text: str) -> str:
    return slug(text).replace("-", "_")


class StateMaker:
    """Make the states of the definition from the BPMN nodes (a part of the importer)."""

    states: dict[str, dict[str, Any]]
    state_of: dict[str, str]
    roles: dict[str, dict[str, Any]]
    checklist_items: set[str]

    def _state_id(self, node: Node) -> str:
        return self.free_id(node.extensions.get("state") or slug(node.name or "") or slug(node.id) or "step")

    def free_id(self, base: str) -> str:
        """Return base, or base-2, base-3 ... when a state already has that id."""
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
        if node.extensions.get("state"):  # written by bpmn export: its documentation is the description
            if node.documentation:
                state["description"] = node.documentation
        else:
            where = f"BPMN {node.tag} {node.id}, line {node.line}"
            documentation = " ".join((node.documentation or "").split())
            state["description"] = "; ".join(part for part in (documentation, extra, where) if part)
        self.states[state_id] = state
        self.state_of[node.id] = state_id
        if node.loop == "standard":
            self.note(node, "a loop activity (done again while its condition holds) has no counterpart; imported as "
                            "done once")
        elif node.loop:
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
        elif tag == "adHocSubProcess" and self._ad_hoc_items(node):
            self._ad_hoc_checklist(node)
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
            self.note(node, f"{article(node.event)} throw event has no counterpart; the case passes on")
        elif tag in CONTAINERS and node.loop:
            how = "run again while its condition holds" if node.loop == "standard" else "run once per item"
            self.note(node, f"a {'loop' if node.loop == 'standard' else node.loop} sub-process ({how}) has no "
                            "counterpart; its steps were imported to run once")
        elif tag == "transaction":
            self.note(node, "a transaction sub-process: its states were imported, its rollback (cancel) was not")

    def _parallel_state(self, split: Node, join: Node) -> None:
        """Make one parallel state of a split and its join: a branch per flow out of the split."""
        ext = split.extensions
        if split.id not in self.state_of:
            self._add_state(split, "parallel", extra=f"joined at BPMN {join.tag} {join.id}, line {join.line}")
        state_id = self.state_of[split.id]
        self.state_of[join.id] = state_id  # a flow into the join ends its branch: it comes back to the state
        carried = json.loads(ext["branches"]) if ext.get("branches") else None
        branches: dict[str, dict[str, Any]] = {}
        for flow in self.outgoing.get(split.id, []):
            found = self._arrive(flow.target, frozenset({split.id}))
            ways = [way for way in found if way.target != state_id]  # not the way straight to the join
            if not ways:
                continue
            if self.process.nodes[flow.target].tag == "parallelGateway" and not any(w.guards for w in ways):
                # A split inside the branch sharing this join: its ways run at once too, each a branch here.
                for way in ways:
                    name = next((n for n, b in (carried or {}).items() if b.get("start") == way.target), None) \
                        or way.target
                    branches[name] = dict((carried or {}).get(name) or {"start": way.target})
                continue
            if len(found) > 1 or ways[0].guards:
                self.note(split, f"the branch through {flow.id!r} chooses by a condition whether or how it starts; "
                                 f"a branch always runs from one state, so it starts in {ways[0].target!r}: write "
                                 f"that choice as the step's own work")
            start = ways[0].target
            name = next((n for n, b in (carried or {}).items() if b.get("start") == start), None) or start
            branches[name] = dict((carried or {}).get(name) or {"start": start})
        state = self.states[state_id]
        if ext.get("kind") == "checklist":
            state["kind"] = "checklist"
            state["items"] = json.loads(ext["items"]) if ext.get("items") else [b["start"] for b in branches.values()]
            if ext.get("required"):
                state["required"] = json.loads(ext["required"])
            return
        state["kind"] = "parallel"
        state["branches"] = branches
        state["join"] = _join_value(ext.get("join")) if ext.get("join") else "all"
        if join.tag == "parallelGateway" and not ext.get("branches"):
            self.note(split, f"a parallel split joined at {join.id!r} (line {join.line}): imported as a parallel "
                             f"state whose {len(branches)} branches join again when all are done", expressible=True)

    def _exported(self, node: Node) -> None:
        """A state `bpmn export` wrote: its kind, role and queue are on it."""
        ext = node.extensions
        if ext["kind"] in ("parallel", "checklist"):
            return  # made with its join, by _parallel_state
        role = ext.get("role") or None
        if role and role != REQUESTER:
            self.roles.setdefault(role, {"title": role, "queue": role})
        state_id = self._add_state(node, ext["kind"], role=role)
        if ext.get("queue"):
            self.states[state_id]["queue"] = ext["queue"]
        if ext["kind"] == "automated":
            self.steps.append({"state": state_id, "action": _action(node)[0]})
        if ext["kind"] == "subcase":
            self.states[state_id]["workflow"] = ext.get("workflow") or slug(node.called_element or "") \
                or "todo-called-workflow"
            for key in ("pass", "returns"):
                if ext.get(key):
                    self.states[state_id][key] = json.loads(ext[key])
            if ext.get("outcome"):
                self.states[state_id]["outcome"] = ext["outcome"]
        if ext["kind"] == "checklist" and ext.get("items"):
            self.states[state_id]["items"] = json.loads(ext["items"])
            if ext.get("required"):
                self.states[state_id]["required"] = json.loads(ext["required"])

    def _inside_container(self, node: Node) -> bool:
        return node.parent in self.process.nodes

    def _human(self, node: Node) -> None:
        ext = node.extensions
        groups = [g.strip() for g in ext.get("candidateGroups", "").split(",") if g.strip()]
        dynamic = [g for g in groups if "{" in g or g.startswith("=")]  # JUEL ${...} or FEEL =...
        if dynamic:
            self.note(node, f"candidate groups {', '.join(dynamic)} are computed at run time; assign a role")
        static = [g for g in groups if g not in dynamic and slug(g)]
        group_roles = [slug(g) for g in static]
        for group, role in zip(static, group_roles):
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

    def _ad_hoc_items(self, node: Node) -> list[Node]:
        """Return the tasks of an ad-hoc sub-process a checklist can hold: people's tasks, none tied by a flow.

        An ad-hoc sub-process is tasks done in any order until it completes, which is what a
        checklist is; flows between its tasks order some of them, which a checklist cannot say.
        """
        inside = [n for n in self.process.nodes.values() if n.parent == node.id]
        ids = {n.id for n in inside}
        if any(f.source in ids or f.target in ids for f in self.process.flows.values()):
            return []
        return [n for n in inside if n.tag in HUMAN_TAGS and n.tag not in CONTAINERS]

    def _ad_hoc_checklist(self, node: Node) -> None:
        """A checklist state of an ad-hoc sub-process; its items are filled in once they are states."""
        state_id = self._add_state(node, "checklist")
        self.states[state_id]["items"] = []
        self.note(node, "an ad-hoc sub-process (tasks in any order) was imported as a checklist whose items are its "
                        "tasks", expressible=True)
        others = [n for n in self.process.nodes.values() if n.parent == node.id and n not in self._ad_hoc_items(node)]
        for other in others:
            self.note(other, "only a person's task can be an item of a checklist (the ad-hoc sub-process "
                             f"{node.id!r}); left out")
        if node.completion_condition:
            self.note(node, f"its completion condition {node.completion_condition!r} has no counterpart: the "
                            "checklist waits for every item")

    def _fill_checklists(self) -> None:
        for node in self.process.nodes.values():
            state = self.states.get(self.state_of.get(node.id, ""))
            if node.tag == "adHocSubProcess" and state is not None and state["kind"] == "checklist" \
                    and not state["items"]:
                items = [n for n in self._ad_hoc_items(node) if n.id in self.state_of]
                state["items"] = [self.state_of[n.id] for n in items]
                self.checklist_items |= {n.id for n in items}  # done, an item goes back to its checklist: no way on

    def _automated(self, node: Node) -> None:
        ext = node.extensions
        action, how = _action(node)
        state_id = self._add_state(node, "automated", extra=how)
        step: dict[str, Any] = {"state": state_id, "action": action}
        cycle = re.fullmatch(r"R(\d+)/(P\S+)", ext.get("failedJobRetryTimeCycle", ""))
        wait = iso_duration_to_text(cycle.group(2)) if cycle else None
        if cycle and wait and int(cycle.group(1)) >= 1:
            # Camunda counts the job's retries; each is one attempt, the same wait apart.
            step["retry"] = {"attempts": int(cycle.group(1)), "backoff": wait, "factor": 1}
        elif ext.get("failedJobRetryTimeCycle"):
            self.note(node, f"the retry cycle {ext['failedJobRetryTimeCycle']!r} is not Rn/duration; the step "
                            "keeps the default retries")
        self.steps.append(step)
        if node.tag == "scriptTask":
            self.note(node, f"a script ({ext.get('scriptFormat', 'unknown language')}) runs as the action "
                            f"{action!r}: register an action of that name that does what the script did",
                      expressible=True)

    def _waiting(self, node: Node) -> None:
        role = self._lane_role(node)
        if node.tag == "callActivity":
            called = node.called_element or ""
            literal = re.fullmatch(r"=\s*\"([^\"]*)\"\s*", called)  # Camunda 8's FEEL string: ="child-process"
            called = literal.group(1) if literal else called
            if "{" in called or called.startswith("="):  # JUEL ${...} or FEEL: known only at run time
                self.note(node, f"the called process {called!r} is computed at run time; name the sub-case's workflow")
                called = ""
            workflow = slug(called) or "todo-called-workflow"
            held = next((p for p in self.document.processes if p.id == called), None)
            where = f" (this file holds it: import it with --process {called} -o {workflow}.yaml)" if held else ""
            self.note(node, f"a call activity: imported as a sub-case step that starts a case of workflow "
                            f"{workflow!r} (the process {called or '(not named)'}) and waits for its end{where}; "
                            f"write its data mapping (pass, returns)", expressible=True)
            state_id = self._add_state(node, "subcase")
            self.states[state_id]["workflow"] = workflow
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
            self.note(node, f"{article(node.event)} end event was imported as a {kind} end state", expressible=True)
        self._add_state(node, kind)

    def _intake(self) -> str:
        starts = [n for n in self.process.nodes.values() if n.tag == "startEvent" and not self._inside_container(n)
                  and n.id not in self._skipped_ids()]
        chosen = next((n for n in starts if n.event is None), starts[0] if starts else None)
        if chosen is None:
            state_id = self.free_id("start")
            self.states = {state_id: {"kind": "intake", "title": "Start",
                                      "description": "the BPMN process has no start event"}, **self.states}
            entry = [n for n in self.process.nodes.values() if not self.incoming.get(n.id)
                     and n.tag not in ("boundaryEvent",) and not self._inside_container(n)
                     and n.id in self.state_of]
            for node in entry:
                self.transitions.append({"from": state_id, "to": self.state_of[node.id]})
            self.note_process("no start event: an intake state was added before the steps no flow leads to",
                              expressible=True)
            return state_id
        state_id = self._add_state(chosen, "intake", role=chosen.extensions.get("role") or None)
        self.states = {state_id: self.states.pop(state_id), **self.states}  # the intake first, as definitions do
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

    def _timer_text(self, node: Node) -> str:
        detail = node.event_detail
        for key in ("timeDuration", "timeCycle", "timeDate"):
            if detail.get(key):
                return f"{key} {detail[key]}"
        return "no time given"

    def _timer_after(self, node: Node) -> str | None:
        """Return how long the timer waits, as a definition's duration; None when that is not fixed.

        A cycle (R3/PT10M, R/PT1H: every ten minutes, three times or for ever) first fires one
        period after it starts, and a definition's timer fires once: that first time is the one kept.
        """
        text = node.event_detail.get("timeDuration")
        if text:
            return iso_duration_to_text(_literal_duration(text))
        cycle = re.fullmatch(r"R\d*/(P[^/]+)", _literal_duration(node.event_detail.get("timeCycle") or ""))
        return iso_duration_to_text(cycle.group(1)) if cycle else None

    def _repeats(self, node: Node) -> bool:
        return not node.event_detail.get("timeDuration") and self._timer_after(node) is not None


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


def article(word: str) -> str:
    """Return the word after a or an."""
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"
