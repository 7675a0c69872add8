"""What the holder of a case's task may do with it on the case page: move the case on, or ask for something.

A person who holds (has claimed) the open work task of the case's state sees the ways out of
that state, each with the core's answer to "may I, now?" (`Engine.can_transition`, so a refused
move is explained before the click), and the exception reasons the workflow allows in that
state (such as needs_info back to the requester). Acting is `Engine.complete` and
`Engine.raise_exception` as the signed-in person: the core decides, as it does for the API
and the command line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backoffice.definitions.model import Definition
from backoffice.engine import Case, Engine
from backoffice.engine.tasks import Task, TaskKind, TaskStatus
from backoffice.services.principal import Principal


@dataclass(frozen=True)
class Move:
    """A way out of the task's state: where it goes, its name, and whether the core allows it now (else why not)."""

    to: str
    label: str
    allowed: bool
    refusal: str | None


@dataclass(frozen=True)
class Raisable:
    """An exception reason the workflow allows in the task's state, and what it is for."""

    reason: str
    description: str


@dataclass(frozen=True)
class TaskActions:
    task: Task
    moves: list[Move]
    reasons: list[Raisable]


def held_task(tasks: list[Task], case: Case, person: str, now: datetime) -> Task | None:
    """Return the open work task of the case's state that `person` holds now, if any."""
    return next((task for task in tasks if task.kind is TaskKind.WORK and task.status is TaskStatus.OPEN
                 and task.state == case.state and task.held_by(now) == person), None)


def task_actions(engine: Engine, user: Principal, case: Case, definition: Definition, tasks: list[Task],
                 now: datetime) -> TaskActions | None:
    """Return what `user` may do with the task they hold on `case`, or None when they hold none."""
    task = held_task(tasks, case, user.id, now)
    if task is None:
        return None
    moves: dict[str, Move] = {}
    for transition in definition.transitions:
        if case.state not in transition.from_ or transition.to in moves:
            continue
        decision = engine.can_transition(case.id, transition.to, actor=user.actor(), now=now)
        moves[transition.to] = Move(transition.to, transition.name or transition.to, decision.allowed,
                                    None if decision.allowed else decision.reason)
    reasons = [Raisable(reason, " ".join((spec.description or "").split()))
               for reason, spec in definition.exceptions.items()
               if case.state in (spec.raised_in or [case.state])]
    return TaskActions(task, list(moves.values()), reasons)
