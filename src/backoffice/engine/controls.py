"""The controls gate: a control state is left only by its decision, and route-deciding fields hold still.

Every move of a case passes `check_leaving` (from `Engine._write_move`, the one place that
writes a case's state), whatever asked for it: a plain transition, a task completed, an
exception raised or resolved, an automated step, a replayed dead letter. Migration asks
`control_differs` before it puts a case on another version. So a new interface gets every
control for free.

A control state is an approval state, or a human state that a `controls:` entry marks (when its
condition holds for the case). It is left:

- an approval: by its decision only, a quorum of votes (with evidence and separation of
  duties), a rejection, or the secondary approver's vote after the timeout (`approve`);
- another control: by a person in the role the move names (the state's role when the move
  names none), who is not the requester (unless the role is the requester's own), or by an
  operator replaying the dead letter that parked the case there (back to its step);
- either: by a move that sends the case back, from where it cannot reach the control's way
  forward without passing a control again (an exception "needs info" that returns the case
  to review), or that ends it as cancelled (nothing is done).

Route-deciding fields are the data fields that routing rules, the guards that choose an
approval (the transitions into approval states) and the conditions of controls read.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from backoffice.definitions.model import REQUESTER, Approval, Definition, StateKind
from backoffice.definitions.move_graph import cached, can_reach, sends_back
from backoffice.engine.cases import Actor, Case
from backoffice.engine.identity import canonical_id
from backoffice.errors import ControlBypassed, ExpressionFailed


class Exit(StrEnum):
    """How a move is asked for: the gate allows different ways out of a control."""

    TRANSITION = "transition"
    TASK = "task completion"
    DECISION = "approval decision"
    EXCEPTION = "exception"
    RESOLUTION = "exception resolution"
    STEP = "automated step"
    REPLAY = "dead-letter replay"
    JOIN = "join"
    """The engine's own move at a join: the case leaves its parallel state, or a branch is cancelled."""


def person(text: str | None) -> str | None:
    """Return the canonical id of a person's id as written, or None for none (a blank id is no one)."""
    if text is None:
        return None
    try:
        return canonical_id(text)
    except ValueError:
        return None


def persons_of(actor: Actor, *also: str | None) -> frozenset[str]:
    """Return every person an act counts for: the actor, whom they act for, and any others given."""
    return frozenset(filter(None, (person(actor.id), person(actor.on_behalf_of), *map(person, also))))


def applying_controls(definition: Definition, state: str, variables: Mapping[str, Any]) -> list[str]:
    """Return the reasons of the controls at `state` that apply to the case (their condition holds)."""
    reasons = []
    for control in definition.controls_at(state):
        try:
            applies = control.when is None or control.when.test(variables)
        except ExpressionFailed:
            applies = True  # a condition that cannot be read cannot release the case from its control
        if applies:
            reasons.append(str(control.reason))
    return reasons


def approval_at(definition: Definition, state: str) -> Approval | None:
    """Return the approval of an approval state, or None when `state` is not one."""
    if definition.states.get(state) is None or definition.states[state].kind is not StateKind.APPROVAL:
        return None
    return definition.approval(state)


def gated_for_every_case(definition: Definition, state: str) -> bool:
    """Whether `check_leaving` holds every case in `state` to its decision, whatever the case's data.

    An approval state is (its votes decide), and so is a state with a control that has no
    condition. A state whose controls all have a condition gates only the cases those conditions
    hold for (a software purchase at review), so a page that speaks of the state as a whole
    must not call it a control.
    """
    if definition.states.get(state) is None or definition.states[state].kind.is_end:
        return False
    return definition.states[state].kind is StateKind.APPROVAL or any(
        control.when is None for control in definition.controls_at(state))


def check_leaving(definition: Definition, case: Case, to: str, *, how: Exit, actor: Actor,
                  variables: Mapping[str, Any]) -> None:
    """Refuse a move of `case` to `to` that leaves a control state other than by its decision.

    `variables` are the CEL variables of the case before the move (for the controls' conditions).

    Raises:
        ControlBypassed: the move would leave the control otherwise; the message says what may.
    """
    state = case.state
    if to == state or how in (Exit.DECISION, Exit.JOIN):
        return
    if definition.states.get(state) is None or definition.states[state].kind.is_end:
        return
    approval = definition.states[state].kind is StateKind.APPROVAL
    if not approval and not definition.controls_at(state):
        return
    if sends_back(definition, state, to):
        return
    if approval:
        raise ControlBypassed(case.id, state, to, str(how),
                              f"a {how} may not take the case past it; expected the approvers' votes "
                              f"(backoffice approve CASE, or --reject), which decide by quorum")
    if how is Exit.REPLAY:
        return  # an operator (a person; `replay` checks the role) sends the case back to retry its step
    refusal = _not_a_decision(definition, case, to, how=how, actor=actor)
    # The controls' conditions (CEL, the costly part) are read only for a move that is not a decision.
    reasons = applying_controls(definition, state, variables) if refusal is not None else []
    if reasons:
        raise ControlBypassed(case.id, state, to, str(how), f"the {', '.join(reasons)} control {refusal}")


def _not_a_decision(definition: Definition, case: Case, to: str, *, how: Exit, actor: Actor) -> str | None:
    """Return why a move out of a (non-approval) control state is not its decision, or None when it is."""
    if how not in (Exit.TRANSITION, Exit.TASK):
        return f"needs a person to decide, not a {how}"
    named = _roles_named(definition, case.state, to)
    if not named:
        return "needs a person in a named role, and the move names none; expected roles on the transition or the state"
    role = actor.acting_role(tuple(named), requester=case.requester)
    if role is None:
        return f"is passed by {' or '.join(sorted(named))}, and {actor.id} holds none of them"
    if role != REQUESTER and person(case.requester) in persons_of(actor):
        return (f"is not passed by the requester {case.requester} on their own case; expected another person "
                f"in the role")
    return None


def _roles_named(definition: Definition, state: str, to: str) -> set[str]:
    named: set[str] = set()
    for transition in definition.allowed_transitions(state):
        if transition.to == to:
            named.update(transition.roles or filter(None, [definition.states[state].role]))
    return named


def reaches(definition: Definition, start: str, goal: str) -> bool:
    """Whether a case in `start` can come to `goal` by the definition's moves (transitions, exceptions, steps)."""
    return can_reach(definition, start, {goal})


def route_fields(definition: Definition) -> frozenset[str]:
    """Return the data fields that choose a case's route: read by routing, approval-choosing guards, controls."""
    return cached(definition, "route_fields", _route_fields)


def _route_fields(definition: Definition) -> frozenset[str]:
    expressions = [rule.when for rule in definition.routing]
    expressions += [t.guard for t in definition.transitions
                    if definition.states.get(t.to) is not None and definition.states[t.to].kind is StateKind.APPROVAL]
    expressions += [control.when for control in definition.controls]
    return frozenset(reference.path[1] for expression in expressions if expression is not None
                     for reference in expression.references if reference.path[0] == "data" and len(reference.path) > 1)


def control_differs(old: Definition, new: Definition, state: str) -> str | None:
    """Return how the control at `state` differs between two versions (for migration), or None when it is the same."""
    old_approval, new_approval = approval_at(old, state), approval_at(new, state)
    if old_approval != new_approval:
        return (f"{state!r} is an approval whose rules differ in version {new.version}; the votes cast "
                f"under version {old.version} would be counted under other rules")
    if old.controls_at(state) != new.controls_at(state):
        return f"the controls at {state!r} differ in version {new.version}"
    return None
