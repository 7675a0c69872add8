"""Boundary events: timers, errors, messages and the exceptions `bpmn export` drew as error boundaries.

A boundary timer becomes a timer counting in the state it sits on (an interrupting one also
a transition along its path, since the definition's timers escalate but do not move a case);
an error boundary on an automated step the state its retries run out to; the other events a
transition taken by whoever sees the event.
"""

from __future__ import annotations

from typing import Any

from backoffice.definitions.bpmn_flows import Way
from backoffice.definitions.bpmn_reader import CONTAINERS, Node
from backoffice.definitions.bpmn_states import OWNER_ROLE, article

# Where an automated step's exhausted retries may send a case: to a person (the check's "manual twin").
_MANUAL_KINDS = frozenset({"human_task", "review", "exception"})


class BoundaryReader:
    """Read the boundary events of the imported process (a part of the importer)."""

    exceptions: dict[str, dict[str, Any]]
    timers: list[dict[str, Any]]

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
                    self.timers.append(exported_timer(node, source))
                continue
            paths = self._leave(node)
            if node.event == "timer":
                self._boundary_timer(node, sources, paths)
            elif node.event == "error" and all(self.states[s]["kind"] == "automated" for s in sources) and paths \
                    and self.states[paths[0].target]["kind"] in _MANUAL_KINDS:
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
                    self.note(node, f"{article(node.event or 'none')} boundary event: imported as a way on, taken by "
                                    "whoever sees the event (a person or the API)", expressible=True)
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

    def _states_in(self, host: Node) -> list[str]:
        if host.id in self.state_of:
            return [host.id]
        inside = [n for n in self.process.nodes.values() if n.parent == host.id]
        return [found for n in inside for found in self._states_in(n)
                if self.states[self.state_of[found]]["kind"] not in ("done", "cancelled", "intake")]

    def _boundary_timer(self, node: Node, sources: list[str], paths: list[Way]) -> None:
        after = self._timer_after(node)
        what = self._timer_text(node)
        if after is None:
            self.note(node, f"a boundary timer ({what}) is not a fixed duration; only durations such as PT4H "
                            "become timers, so set one by hand")
        elif self._repeats(node):
            self.note(node, f"a timer cycle ({what}) fires again and again, and a definition's timer once: imported "
                            f"to fire once, {after} after the task starts")
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


def _party(text: str) -> dict[str, str]:
    """Read `role:name` (or queue:, person:) as written by `bpmn export`; a bare name is a role."""
    kind, _, name = text.partition(":")
    return {kind: name} if name and kind in ("role", "queue", "person") else {"role": text}


def exported_timer(node: Node, state: str | None) -> dict[str, Any]:
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
