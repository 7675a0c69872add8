"""The board: a workflow version's cases as cards, a column per state, and a move that the engine decides.

Moving a card is `Engine.transition` with the card's case version (so a card moved by someone
else meanwhile is refused as stale, not overwritten). A refusal (a guard, a missing field, a
role, an approval or a control left other than by its decision) comes back as the engine's own
sentence, for the page to show on the card.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from backoffice.definitions.model import StateKind
from backoffice.engine import Actor, Case, Engine
from backoffice.engine.controls import gated_for_every_case
from backoffice.engine.worklist import BoardCard, Viewer
from backoffice.errors import BackofficeError, UnknownWorkflow
from backoffice.services.display import figure

CARDS_PER_COLUMN = 50
SUMMARY_FIELDS = ("summary", "title", "subject", "item", "name", "description")


@dataclass(frozen=True)
class Card:
    """A case on the board: what it is about, how old it is, and how long it has stood in its column."""

    case_id: int
    version: int
    priority: str
    summary: str
    figure: str
    """The case's amount as every page writes it (`services.display.figure`), or empty."""
    requester: str
    age: timedelta
    in_state: timedelta


@dataclass(frozen=True)
class Column:
    """A state of the workflow version: how many of the viewer's cases stand in it, and the first of them.

    `control` is True where the controls gate (`engine.controls.gated_for_every_case`) holds every case
    to its decision: an approval state (`approval`, left by its votes), or a state an unconditional
    control marks (left by a person in its role who is not the requester).
    """

    state: str
    title: str
    kind: str
    control: bool
    approval: bool
    count: int
    cards: tuple[Card, ...]


@dataclass(frozen=True)
class Board:
    workflow: str
    version: int
    versions: tuple[int, ...]
    columns: tuple[Column, ...]

    @property
    def states(self) -> tuple[str, ...]:
        return tuple(column.state for column in self.columns)


@dataclass(frozen=True)
class MoveResult:
    """A card's move: the case as it now is, or the engine's refusal in its own words."""

    case_id: int
    to: str
    case: Case | None
    refusal: str | None

    @property
    def moved(self) -> bool:
        return self.refusal is None


def workflows(engine: Engine) -> dict[str, tuple[int, ...]]:
    """Return each deployed workflow's versions, in order."""
    found: dict[str, list[int]] = {}
    for stored in engine.versions():
        found.setdefault(stored.workflow, []).append(stored.version)
    return {name: tuple(numbers) for name, numbers in sorted(found.items())}


def board(engine: Engine, viewer: Viewer, workflow: str, version: int | None = None, *, now: datetime,
          per_column: int = CARDS_PER_COLUMN) -> Board:
    """Return the board of a workflow version (the latest when None) as the viewer may see it.

    Raises:
        UnknownWorkflow: no such workflow or version is deployed.
    """
    versions = workflows(engine).get(workflow)
    if not versions:
        raise UnknownWorkflow(workflow, sorted(workflows(engine)))
    running = engine.running(workflow, version)
    definition = running.definition
    number = running.stored.version
    states = list(definition.states)
    counts = engine.store.board_counts(viewer, workflow, number)
    schema = running.inputs.json_schema()
    cards: dict[str, list[Card]] = {state: [] for state in states}
    for card in engine.store.board_cards(viewer, workflow, number, states=states, per_state=per_column):
        cards.setdefault(card.state, []).append(_card(card, now, schema))
    columns = []
    for state_id, state in definition.states.items():
        # As the controls gate sees it: a state it holds every case in to its decision. A control with a
        # condition (review, when the purchase is software) gates some cases only: not the column.
        columns.append(Column(state=state_id, title=state.title or state_id.replace("-", " "), kind=str(state.kind),
                              control=gated_for_every_case(definition, state_id),
                              approval=state.kind is StateKind.APPROVAL, count=counts.get(state_id, 0),
                              cards=tuple(cards.get(state_id, ()))))
    return Board(workflow=workflow, version=number, versions=versions, columns=tuple(columns))


def move(engine: Engine, case_id: int, to: str, *, viewer: Viewer, expected_version: int, now: datetime,
         data: Mapping[str, Any] | None = None) -> MoveResult:
    """Try to move a card's case to `to` as the viewer; return the moved case or the engine's refusal.

    Raises:
        UnknownCase: there is no such case.
    """
    engine.case(case_id)
    try:
        moved = engine.transition(case_id, to, actor=Actor(viewer.person), expected_version=expected_version,
                                  now=now, data=data)
    except BackofficeError as refused:
        return MoveResult(case_id=case_id, to=to, case=None, refusal=str(refused))
    return MoveResult(case_id=case_id, to=to, case=moved, refusal=None)


def summary_of(data: Mapping[str, Any]) -> str:
    """Return what a case is about, in a line: its first summary-like field, else its first text field."""
    for name in SUMMARY_FIELDS:
        value = data.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()[:120]
    for value in data.values():
        if isinstance(value, str) and value.strip():
            return value.strip()[:120]
    return ""


def _card(card: BoardCard, now: datetime, schema: Mapping[str, Any]) -> Card:
    return Card(case_id=card.case_id, version=card.version, priority=card.priority, summary=summary_of(card.data),
                figure=figure(card.data, schema),
                requester=card.requester, age=now - card.created_at, in_state=now - card.updated_at)


def age_text(age: timedelta) -> str:
    """Return an age as people say it: 3d 4h, 5h 12m, 7m."""
    minutes = max(0, int(age.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m"


def states_of(engine: Engine, workflow: str, version: int) -> Sequence[str]:
    """Return the states of a workflow version, in the definition's order."""
    return list(engine.running(workflow, version).definition.states)
