"""What a person's searches of the work read: who looks, what they filter by, and the rows they get.

Frozen values only; the store answers the searches in SQL (`store.work_search`), filtering and
keeping out of sight what is not the viewer's in the query itself, so a search stays fast on
a large table and never reads rows only to drop them. Who may *act* on a row is still the
engine's decision (claim, vote, move, resolve): seeing a task is not being allowed to take it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from backoffice.engine.tasks import Task

MAX_FILTER_TEXT = 200


@dataclass(frozen=True)
class Viewer:
    """Who looks, as the directory knows them: the rows they may see follow from this alone.

    Attributes:
        person: the canonical id of the signed-in person.
        roles: the roles the directory grants them in every workflow.
        queues: the queues they work: memberships, and the queues of the roles they hold.
        sees_everything: an administrator, an auditor or a team lead reads every case (services.visibility).
        scoped_roles: (workflow, role) of each role granted to them in one workflow only: it counts there only.
        every_case_of: the workflows whose every case they read (a reader of all, granted there only).
    """

    person: str
    roles: tuple[str, ...] = ()
    queues: tuple[str, ...] = ()
    sees_everything: bool = False
    scoped_roles: tuple[tuple[str, str], ...] = ()
    every_case_of: tuple[str, ...] = ()

    def roles_in(self, workflow: str) -> tuple[str, ...]:
        """The roles they hold in `workflow`: those granted everywhere, and those granted there only."""
        return (*self.roles, *(role for scope, role in self.scoped_roles if scope == workflow))


@dataclass(frozen=True)
class TaskFilter:
    """A search of open tasks; None (or False) leaves a criterion out.

    Attributes:
        mine_only: only tasks given to the viewer or held by them (else theirs and their queues').
        queue, workflow, state, kind: equal to.
        due_before: an SLA due time before this moment.
        text: in the case's data, its workflow or its state (any case), or a task or case id.
    """

    mine_only: bool = False
    queue: str | None = None
    workflow: str | None = None
    state: str | None = None
    kind: str | None = None
    due_before: datetime | None = None
    text: str | None = None


WorkKey = tuple[datetime | None, datetime, int]
"""A task's place in My work's order: its SLA due (None: last), when it was made, its id (for keyset pages)."""


@dataclass(frozen=True)
class WorkItem:
    """An open task and what a list shows of its case."""

    task: Task
    case_state: str
    requester: str
    case_created_at: datetime
    data: Mapping[str, Any] = field(default_factory=dict)

    def held_by(self, now: datetime) -> str | None:
        return self.task.held_by(now)


@dataclass(frozen=True)
class OpenException:
    """An exception waiting for its resolver: the reason code, where it was raised, and its case."""

    id: int
    case_id: int
    workflow: str
    reason: str
    raised_in: str
    raised_by: str
    raised_at: datetime
    case_state: str
    note: str | None = None


@dataclass(frozen=True)
class RequestedCase:
    """A case someone requested, as their list of requests orders it.

    Attributes:
        asks_me: an open exception task is assigned to the requester (the case waits for their answer).
    """

    case_id: int
    workflow: str
    definition_version: int
    state: str
    created_at: datetime
    asks_me: bool


@dataclass(frozen=True)
class BoardCard:
    """A case as a card on a workflow version's board."""

    case_id: int
    state: str
    version: int
    priority: str
    queue: str | None
    owner: str | None
    requester: str
    created_at: datetime
    updated_at: datetime
    data: Mapping[str, Any] = field(default_factory=dict)
