"""The values the engine hands out: a case, who acts on it, and the answer to "may I move it?".

Rows become these objects only in `store/`; the engine and its callers see frozen values,
never dicts travelling through the domain.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any

from backoffice.definitions.model import REQUESTER, Priority
from backoffice.errors import InputRefused
from backoffice.limits import MAX_ACTOR_LENGTH, check_actor_id, check_text


@dataclass(frozen=True)
class Actor:
    """Who acts: a person or a service account, and the role they act in.

    `roles` lists every role they hold; `role` the one they act in now (the lane of their
    events). A transition open to several roles is allowed when either names one of them.
    `on_behalf_of` names the person they act for (an administrator, or a delegate): the act is
    recorded as "id on behalf of on_behalf_of", and controls count both persons.
    """

    id: str
    role: str | None = None
    roles: tuple[str, ...] = ()
    on_behalf_of: str | None = None

    def __post_init__(self) -> None:
        # BadActorId is a ValueError too: callers that caught the blank id's ValueError still do.
        check_actor_id(self.id)
        if self.on_behalf_of is not None:
            check_actor_id(self.on_behalf_of)  # a person's id, refused as one (not as a role)
        for name in (self.role, *self.roles):
            if name is None:
                continue
            if not isinstance(name, str) or not name.strip() or len(name) > MAX_ACTOR_LENGTH:
                raise InputRefused("the actor's role", f"{name!r} is blank, not text, or longer than "
                                   f"{MAX_ACTOR_LENGTH} characters", "a role name such as service-desk")
            check_text(name, "the actor's role")
        if self.role is not None and self.role not in self.roles:
            object.__setattr__(self, "roles", (self.role, *self.roles))

    @property
    def persons(self) -> frozenset[str]:
        """Every person this act involves: the actor, and whom they act for (separation of duties counts both)."""
        return frozenset(filter(None, (self.id, self.on_behalf_of)))

    def on_behalf(self) -> dict[str, str]:
        """Return `{"on_behalf_of": ...}` for an event's attributes and an audit record's detail ({} when acting alone)."""
        return {"on_behalf_of": self.on_behalf_of} if self.on_behalf_of else {}

    def __str__(self) -> str:
        return f"{self.id} on behalf of {self.on_behalf_of}" if self.on_behalf_of else self.id

    def acting_role(self, allowed: tuple[str, ...], *, requester: str | None) -> str | None:
        """Return the role of `allowed` this actor may act in, or None when they hold none of them.

        The built-in role `requester` is held by whoever started the case (and by whoever acts on
        their behalf).
        """
        for role in self.roles:
            if role in allowed:
                return role
        if REQUESTER in allowed and requester is not None and requester in self.persons:
            return REQUESTER
        return None


@dataclass(frozen=True)
class Case:
    """One unit of work and where it stands.

    Attributes:
        id: the case id, given by the store.
        workflow, definition_version: the definition version the case started on; it keeps it.
        state, previous_state: where it is, and where it was before the last move.
        data: the case data (read-only), as the definition's inputs describe it.
        priority, queue, owner: what routing decided.
        requester: who started it.
        parent_id, parent_state, branch: for a branch of parallel work or a sub-case, the case it
            runs under, the state of that case that opened it, and the branch's name (None otherwise).
        version: how many times the case has changed (1 when started); a transition names the
            version it read, and is refused when the case moved on since (`StaleVersion`).
    """

    id: int
    workflow: str
    definition_version: int
    state: str
    data: Mapping[str, Any]
    requester: str
    created_at: datetime
    updated_at: datetime
    version: int = 1
    previous_state: str | None = None
    priority: Priority = Priority.NORMAL
    queue: str | None = None
    owner: str | None = None
    idempotency_key: str | None = None
    parent_id: int | None = None
    parent_state: str | None = None
    branch: str | None = None

    def __post_init__(self) -> None:
        # A caller keeping the dict it passed in must not be able to change the case through it.
        if not isinstance(self.data, MappingProxyType):
            object.__setattr__(self, "data", MappingProxyType(dict(self.data)))

    def expression_fields(self) -> dict[str, Any]:
        """Return the case as CEL expressions read it: `case.state`, `case.version` (the definition's) ..."""
        return {"id": str(self.id), "workflow": self.workflow, "version": self.definition_version,
                "state": self.state, "previous_state": self.previous_state, "priority": str(self.priority),
                "queue": self.queue, "owner": self.owner, "requester": self.requester,
                "created_at": self.created_at, "updated_at": self.updated_at, "documents": [], "attempts": 0,
                "reason": None}

    def as_json(self) -> dict[str, Any]:
        """Return the case as plain JSON values (for the command line and the API)."""
        return {"id": self.id, "workflow": self.workflow, "definition_version": self.definition_version,
                "state": self.state, "previous_state": self.previous_state, "version": self.version,
                "priority": str(self.priority), "queue": self.queue, "owner": self.owner,
                "requester": self.requester, "idempotency_key": self.idempotency_key,
                "created_at": self.created_at.isoformat(), "updated_at": self.updated_at.isoformat(),
                "data": dict(self.data),
                **({"parent_id": self.parent_id, "parent_state": self.parent_state, "branch": self.branch}
                   if self.parent_id is not None else {})}


@dataclass(frozen=True)
class Decision:
    """The answer of `Engine.can_transition`: allowed, or refused with the reason."""

    allowed: bool
    reason: str | None = None
    transition: str | None = field(default=None, compare=False)
    role: str | None = field(default=None, compare=False)

    def __bool__(self) -> bool:
        return self.allowed


def utc(moment: datetime) -> datetime:
    """Return an aware time in UTC; a naive time is a caller's bug, since its zone is a guess."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment!r} has no time zone; pass an aware time (in UTC, or with its offset)")
    return moment.astimezone(timezone.utc)
