"""The directory: who people are and what they may do, as the engine's values and the storage it needs.

People and service accounts are principals: whoever acts is one of them. Roles are granted to
a person, a group or a service account, in every workflow or in one; a person holds the roles
granted to them and to their groups. Tokens (stored as a sha256 only) let a principal act from
a script or a worker; delegations let a person act for another for a while, within a scope.
The operations live in `directory_operations`, the checks every act passes in `gate`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from backoffice.engine.roles import PlatformRole

ADMINISTRATOR = str(PlatformRole.ADMINISTRATOR)
"""The role that manages the directory and may act on behalf of anyone (recorded as such)."""

TOKEN_PREFIX = "bo_"
"""Every token starts so: a secret scanner (or a person) can tell a leaked token from noise."""


class PrincipalKind(StrEnum):
    PERSON = "person"
    SERVICE = "service"


class GranteeKind(StrEnum):
    PERSON = "person"
    GROUP = "group"
    SERVICE = "service"


@dataclass(frozen=True)
class Person:
    """A person of the directory, under their canonical id."""

    id: str
    name: str
    active: bool
    created_at: datetime
    updated_at: datetime
    email: str | None = None
    os_user: str | None = None


@dataclass(frozen=True)
class ServiceAccount:
    """A system that acts (a worker, an integration), under its canonical id."""

    id: str
    description: str
    active: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Principal:
    """Whoever acts: a person or a service account, and whether they may act at all."""

    id: str
    kind: PrincipalKind
    active: bool


@dataclass(frozen=True)
class Group:
    """A group or team; its members hold the roles granted to it."""

    id: str
    name: str
    created_at: datetime
    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class Grant:
    """A role granted to a person, a group or a service account; `workflow` None: in every workflow."""

    grantee_kind: GranteeKind
    grantee: str
    role: str
    granted_by: str
    granted_at: datetime
    workflow: str | None = None
    id: int | None = None


@dataclass(frozen=True)
class Token:
    """An API token as stored: its hash, whose it is, its scope (roles; empty: all held), and its life."""

    id: int
    principal: str
    principal_kind: PrincipalKind
    label: str
    roles: tuple[str, ...]
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None

    def live(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at


@dataclass(frozen=True)
class NewToken:
    """A token just made: `secret` is shown once and never stored."""

    token: Token
    secret: str


@dataclass(frozen=True)
class Delegation:
    """`delegator` lets `delegate` act for them from `starts_at` until `ends_at`, within a workflow and/or role."""

    id: int
    delegator: str
    delegate: str
    starts_at: datetime
    ends_at: datetime
    created_by: str
    created_at: datetime
    workflow: str | None = None
    role: str | None = None
    revoked_at: datetime | None = None

    def covers(self, *, workflow: str | None, role: str | None, at: datetime) -> bool:
        """Whether it is in force at `at` for an act in `workflow` (None: outside any) in `role` (None: any)."""
        if self.revoked_at is not None or not (self.starts_at <= at < self.ends_at):
            return False
        if self.workflow is not None and self.workflow != workflow:
            return False
        return self.role is None or role is None or self.role == role


def token_hash(secret: str) -> str:
    """Return the sha256 (hex) a token is stored and looked up by."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class DirectoryReads(Protocol):
    """What the gate and the directory commands read."""

    def principal(self, principal_id: str) -> Principal | None: ...

    def granted_roles(self, principal: Principal, workflow: str | None) -> Sequence[str]:
        """Roles held directly and through groups; scoped grants only for `workflow`."""

    def principal_and_roles(self, principal_id: str, workflow: str | None) -> tuple[Principal | None, Sequence[str]]:
        """The principal and, when active, the roles they hold in `workflow` (one round trip for the gate)."""

    def delegations_to(self, delegate: str, delegator: str | None = None) -> Sequence[Delegation]: ...

    def token_by_hash(self, hashed: str) -> Token | None: ...

    def person_by_os_user(self, os_user: str) -> Person | None: ...

    def people_by_email(self, email: str) -> Sequence[Person]:
        """The people whose email is `email`, compared without case (sign-in refuses more than one)."""

    def people(self, *, include_inactive: bool = True) -> Sequence[Person]: ...

    def person(self, person_id: str) -> Person | None: ...

    def service_accounts(self) -> Sequence[ServiceAccount]: ...

    def groups(self) -> Sequence[Group]: ...

    def grants(self, grantee: str | None = None) -> Sequence[Grant]: ...

    def queue_members(self, queue: str | None = None) -> Sequence[tuple[str, str]]: ...

    def tokens(self, principal: str | None = None) -> Sequence[Token]: ...

    def token(self, token_id: int) -> Token | None: ...

    def delegation(self, delegation_id: int) -> Delegation | None: ...

    def delegations(self) -> Sequence[Delegation]: ...

    def count_people(self) -> int: ...
