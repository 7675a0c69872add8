"""Checks across the parts of a definition: references, the state graph, approvals, timers, CEL.

The model checks each part on its own; these checks say whether the parts fit together, and
warn about what is legal but risky. Each problem names the place in the file (through a
locator the loader gives) and what was expected.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Protocol

from backoffice.definitions.expressions import FieldTree
from backoffice.definitions.model import REQUESTER, ControlReason, Definition, DefinitionStatus, Party, StateKind
from backoffice.definitions.move_graph import sends_back
from backoffice.errors import DefinitionProblem, suggest

Path_ = tuple[Any, ...]
_GRAPH_PARTS = frozenset({"states", "transitions", "exceptions", "automated_steps"})


class Locator(Protocol):
    """Where things are in the file: what the loader's SourceMap offers."""

    path: str

    def where(self, path: Path_, *, key: bool = False) -> tuple[int, int]: ...

    def where_in_expression(self, path: Path_, offset: int) -> tuple[int, int]: ...


@dataclass(frozen=True)
class Tolerance:
    """Parts of the file that failed validation and were set aside: the checks keep quiet about them.

    broken: top-level parts replaced by a stand-in or dropped; pruned: part -> the keys or
    indices of the items set aside; pruned_names: part -> the names of mapping items set aside
    (a reference to them is not reported as undefined, since the item exists, only broken).
    """

    broken: frozenset[str] = frozenset()
    pruned: dict[str, frozenset[Any]] = field(default_factory=dict)
    pruned_names: dict[str, frozenset[str]] = field(default_factory=dict)

    @property
    def graph_intact(self) -> bool:
        return not (_GRAPH_PARTS & (self.broken | set(self.pruned)))


def run_checks(definition: Definition, locator: Locator, tolerance: Tolerance | None = None,
               data_fields: FieldTree | None = None) -> list[DefinitionProblem]:
    """Return every cross-part problem of a definition, errors and warnings alike.

    data_fields: the fields of the case data (from the contract), or None when they are not
    known; then references to data fields are not checked.
    """
    checker = _Checker(definition, locator, tolerance or Tolerance(), data_fields)
    for check in (checker.states, checker.transitions, checker.graph, checker.parties_and_systems,
                  checker.exceptions, checker.duplicates, checker.approvals, checker.controls, checker.timers,
                  checker.automated_steps, checker.routing, checker.expressions, checker.immutable_fields,
                  checker.exceptions_at_controls, checker.risks, checker.parallel_work, checker.public_intake):
        check()
    return checker.problems


