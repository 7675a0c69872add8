"""The graph of a definition's moves: where a case can go, and which states stand in the way as controls.

A case moves by transitions, by exceptions (into the state it waits in, then to where the
resolution sends it), and by an automated step's `on_exhausted`. The governed-change diff and
the engine's controls gate both ask one question of it: can a case get from here to there
without passing an approval or an unconditional control?
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any

from backoffice.definitions.model import Definition, StateKind


def edges_of(definition: Definition) -> dict[str, set[str]]:
    """Return state -> the states a case can move to from it, by any kind of move."""
    cached = _cache(definition, "edges")
    if cached is not None:
        return cached
    edges: dict[str, set[str]] = {sid: set() for sid in definition.states}
    for transition in definition.transitions:
        for source in transition.from_:
            edges.setdefault(source, set()).add(transition.to)
    cancelled = next((sid for sid, s in definition.states.items() if s.kind is StateKind.CANCELLED), None)
    for spec in definition.exceptions.values():
        raised_in = spec.raised_in or [sid for sid, s in definition.states.items() if not s.kind.is_end]
        after = spec.returns_to or (spec.ends if isinstance(spec.ends, str) else cancelled)
        for source in raised_in:
            waits_in = spec.state or source
            edges.setdefault(source, set()).add(waits_in)
            if after is not None:
                edges.setdefault(waits_in, set()).add(after)
    for step in definition.automated_steps:
        if step.on_exhausted:
            edges.setdefault(step.state, set()).add(step.on_exhausted)
    for sid, state in definition.states.items():
        # Branches start beside their parallel state and come back to it; checklist items likewise.
        edges.setdefault(sid, set()).update(branch.start for branch in state.branch_specs().values())
        for item in state.items or () if state.kind is StateKind.CHECKLIST else ():
            edges.setdefault(item, set()).add(sid)
    return _store(definition, "edges", edges)


def barrier_states(definition: Definition) -> frozenset[str]:
    """Return the states no case passes without a person's decision: approvals and unconditional controls."""
    cached = _cache(definition, "barriers")
    if cached is not None:
        return cached
    found = {sid for sid, s in definition.states.items() if s.kind is StateKind.APPROVAL}
    found |= {control.state for control in definition.controls if control.when is None}
    return _store(definition, "barriers", frozenset(found))


def can_reach(definition: Definition, start: str, goals: Iterable[str], *, stop: Iterable[str] = ()) -> bool:
    """Whether a case in `start` can come to one of `goals`, never moving on from a state of `stop` (but `start`)."""
    goals, stop = set(goals), set(stop)
    edges = edges_of(definition)
    seen, queue = {start}, deque([start])
    while queue:
        state = queue.popleft()
        if state in goals:
            return True
        if state in stop and state != start:
            continue
        for following in edges.get(state, ()):
            if following not in seen:
                seen.add(following)
                queue.append(following)
    return False


def sends_back(definition: Definition, control: str, to: str) -> bool:
    """Whether a move from the control state to `to` keeps the control: it ends the case, or sends it back.

    Back means: from `to`, the case cannot finish (reach a done state) without passing this
    control, or another approval or unconditional control, first. Moving to another approval
    is never back: it would trade one approval for another.
    """
    return cached(definition, f"sends_back {control} {to}", lambda d: _sends_back(d, control, to))


def _sends_back(definition: Definition, control: str, to: str) -> bool:
    target = definition.states.get(to)
    if target is None:
        return False
    if target.kind is StateKind.CANCELLED:
        return True
    if target.kind is StateKind.APPROVAL or target.kind is StateKind.DONE:
        return False
    finished = {sid for sid, s in definition.states.items() if s.kind is StateKind.DONE}
    return not can_reach(definition, to, finished, stop={control, *barrier_states(definition)})


# Definitions are frozen, so what is derived from one is computed once; the entry keeps the
# definition itself, so a new object at a reused id() is never given another's graph.
_DERIVED: dict[tuple[int, str], tuple[Definition, Any]] = {}


def _cache(definition: Definition, name: str) -> Any:
    found = _DERIVED.get((id(definition), name))
    return found[1] if found is not None and found[0] is definition else None


def _store(definition: Definition, name: str, value: Any) -> Any:
    if len(_DERIVED) > 4096:
        _DERIVED.clear()
    _DERIVED[(id(definition), name)] = (definition, value)
    return value


def cached(definition: Definition, name: str, compute: Any) -> Any:
    """Return what `compute(definition)` gives, computed once per definition object."""
    found = _cache(definition, name)
    return found if found is not None else _store(definition, name, compute(definition))
