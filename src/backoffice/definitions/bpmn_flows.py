"""How a case moves between the imported states: BPMN flows folded into guarded transitions.

Between two states lie gateways, embedded sub-processes and throw events; the walk from a
state's way out to the next states collects the conditions met (translated to CEL) into the
transition's guard, and the default flow's guard is the negation of its siblings'. A parallel
split and its join become one parallel state: the split's flows start its branches, the flows
into the join end them, and the join's way out is the state's. Last, every state gets a way to
an end and the unreachable ones are left out.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace
from typing import Any

from backoffice.definitions.bpmn_conditions import translate_condition
from backoffice.definitions.bpmn_reader import CONTAINERS, Flow, Node
from backoffice.definitions.bpmn_states import GATEWAYS


@dataclass
class Way:
    """A way from a state to the next state: the guards met on the way and the last flow name."""

    target: str
    guards: tuple[str, ...] = ()
    name: str | None = None
    untranslated: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()


class FlowWalker:
    """Fold the BPMN flows between states into transitions (a part of the importer)."""

    outgoing: dict[str, list[Flow]]
    incoming: dict[str, list[Flow]]
    transitions: list[dict[str, Any]]

    def _parallel_gateways(self) -> None:
        """Pair each parallel split with its join: the pair becomes one parallel state (see `_parallel_state`)."""
        nodes = self.process.nodes
        gateways = [n for n in nodes.values() if n.tag == "parallelGateway"]
        for gateway in gateways:
            branches = list(self.outgoing.get(gateway.id, []))
            if len(branches) < 2:
                continue
            reach = [self._reachable(flow.target) for flow in branches]
            joins = [n for n in nodes.values() if n.tag in ("parallelGateway", "inclusiveGateway")
                     and len(self.incoming.get(n.id, [])) > 1 and all(n.id in r for r in reach)]
            labels = " or ".join(nodes[f.target].label for f in branches)
            if not joins:
                self.note(gateway, f"a parallel split with no join: its {len(branches)} branches never wait for "
                                   f"each other, which a parallel state cannot say; imported as a choice of one "
                                   f"({labels})")
                continue
            join = min(joins, key=lambda n: sum(r[n.id] for r in reach))
            if not any(self._works_before(flow.target, join.id) for flow in branches):
                self.note(gateway, f"a parallel split whose branches do no work before its join {join.id!r}: "
                                   "nothing runs in parallel, so both gateways were passed through", expressible=True)
                self.joined.add(join.id)
                continue
            if join.tag == "inclusiveGateway":
                self.note(join, f"an inclusive join of the parallel split {gateway.id!r}: imported as a parallel "
                                "join that waits for every branch")
            self.joined.add(join.id)
            self.parallel[gateway.id] = join.id
        self._one_split_a_join()
        for gateway in gateways:
            if len(self.outgoing.get(gateway.id, [])) < 2 and len(self.incoming.get(gateway.id, [])) > 1 \
                    and gateway.id not in self.joined:
                self.note(gateway, "a parallel join with no split before it (it waits for every flow that comes "
                                   "in): imported as passing on when one arrives")

    def _one_split_a_join(self) -> None:
        """Keep one split per join: where splits nest without joins of their own (unstructured concurrency),
        the outermost keeps the join and the inner ones become choices inside its branches."""
        nodes = self.process.nodes
        by_join: dict[str, list[str]] = {}
        for split, join in self.parallel.items():
            by_join.setdefault(join, []).append(split)
        for join, splits in by_join.items():
            if len(splits) < 2:
                continue
            reach = {split: self._reachable(split, stop=join) for split in splits}
            outer = next((s for s in splits if not any(s in reach[o] for o in splits if o != s)), splits[0])
            for inner in splits:
                if inner != outer:
                    del self.parallel[inner]
                    self.note(nodes[inner], f"a parallel split inside a branch of {outer!r}, sharing its join "
                                            f"{join!r}: its ways were imported as more branches of the "
                                            f"parallel state of {outer!r}, all joined there", expressible=True)

    def _works_before(self, start: str, join: str) -> bool:
        """Whether a branch from start passes a task, sub-process or waiting event before the join."""
        quiet = GATEWAYS | {"intermediateThrowEvent"}
        return any(node_id != join and (self.process.nodes[node_id].tag not in quiet
                                        or self.process.nodes[node_id].event == "message")
                   for node_id in self._reachable(start, stop=join))

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
        moved = replace(flow, target=target)
        self.outgoing[flow.source] = [moved if f is flow else f for f in self.outgoing.get(flow.source, [])]
        self.incoming[flow.target] = [f for f in self.incoming.get(flow.target, []) if f is not flow]
        self.incoming.setdefault(target, []).append(moved)

    def _leave(self, node: Node, seen: frozenset[str] = frozenset()) -> list[Way]:
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
        ways_out = [f for f in flows if f.id != node.default_flow]
        if node.tag not in GATEWAYS and len(ways_out) > 1:
            taken = "every one whose condition holds" if any(f.condition for f in ways_out) else "all of them"
            self.note(node, f"{len(ways_out)} flows leave it and BPMN takes {taken} at once; imported as a choice "
                            "of one way")
        paths: list[Way] = []
        for flow in flows:
            guard = guards.get(flow.id)
            if flow.id == node.default_flow and not untranslated_siblings:
                others = [g for fid, g in guards.items() if fid != flow.id and g]
                guard = f"!({' || '.join(others)})" if others else None
            untranslated = (flow.condition,) if flow.condition and guards.get(flow.id) is None else ()
            roles = tuple(flow.extensions.get("roles", "").split())
            requires = tuple(flow.extensions.get("requires", "").split())
            for path in self._arrive(flow.target, seen | {node.id}):
                paths.append(Way(path.target, ((guard,) if guard else ()) + path.guards,
                                   path.name or flow.name, untranslated + path.untranslated,
                                   path.roles or roles, path.requires or requires))
        return paths

    def _arrive(self, node_id: str, seen: frozenset[str]) -> list[Way]:
        node = self.process.nodes[node_id]
        if node_id in self.state_of:
            return [Way(self.state_of[node_id])]
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

    def _add_transition(self, source: str, path: Way, name: str | None = None) -> None:
        transition: dict[str, Any] = {"from": source, "to": path.target}
        label = name or path.name
        if path.untranslated:
            label = (f"{label or 'to ' + self.states[path.target]['title']} "
                     f"(TODO guard: {' and '.join(' '.join(c.split()) for c in path.untranslated)})")
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

    def _close_open_ends(self) -> None:
        leaving = {t["from"] for t in self.transitions} | {s["state"] for s in self.steps if s.get("on_exhausted")} \
            | {source for source, _ in self._exception_edges()} \
            | {item for s in self.states.values() if s["kind"] == "checklist" for item in s["items"]}
        open_states = [sid for sid, s in self.states.items() if s["kind"] not in ("done", "cancelled")
                       and sid not in leaving]
        if not any(s["kind"] == "done" for s in self.states.values()):
            self.states[self.free_id("done")] = {"kind": "done", "title": "Done",
                                                 "description": "added: the BPMN process has no end event"}
        done = next(sid for sid, s in self.states.items() if s["kind"] == "done")
        by_state = {state: node for node, state in self.state_of.items()}
        for sid in open_states:
            self.transitions.append({"from": sid, "to": done, "name": "done"})
            node = self.process.nodes.get(by_state.get(sid, ""))
            if node is not None:
                self.note(node, f"no flow leaves it, which ends the process there; a transition to {done!r} was "
                                "added", expressible=True)

    def _branch_edges(self) -> list[tuple[str, str]]:
        """Return (parallel state, branch start) for every branch: a case reaches a branch through its state."""
        return [(sid, branch["start"]) for sid, s in self.states.items() if s["kind"] == "parallel"
                for branch in s.get("branches", {}).values()] + \
            [(sid, item) for sid, s in self.states.items() if s["kind"] == "checklist" for item in s["items"]]

    def _drop_unreachable(self, intake: str) -> None:
        graph: dict[str, set[str]] = {}
        for source, target in self._branch_edges():
            graph.setdefault(source, set()).add(target)
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
        for state in self.states.values():
            if state["kind"] == "parallel":
                state["branches"] = {name: b for name, b in state["branches"].items() if b["start"] in seen}

    def _ensure_success_end(self) -> None:
        """A definition needs a done state a case can reach; a model whose every way ends in an error end
        event, or loops, has none: its first end becomes the done state, and that is listed."""
        if any(s["kind"] == "done" for s in self.states.values()):
            return
        end = next((sid for sid, s in self.states.items() if s["kind"] == "cancelled"), None)
        if end is None:
            return
        self.states[end]["kind"] = "done"
        by_state = {state: node for node, state in self.state_of.items()}
        node = self.process.nodes.get(by_state.get(end, ""))
        self.findings = [f for f in self.findings if not (node and f.element == node.id and "end event was "
                                                          "imported as a cancelled" in f.message)]
        message = (f"no way of the model ends without an error (or it loops), and a definition needs an end where "
                   f"work succeeds: the end {end!r} was imported as the done state; say which end is success")
        if node is not None:
            self.note(node, message)
        else:
            self.note_process(message)

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
        for sid, s in self.states.items():
            for item in s["items"] if s["kind"] == "checklist" else ():
                graph.setdefault(sid, set()).add(item)  # an item done goes back to its checklist
        ending, queue = set(ends), deque(ends)
        while queue:
            for source in graph.get(queue.popleft(), ()):
                if source not in ending:
                    ending.add(source)
                    queue.append(source)
        stuck = [sid for sid in self.states if sid not in ending]
        if not stuck:
            return
        closed = self.free_id("closed-without-end")
        self.states[closed] = {"kind": "cancelled", "title": "Closed without an end",
                               "description": "added: the BPMN model gives these states no way to an end"}
        by_state = {state: node for node, state in self.state_of.items()}
        for sid in stuck:
            self.transitions.append({"from": sid, "to": closed, "name": "close"})
            node = self.process.nodes.get(by_state.get(sid, ""))
            if node is not None:
                self.note(node, "no way from here reaches an end event (a loop, or work that ends with the other "
                                f"pool's); a transition to a cancelled state {closed!r} was added")