class _Checker:
    def __init__(self, definition: Definition, locator: Locator, tolerance: Tolerance,
                 data_fields: FieldTree | None) -> None:
        self.d = definition
        self.locator = locator
        self.tolerance = tolerance
        self.data_fields = data_fields
        self.problems: list[DefinitionProblem] = []
        role_queues = {role.queue for role in definition.roles.values() if role.queue}
        self.names = {
            "state": set(definition.states), "role": set(definition.roles) | {REQUESTER},
            "queue": set(definition.queues) | role_queues, "person": set(definition.people),
            "system": set(definition.systems),
        }
        self.sections = {"state": "states", "role": "roles", "queue": "queues", "person": "people",
                         "system": "systems"}
        self._successors: dict[bool, dict[str, set[str]]] = {}

    # Reporting

    def error(self, code: str, path: Path_, message: str, expected: str | None, *, key: bool = False) -> None:
        self._add(code, path, message, expected, key, "error")

    def warning(self, code: str, path: Path_, message: str, expected: str | None, *, key: bool = False) -> None:
        self._add(code, path, message, expected, key, "warning")

    def _add(self, code: str, path: Path_, message: str, expected: str | None, key: bool, severity: str) -> None:
        if path and path[0] in self.tolerance.broken:
            return
        line, column = self.locator.where(path, key=key)
        self.problems.append(DefinitionProblem(self.locator.path, line, column, message, expected, code, severity))

    def known(self, kind: str, name: str) -> bool:
        section = self.sections[kind]
        if section in self.tolerance.broken or name in self.tolerance.pruned_names.get(section, ()):
            return True
        if kind == "queue" and ("roles" in self.tolerance.broken or "queues" in self.tolerance.broken):
            return True
        return name in self.names[kind]

    def reference(self, kind: str, name: str | None, path: Path_, what: str) -> bool:
        """Report a name that is not defined; return whether it is."""
        if name is None or self.known(kind, name):
            return True
        choices = sorted(self.names[kind])
        close = suggest(name, choices)
        hint = f"; did you mean {close!r}?" if close else ""
        listing = ", ".join(choices) if choices else f"none is defined: add {self.sections[kind]}"
        self.error(f"undefined-{kind}", path, f"{what} {name!r} is not a defined {kind}{hint}",
                   f"one of {listing}" if choices else listing)
        return False

    def party(self, party: Party | None, path: Path_, what: str) -> bool:
        if party is None:
            return True
        return self.reference(party.kind, party.name, path + (party.kind,), f"{what}: {party.kind}")

    def data_field(self, name: str, path: Path_, what: str) -> None:
        if self.data_fields is None:
            return
        tree: Any = self.data_fields
        for part in name.split("."):
            if tree is None:
                return
            if part not in tree:
                close = suggest(part, tree)
                hint = f"; did you mean {close!r}?" if close else ""
                shown = ", ".join(sorted(tree)) or "none"
                self.error("unknown-data-field", path, f"{what} {name!r} is not a field the data contract "
                           f"defines{hint}", f"a field of the inputs ({shown})")
                return
            tree = tree[part]

    def state_ref(self, name: str | None, path: Path_, what: str) -> bool:
        return self.reference("state", name, path, what)

    # The checks

    def states(self) -> None:
        if "states" in self.tolerance.broken:
            return
        intakes = [sid for sid, state in self.d.states.items() if state.kind is StateKind.INTAKE]
        if not intakes and not self.tolerance.pruned.get("states"):
            self.error("no-intake", ("states",), "no state of kind intake", "one state with kind: intake, "
                       "where every case starts", key=True)
        for extra in intakes[1:]:
            self.error("several-intakes", ("states", extra), f"state {extra!r} is a second intake "
                       f"(after {intakes[0]!r})", "exactly one state of kind intake", key=True)
        if not any(s.kind is StateKind.DONE for s in self.d.states.values()) and not self.tolerance.pruned.get(
                "states"):
            self.error("no-done", ("states",), "no state of kind done", "a done state, where work ends "
                       "successfully", key=True)
        for sid, state in self.d.states.items():
            self.reference("role", state.role, ("states", sid, "role"), f"state {sid!r} names role")
            self.reference("queue", state.queue, ("states", sid, "queue"), f"state {sid!r} names queue")
            if state.kind in (StateKind.HUMAN_TASK, StateKind.REVIEW) and state.role is None:
                self.error("missing-role", ("states", sid), f"state {sid!r} is {_a(state.kind)} with no role",
                           "role: the role that works the case in this state", key=True)

    def transitions(self) -> None:
        for index, transition in enumerate(self.d.transitions):
            path = ("transitions", index)
            sources = transition.from_
            for position, source in enumerate(sources):
                where = path + ("from", position)
                if self.state_ref(source, where, "transition from") and source in self.d.states \
                        and self.d.states[source].kind.is_end:
                    self.error("transition-from-end", where, f"transition leaves {source!r}, an end state",
                               "no transition out of a done or cancelled state")
            self.state_ref(transition.to, path + ("to",), "transition to")
            for position, role in enumerate(transition.roles):
                self.reference("role", role, path + ("roles", position), "transition allowed to role")
            for position, name in enumerate(transition.requires):
                self.data_field(name, path + ("requires", position), "transition requires")

    def successors(self, *, catch_all: bool = True) -> dict[str, set[str]]:
        """Where a case can go from each state: transitions, exceptions raised and resolved, retries run out.

        catch_all=False leaves out raising the exceptions that may be raised anywhere (no
        raised_in): a way out of every state would otherwise hide every dead end.
        """
        if catch_all in self._successors:
            return self._successors[catch_all]
        graph: dict[str, set[str]] = {sid: set() for sid in self.d.states}
        for transition in self.d.transitions:
            for source in transition.from_:
                graph.setdefault(source, set()).add(transition.to)
        cancelled = [sid for sid, s in self.d.states.items() if s.kind is StateKind.CANCELLED]
        for reason in self.d.exceptions.values():
            after = [reason.returns_to] if reason.returns_to else (
                [reason.ends] if isinstance(reason.ends, str) else cancelled[:1])
            if reason.raised_in or catch_all:
                raised_in = reason.raised_in or [sid for sid, s in self.d.states.items() if not s.kind.is_end]
                for source in raised_in:
                    targets = [reason.state] if reason.state else after
                    graph.setdefault(source, set()).update(t for t in targets if t)
            if reason.state:
                graph.setdefault(reason.state, set()).update(t for t in after if t)
        for step in self.d.automated_steps:
            if step.on_exhausted:
                graph.setdefault(step.state, set()).add(step.on_exhausted)
        for sid, state in self.d.states.items():
            # A parallel state's branches start beside it; their last move returns to it (the join).
            graph.setdefault(sid, set()).update(branch.start for branch in state.branch_specs().values())
            for item in state.items or () if state.kind is StateKind.CHECKLIST else ():
                graph.setdefault(item, set()).add(sid)
        self._successors[catch_all] = graph
        return graph

    def reachable_from(self, start: str, *, catch_all: bool = True) -> set[str]:
        graph, seen, queue = self.successors(catch_all=catch_all), {start}, deque([start])
        while queue:
            for target in graph.get(queue.popleft(), ()):
                if target not in seen:
                    seen.add(target)
                    queue.append(target)
        return seen

    def graph(self) -> None:
        if not self.tolerance.graph_intact:
            return
        intakes = [sid for sid, s in self.d.states.items() if s.kind is StateKind.INTAKE]
        if len(intakes) != 1:
            return
        reachable = self.reachable_from(intakes[0])
        for sid in self.d.states:
            if sid not in reachable:
                self.error("unreachable-state", ("states", sid), f"state {sid!r} cannot be reached from the "
                           f"intake state {intakes[0]!r}", "a transition into it from a reachable state, or "
                           "remove the state", key=True)
        ends = set(self.d.end_states)
        for sid in self.d.states:
            if sid in reachable and sid not in ends and not (self.reachable_from(sid, catch_all=False) & ends):
                self.error("dead-end", ("states", sid), f"state {sid!r} has no path to an end (done or "
                           f"cancelled)", "a transition that leads on towards done or cancelled", key=True)

    def parties_and_systems(self) -> None:
        d = self.d
        self.reference("role", d.owner.role, ("owner", "role"), "the owner")
        self.reference("person", d.owner.person, ("owner", "person"), "the owner")
        self.reference("system", d.trigger.system, ("trigger", "system"), "the trigger's system")
        for obj, system in d.systems_of_record.items():
            self.reference("system", system, ("systems_of_record", obj), f"the system of record of {obj!r}")
        if d.proof_of_completion.field:
            self.data_field(d.proof_of_completion.field, ("proof_of_completion", "field"), "the proof of completion")
        self.reference("system", d.proof_of_completion.system, ("proof_of_completion", "system"), "the proof")
        for pid, person in d.people.items():
            for index, role in enumerate(person.roles):
                self.reference("role", role, ("people", pid, "roles", index), f"person {pid!r} has role")
        for qid, queue in d.queues.items():
            self.reference("role", queue.role, ("queues", qid, "role"), f"queue {qid!r} is worked by role")
        if d.sla:
            if d.calendar is None and "calendar" not in self.tolerance.broken:
                self.error("sla-without-calendar", ("sla",), "the SLA has no business calendar to count on",
                           "calendar: {timezone: ..., working_hours: 09:00-17:00, holidays: {country: ..}}",
                           key=True)
            for index, sid in enumerate(d.sla.pause_in):
                self.state_ref(sid, ("sla", "pause_in", index), "the SLA pauses in")
        if d.fallback:
            self.reference("queue", d.fallback.queue, ("fallback", "queue"), "the fallback's queue")
            self.party(d.fallback.owner, ("fallback", "owner"), "the fallback's owner")
        for index, expectation in enumerate(d.monitoring):
            self.state_ref(expectation.state, ("monitoring", index, "state"), "monitoring watches")
            self.party(expectation.alert, ("monitoring", index, "alert"), "monitoring alerts")
        for index, approver in enumerate(d.change.approvers):
            self.party(approver, ("change", "approvers", index), "change approver")

    def exceptions(self) -> None:
        has_cancelled = any(s.kind is StateKind.CANCELLED for s in self.d.states.values())
        for code, reason in self.d.exceptions.items():
            path = ("exceptions", code)
            if reason.resolver is None:
                self.error("exception-without-resolver", path, f"exception reason {code!r} has no resolver",
                           "resolver: {role: ...} or {queue: ...}, who resolves it", key=True)
            elif reason.resolver.person is not None:
                self.error("exception-without-resolver", path + ("resolver",), f"exception reason {code!r} is "
                           f"resolved by one person", "a role or a queue, so the work survives absences")
            else:
                self.party(reason.resolver, path + ("resolver",), f"exception {code!r} resolver")
            self.state_ref(reason.state, path + ("state",), f"exception {code!r} waits in")
            self.state_ref(reason.returns_to, path + ("returns_to",), f"exception {code!r} returns to")
            for index, sid in enumerate(reason.raised_in):
                self.state_ref(sid, path + ("raised_in", index), f"exception {code!r} is raised in")
            if reason.ends is True and not has_cancelled:
                self.error("undefined-state", path + ("ends",), f"exception {code!r} ends the case, but there is "
                           "no cancelled state", "a state of kind cancelled, or ends: STATE (a done state)")
            elif isinstance(reason.ends, str) and self.state_ref(reason.ends, path + ("ends",),
                                                                 f"exception {code!r} ends in"):
                if reason.ends in self.d.states and not self.d.states[reason.ends].kind.is_end:
                    self.error("invalid-value", path + ("ends",), f"exception {code!r} ends in {reason.ends!r}, "
                               "which is no end state", "a state of kind done or cancelled")
        requester_paths = [code for code, r in self.d.exceptions.items() if r.resolver and r.resolver.role == REQUESTER]
        if not requester_paths and "exceptions" not in self.tolerance.broken:
            self.warning("no-needs-info", ("exceptions",), "no exception reason goes back to the requester",
                         "a needs_info reason with resolver: {role: requester}", key=True)

    def duplicates(self) -> None:
        rule = self.d.duplicates
        if rule is None:
            return
        path = ("duplicates",)
        for index, name in enumerate(rule.fields):
            self.data_field(name, path + ("fields", index), "the duplicate rule compares")
        reason = self.d.exceptions.get(rule.reason)
        if reason is None:
            if "exceptions" not in self.tolerance.broken:
                close = suggest(rule.reason, self.d.exceptions)
                hint = f"; did you mean {close!r}?" if close else ""
                self.error("undefined-exception", path + ("reason",), f"the duplicate rule raises {rule.reason!r}, "
                           f"which is not an exception reason{hint}",
                           f"one of exceptions ({', '.join(self.d.exceptions) or 'none is defined'})")
            return
        intake = next((sid for sid, s in self.d.states.items() if s.kind is StateKind.INTAKE), None)
        if reason.raised_in and intake not in reason.raised_in:
            self.error("invalid-value", ("exceptions", rule.reason, "raised_in"), f"exception {rule.reason!r} "
                       f"is the duplicate rule's, raised at intake, but raised_in leaves out {intake!r}",
                       f"raised_in that includes {intake!r}, or none (anywhere)")

    def approvals(self) -> None:
        seen: dict[str, int] = {}
        for index, approval in enumerate(self.d.approvals):
            path = ("approvals", index)
            if self.state_ref(approval.state, path + ("state",), "approval at") and \
                    approval.state in self.d.states and self.d.states[approval.state].kind is not StateKind.APPROVAL:
                self.error("approval-state-kind", path + ("state",), f"state {approval.state!r} is "
                           f"{_a(self.d.states[approval.state].kind)}, not an approval", "a state of kind approval")
            if approval.state in seen:
                self.error("duplicate-approval", path + ("state",), f"a second approval for {approval.state!r} "
                           f"(the first is approvals[{seen[approval.state]}])", "one approval per state")
            seen.setdefault(approval.state, index)
            for position, approver in enumerate(approval.approvers):
                self.party(approver, path + ("approvers", position), "approver")
            evidence = approval.evidence
            if evidence is None or not (evidence.documents or evidence.fields):
                self.error("approval-without-evidence", path + (("evidence",) if evidence else ()),
                           f"the approval at {approval.state!r} asks for no evidence",
                           "evidence: {documents: [...]} or {fields: [...]}, what the approver must see")
            else:
                for position, name in enumerate(evidence.fields):
                    self.data_field(name, path + ("evidence", "fields", position), "evidence field")
            if isinstance(approval.quorum, int) and not isinstance(approval.quorum, bool) \
                    and approval.quorum > len(approval.approvers):
                self.error("quorum-too-large", path + ("quorum",), f"quorum {approval.quorum} is more than the "
                           f"{len(approval.approvers)} approver(s) listed", f"at most {len(approval.approvers)}, "
                           f"or more approvers (each entry is one vote)")
            self._separation(approval, path)
            if approval.timeout:
                self.party(approval.timeout.to, path + ("timeout", "to"), "the approval times out to")
        for sid, state in self.d.states.items():
            if state.kind is StateKind.APPROVAL and sid not in seen and "approvals" not in self.tolerance.broken \
                    and not self.tolerance.pruned.get("approvals"):
                self.error("approval-without-approvers", ("states", sid), f"approval state {sid!r} has no entry in "
                           "approvals", f"approvals: [{{state: {sid}, approvers: [...], evidence: ...}}]", key=True)

    def _separation(self, approval: Any, path: Path_) -> None:
        duties = approval.separation_of_duties
        if duties:
            for position, sid in enumerate(duties.actors_of):
                where = path + ("separation_of_duties", "actors_of", position)
                if self.state_ref(sid, where, "separation of duties names") and self.tolerance.graph_intact \
                        and approval.state in self.d.states and sid in self.d.states \
                        and (sid == approval.state or approval.state not in self.reachable_from(sid)):
                    self.error("sod-not-earlier", where, f"{sid!r} does not come before the approval at "
                               f"{approval.state!r}", "a state a case passes through before the approval")
        separated = duties is not None and (duties.requester or duties.actors_of)
        if not separated and self._is_payment(approval.state):
            self.warning("payment-without-separation", path, f"the approval at {approval.state!r} is a payment "
                         "step without separation of duties", "separation_of_duties: {requester: true, "
                         "actors_of: [...]}, so no one approves their own payment")

    def _is_payment(self, sid: str) -> bool:
        if any(c.reason is ControlReason.PAYMENT for c in self.d.controls_at(sid)):
            return True
        title = (self.d.states[sid].title or "") if sid in self.d.states else ""
        return sid.lower().startswith("pay") or title.lower().startswith("pay") or "payment" in sid.lower()

    def controls(self) -> None:
        for index, control in enumerate(self.d.controls):
            path = ("controls", index)
            if self.state_ref(control.state, path + ("state",), "control at") and control.state in self.d.states:
                kind = self.d.states[control.state].kind
                if not kind.is_human:
                    self.error("control-not-human", path + ("state",), f"the {control.reason} control sits on "
                               f"{control.state!r}, {_a(kind)} state", "a human_task, review or approval state")

    def timers(self) -> None:
        for index, timer in enumerate(self.d.timers):
            path = ("timers", index)
            name = f"timer {timer.name!r}" if timer.name else f"timer {index + 1}"
            if timer.target is None:
                self.error("timer-without-target", path, f"{name} targets nothing",
                           "target: {role: ...}, {queue: ...} or {person: ...}")
            elif not self.known(timer.target.kind, timer.target.name):
                choices = sorted(self.names[timer.target.kind])
                close = suggest(timer.target.name, choices)
                hint = f"; did you mean {close!r}?" if close else ""
                self.error("timer-without-target", path + ("target", timer.target.kind),
                           f"{name} targets {timer.target}, which is not defined{hint}",
                           f"a defined {timer.target.kind} ({', '.join(choices) or 'none is defined'})")
            self.state_ref(timer.state, path + ("state",), f"{name} counts in")
            if timer.sla and (self.d.sla is None or getattr(self.d.sla, timer.sla.value) is None) \
                    and "sla" not in self.tolerance.broken:
                self.error("timer-without-sla", path + ("sla",), f"{name} counts on the {timer.sla} SLA, "
                           "which is not set", f"sla: {{{timer.sla}: DURATION}}")

    def automated_steps(self) -> None:
        stepped: set[str] = set()
        for index, step in enumerate(self.d.automated_steps):
            path = ("automated_steps", index)
            stepped.add(step.state)
            if self.state_ref(step.state, path + ("state",), "automated step at") and step.state in self.d.states \
                    and self.d.states[step.state].kind is not StateKind.AUTOMATED:
                self.error("automated-step-kind", path + ("state",), f"state {step.state!r} is "
                           f"{_a(self.d.states[step.state].kind)}, not automated", "a state of kind automated")
            if step.on_exhausted is None:
                self.warning("no-on-exhausted", path, f"the automated step {step.action!r} says nowhere to go "
                             "when its retries run out", "on_exhausted: a human or exception state")
            else:
                if self.state_ref(step.on_exhausted, path + ("on_exhausted",), "on_exhausted goes to"):
                    self._manual_twin(step.on_exhausted, path + ("on_exhausted",), step.action)
            self.reference("role", step.in_doubt_role, path + ("in_doubt_role",), "steps in doubt are checked by role")
        self._result_outside_steps()
        if "automated_steps" in self.tolerance.broken or self.tolerance.pruned.get("automated_steps"):
            return
        for sid, state in self.d.states.items():
            if state.kind is StateKind.AUTOMATED and sid not in stepped:
                self.error("automated-without-action", ("states", sid), f"automated state {sid!r} runs no action",
                           f"automated_steps: [{{state: {sid}, action: NAME, retry: ...}}]", key=True)

    def _manual_twin(self, sid: str, path: Path_, action: str) -> None:
        """Report a manual twin no person can complete: not a person's state, or no way out a person can take."""
        if sid not in self.d.states or "transitions" in self.tolerance.broken or self.tolerance.pruned.get(
                "transitions"):
            return
        state = self.d.states[sid]
        if not (state.kind.is_human or state.kind is StateKind.EXCEPTION):
            self.error("manual-twin-not-for-people", path, f"the manual twin of {action!r}, {sid!r}, is "
                       f"{_a(state.kind)} state, which no person works", "a human_task, review or exception state")
            return
        ways_out = self.d.allowed_transitions(sid)
        # A person's move out of a state that runs no action has no `result`: a guard reading it never holds.
        open_to_people = [t for t in ways_out if t.guard is None or "result" not in t.guard.variables]
        if not open_to_people:
            self.error("manual-twin-dead-end", path, f"no person can complete the manual twin of {action!r}: "
                       f"{sid!r} has no way out" + (" whose guard does not read result" if ways_out else ""),
                       f"a transition from {sid} that a person can take (its guard reading data, not result)")

    def _result_outside_steps(self) -> None:
        for index, transition in enumerate(self.d.transitions):
            if transition.guard is None or "result" not in transition.guard.variables:
                continue
            sources = [sid for sid in transition.from_ if sid in self.d.states
                       and self.d.states[sid].kind is not StateKind.AUTOMATED]
            if sources:
                self.error("result-outside-step", ("transitions", index, "guard"),
                           f"the guard of {transition.label!r} reads result, which only an automated step gives, "
                           f"but it leaves {', '.join(map(repr, sources))}, where people act: it can never hold",
                           "data.FIELD in guards of transitions that people take")

    def routing(self) -> None:
        for index, rule in enumerate(self.d.routing):
            path = ("routing", index)
            for position, sid in enumerate(rule.states):
                self.state_ref(sid, path + ("states", position), "routing rule for")
            self.reference("queue", rule.queue, path + ("queue",), "routing to queue")
            self.party(rule.owner, path + ("owner",), "routing to owner")

    def exceptions_at_controls(self) -> None:
        """Warn of an exception that would take a case past a control: the engine refuses to raise it there."""
        if not self.tolerance.graph_intact:
            return
        controlled = {sid for sid, s in self.d.states.items() if s.kind is StateKind.APPROVAL}
        controlled |= {control.state for control in self.d.controls}
        cancelled = next((sid for sid, s in self.d.states.items() if s.kind is StateKind.CANCELLED), None)
        for code, spec in self.d.exceptions.items():
            after = spec.returns_to or (spec.ends if isinstance(spec.ends, str) else cancelled)
            for source in spec.raised_in:
                if source not in controlled or source not in self.d.states:
                    continue
                target = spec.state if spec.state and spec.state != source else after
                if target in self.d.states and not sends_back(self.d, source, target):
                    self.warning("exception-passes-control", ("exceptions", code, "raised_in"),
                                 f"exception {code!r} raised in {source!r} would take the case past its "
                                 f"{'approval' if self.d.states[source].kind is StateKind.APPROVAL else 'control'} "
                                 f"(to {target!r}); the engine refuses to raise it there",
                                 "an exception that sends the case back before the control, or ends it as cancelled")

    def immutable_fields(self) -> None:
        inline = self.d.inputs.fields
        for index, name in enumerate(self.d.inputs.immutable_after_intake):
            path = ("inputs", "immutable_after_intake", index)
            if inline is not None and name.split(".")[0] not in inline:
                self.error("unknown-data-field", path, f"immutable_after_intake names {name!r}, which is not "
                           f"an input field", f"one of {', '.join(inline) or 'the inputs (none is defined)'}")
            else:
                self.data_field(name, path, "immutable_after_intake names")

    def public_intake(self) -> None:
        public = self.d.public_intake
        if public is None:
            return
        path = ("public_intake", "contact_field")
        inline = self.d.inputs.fields
        name = public.contact_field
        if inline is not None and name.split(".")[0] not in inline:
            self.error("unknown-data-field", path, f"public_intake's contact_field {name!r} is not an input field",
                       f"one of {', '.join(inline) or 'the inputs (none is defined)'}")
        elif inline is not None and not inline[name.split(".")[0]].required:
            # A warning, not an error: some forms rightly let a person stay anonymous.
            self.warning("optional-contact-field", path, f"public_intake's contact_field {name!r} is optional: an "
                       f"outsider could leave no way to reach them", "a required input field")
        else:
            self.data_field(name, path, "public_intake's contact_field")
        if public.fields is None or inline is None:
            return
        for index, field in enumerate(public.fields):
            if field not in inline:
                self.error("unknown-data-field", ("public_intake", "fields", index), f"public_intake's fields name "
                           f"{field!r}, which is not an input field", f"one of {', '.join(inline)}")
        offered = set(public.fields)
        missing = [field for field, spec in inline.items() if spec.required and field not in offered]
        if missing:
            # A form that cannot send a required field starts no case at all.
            self.error("public-form-misses-required", ("public_intake", "fields"), f"public_intake's fields leave "
                       f"out the required {', '.join(map(repr, missing))}: no outsider could send the form",
                       "every required input field among them")
        if name.split(".")[0] in inline and name.split(".")[0] not in offered:   # an unknown one is reported above
            self.error("public-form-misses-contact", ("public_intake", "fields"), f"public_intake's fields leave "
                       f"out its contact_field {name!r}", f"{name!r} among them")

    def expressions(self) -> None:
        for path, expression in self.d.expressions():
            if path and path[0] in self.tolerance.broken:
                continue
            problem = expression.syntax_problem
            if problem is not None:
                self._at_expression(problem.code, path, problem.offset, problem.message, problem.expected)
                continue
            for reference_problem in expression.unknown_references(self.data_fields):
                self._at_expression("unknown-reference", path, reference_problem.offset, reference_problem.message,
                                    reference_problem.expected)

    def _at_expression(self, code: str, path: Path_, offset: int, message: str, expected: str) -> None:
        line, column = self.locator.where_in_expression(path, offset)
        self.problems.append(DefinitionProblem(self.locator.path, line, column, message, expected, code, "error"))

    def risks(self) -> None:
        if self.d.fallback is None and "fallback" not in self.tolerance.broken:
            self.warning("no-fallback", (), "no manual fallback", "fallback: {procedure: ..., queue: ...}, what "
                         "people do when the automation is down")
        if self.d.status == "draft":
            self.warning("draft", ("status",), "the definition is a draft", "status: active once it is reviewed")
        change = self.d.change
        if change.risk and change.needs_second_approver is False:
            self.warning("risk-without-second-approver", ("change", "needs_second_approver"),
                         f"changes tagged {', '.join(change.risk)} need no second approver",
                         "needs_second_approver: true for finance, access or compliance risk")


    def parallel_work(self) -> None:
        """Parallel states, checklists and sub-case steps: their branches exist, join again, and can be finished."""
        for sid, state in self.d.states.items():
            path = ("states", sid)
            if state.kind is StateKind.PARALLEL:
                self._branches(sid, state, path)
            elif state.kind is StateKind.CHECKLIST:
                self._checklist(sid, state, path)
            elif state.kind is StateKind.SUBCASE:
                self._subcase(sid, state, path)
            if state.kind.opens_branches and not self.d.allowed_transitions(sid) \
                    and "transitions" not in self.tolerance.broken:
                self.error("no-way-after-join", path, f"{state.kind} state {sid!r} has no transition out: its "
                           f"case has nowhere to go once its work is done", f"a transition from {sid!r}, taken "
                           "when the branches join (the first whose guard holds)", key=True)
        for sid, state in self.d.states.items():
            if state.kind is StateKind.PARALLEL and state.join is not None and isinstance(state.join, int) \
                    and state.join > len(state.branch_specs()):
                self.error("join-beyond-branches", path_of(sid, "join"), f"parallel state {sid!r} joins when "
                           f"{state.join} branches are done, but opens only {len(state.branch_specs())}",
                           f"a number from 1 to {len(state.branch_specs())}, all or first")

    def _branches(self, sid: str, state: Any, path: Path_) -> None:
        for name, branch in state.branch_specs().items():
            where = path + ("branches", name)
            if not self.state_ref(branch.start, where, f"branch {name!r} of {sid!r} starts in"):
                continue
            start = self.d.states[branch.start]
            if branch.start == sid or start.kind is StateKind.INTAKE or start.kind.is_end:
                self.error("bad-branch-start", where, f"branch {name!r} of {sid!r} starts in {branch.start!r}, "
                           f"{_a(start.kind)} state", "a state of the branch's own work (a task, an approval, "
                           "an automated step)")
                continue
            if self.tolerance.graph_intact and sid not in self._branch_reach(branch.start, sid):
                self.error("branch-never-joins", where, f"branch {name!r} of {sid!r} never comes back to {sid!r}: "
                           f"no path of transitions leads from {branch.start!r} to the join",
                           f"a transition from the branch's last state to {sid!r}, which ends the branch")

    def _branch_reach(self, start: str, join: str) -> set[str]:
        # Within a branch a case moves by its transitions (not the exceptions raised anywhere).
        graph, seen, queue = self.successors(catch_all=False), {start}, deque([start])
        while queue:
            current = queue.popleft()
            if current == join:
                continue
            for target in graph.get(current, ()):
                if target not in seen:
                    seen.add(target)
                    queue.append(target)
        return seen

    def _checklist(self, sid: str, state: Any, path: Path_) -> None:
        for position, item in enumerate(state.items or ()):
            where = path + ("items", position)
            if not self.state_ref(item, where, f"checklist {sid!r} item"):
                continue
            if not self.d.states[item].kind.is_human:
                self.error("checklist-item-not-human", where, f"checklist {sid!r} item {item!r} is "
                           f"{_a(self.d.states[item].kind)} state", "a human_task, review or approval state: a "
                           "person does each item")
        for position, item in enumerate(state.required or ()):
            if item not in (state.items or ()):
                self.error("required-not-an-item", path + ("required", position), f"checklist {sid!r} requires "
                           f"{item!r}, which is not one of its items", f"one of {', '.join(state.items or ())}")

    def _subcase(self, sid: str, state: Any, path: Path_) -> None:
        known = _known_workflows(self.locator.path)
        if state.workflow not in known and state.workflow != self.d.id:
            close = suggest(state.workflow, sorted(known))
            hint = f"; did you mean {close!r}?" if close else ""
            # A draft (a BPMN import) may name a workflow still to be written; an active version may not.
            report = self.warning if self.d.status is DefinitionStatus.DRAFT else self.error
            report("unknown-subcase-workflow", path + ("workflow",), f"sub-case step {sid!r} starts workflow "
                   f"{state.workflow!r}, which is neither beside this file nor in the library{hint}",
                   "the id of a workflow defined in a file beside this one (WORKFLOW.yaml) or a library template")
        for field_name, source in (state.pass_data or {}).items():
            self.data_field(source, path + ("pass", field_name), f"sub-case step {sid!r} passes")
        for field_name in (state.returns or {}):
            self.data_field(field_name, path + ("returns", field_name), f"sub-case step {sid!r} returns into")


def path_of(sid: str, *rest: Any) -> Path_:
    return ("states", sid, *rest)


def _known_workflows(definition_path: str) -> set[str]:
    """Return the workflow ids a sub-case may start: files beside the definition, and the library's templates."""
    from pathlib import Path
    from backoffice.definitions.library_templates import LIBRARY
    found = {path.stem for path in LIBRARY.glob("*.y*ml")}
    try:
        folder = Path(definition_path).resolve().parent
        found |= {path.stem for path in folder.glob("*.y*ml")}
    except (OSError, ValueError):
        pass
    return found


def _a(word: str) -> str:
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"
