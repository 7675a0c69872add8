"""The rules of a definition applied to one case: may it move, and where does its work go.

Pure functions over a definition, a case and the time given: no storage, no clock. The
engine calls them with the definition version the case started on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backoffice.definitions.model import Definition, Party, Priority, Transition
from backoffice.engine.cases import Actor, Case, Decision
from backoffice.errors import ExpressionFailed, suggest


@dataclass(frozen=True)
class Routing:
    """Where work waits and who owns it: what routing decided, separately from what the work is."""

    queue: str | None
    owner: str | None
    priority: Priority


def context(*, data: Mapping[str, Any], case: Mapping[str, Any], actor: Actor | None, now: datetime,
            result: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return the variables CEL expressions read: data, case, actor, result (an automated step's output), now."""
    return {"data": _plain(data), "case": dict(case), "now": now, "result": _plain(result or {}),
            "actor": {"id": actor.id, "role": actor.role, "roles": list(actor.roles)} if actor else
            {"id": None, "role": None, "roles": []}}


def route(definition: Definition, *, entering: str | None, variables: Mapping[str, Any], current: Routing
          ) -> Routing:
    """Apply the routing rules for work entering a state (None: new work at intake).

    Each of queue, owner and priority is decided by the first matching rule that sets it, in
    the order written: "urgent first: priority high" then "everything else: queue service-desk,
    priority normal" gives urgent work the service desk's queue and a high priority. A rule
    without `states` routes new work; a rule with states routes work entering one of them.
    When no rule sets the queue of a state entered, the state's own queue (its `queue:`, else
    its role's) takes the work, and otherwise the work stays where it is.
    """
    decided: dict[str, Any] = {}
    for rule in definition.routing:
        applies = (entering in rule.states) if entering is not None else not rule.states
        if not applies or not _matches(rule.when, variables):
            continue
        for name, value in (("queue", rule.queue), ("owner", _party(rule.owner)), ("priority", rule.priority)):
            if value is not None:
                decided.setdefault(name, value)
    queue = decided.get("queue")
    if queue is None:
        queue = definition.queue_of(entering or definition.intake_state) or current.queue
    return Routing(queue=queue, owner=decided.get("owner", current.owner),
                   priority=decided.get("priority", current.priority))


def check_transition(definition: Definition, case: Case, to: str, *, actor: Actor, data: Mapping[str, Any],
                     now: datetime, result: Mapping[str, Any] | None = None) -> Decision:
    """Decide whether `actor` may move `case` to `to` with `data` (the case data after the move's changes).

    A move is allowed when a transition of the definition leads from the case's state to `to`,
    the actor holds one of its roles (its `roles`, else the role of the state it leaves; none
    named: anyone), every field it requires is filled, and its guard holds (`result` is what an
    automated step returned, for guards that read it). With several
    transitions between the same states, the first one that allows the move is taken.
    """
    if to not in definition.states:
        close = suggest(to, definition.states)
        hint = f" (did you mean {close!r}?)" if close else ""
        return Decision(False, f"version {definition.version} of {definition.id} has no state {to!r}{hint}; "
                               f"expected {_targets(definition, case.state)}")
    if definition.state(case.state).kind.is_end:
        return Decision(False, f"the case has ended in {case.state!r}; expected a case that is still open")
    candidates = [t for t in definition.allowed_transitions(case.state) if t.to == to]
    if not candidates:
        return Decision(False, f"version {definition.version} of {definition.id} has no transition from "
                               f"{case.state!r} to {to!r}; expected {_targets(definition, case.state)}")
    variables = context(data=data, case=case.expression_fields(), actor=actor, now=now, result=result)
    refusals = [_refusal(definition, case, transition, actor=actor, data=data, variables=variables)
                for transition in candidates]
    for transition, (refusal, role) in zip(candidates, refusals):
        if refusal is None:
            return Decision(True, transition=transition.name, role=role)
    return Decision(False, refusals[0][0])


def _refusal(definition: Definition, case: Case, transition: Transition, *, actor: Actor,
             data: Mapping[str, Any], variables: Mapping[str, Any]) -> tuple[str | None, str | None]:
    allowed = tuple(transition.roles) or tuple(filter(None, [definition.state(case.state).role]))
    role = actor.acting_role(allowed, requester=case.requester) if allowed else actor.role
    if allowed and role is None:
        held = f"acts as {actor.role!r}" if actor.role else "acts in no role"
        return (f"{transition.label!r} is for {_either(allowed)}, and {actor.id} {held}; "
                f"expected an actor in one of those roles"), None
    missing = [name for name in transition.requires if not filled(data, name)]
    if missing:
        return (f"{transition.label!r} requires {', '.join(missing)}, which "
                f"{'is' if len(missing) == 1 else 'are'} not filled; expected data with "
                f"{' and '.join(repr(name) for name in missing)}"), role
    if transition.guard is not None:
        try:
            passed = transition.guard.test(variables)
        except ExpressionFailed as exc:
            return (f"the guard {str(transition.guard)!r} of {transition.label!r} cannot be evaluated: "
                    f"{exc.reason}"), role
        if not passed:
            return (f"the guard {str(transition.guard)!r} of {transition.label!r} is false; "
                    f"expected data that makes it true"), role
    return None, role


def _matches(condition: Any, variables: Mapping[str, Any]) -> bool:
    if condition is None:
        return True
    try:
        return condition.test(variables)
    except ExpressionFailed:
        # A rule that reads an optional field the case lacks does not match: refusing the
        # intake over a routing preference would lose work that passed the contract.
        return False


def filled(data: Mapping[str, Any], path: str) -> bool:
    value: Any = data
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return False
        value = value[part]
    return value is not None and not (isinstance(value, str) and not value.strip()) and value != [] and value != {}


def _targets(definition: Definition, state: str) -> str:
    targets = list(dict.fromkeys(t.to for t in definition.allowed_transitions(state)))
    return f"one of {', '.join(targets)}" if targets else f"no move: {state!r} has no way out"


def _either(roles: tuple[str, ...]) -> str:
    return "role " + roles[0] if len(roles) == 1 else "roles " + ", ".join(roles)


def _party(party: Party | None) -> str | None:
    return f"{party.kind}:{party.name}" if party is not None else None


def _plain(value: Any) -> Any:
    # CEL reads dicts and lists; the case hands out read-only mappings.
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value
