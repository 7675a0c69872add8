"""Signing in through an identity provider: the person it names, and the roles its groups map to.

Mixed into `Engine`. The web app has verified the provider's ID token; here the directory
decides. The person is found by their canonical id or their email; someone the directory does
not know is refused, or added when the server provisions people; a deactivated person is
refused. Then the grants of the roles the group mapping manages are brought in line with the
groups the provider names: a mapped role granted, one no longer mapped revoked. Only grants
made by sign-in are ever revoked so: a role an administrator granted by hand stays, and a role
outside the mapping is never granted or revoked, whatever group the provider names. Every
change is written with its audit record, by `SIGN_IN_ACTOR` with the provider and subject in
the record, in one transaction; a refusal writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from backoffice.engine.audit import AuditAction, AuditEntry
from backoffice.engine.cases import utc
from backoffice.engine.directory import Grant, GranteeKind, Person, PrincipalKind
from backoffice.engine.gate import canonical
from backoffice.errors import DirectoryConflict, SignInNotAllowed

if TYPE_CHECKING:
    from backoffice.engine.engine import Engine
    from backoffice.engine.ports import StoreTransaction

SIGN_IN_ACTOR = "backoffice-sign-in"
"""Who the directory records for the changes sign-in makes (the provider and subject are in each record)."""


@dataclass(frozen=True)
class ScopedRole:
    """A role in every workflow (`workflow` None) or in one."""

    role: str
    workflow: str | None = None

    @classmethod
    def parse(cls, text: str) -> ScopedRole:
        """Read `role` or `role@workflow`."""
        role, _, workflow = text.strip().partition("@")
        return cls(role.strip(), workflow.strip() or None)

    def __str__(self) -> str:
        return self.role if self.workflow is None else f"{self.role}@{self.workflow}"


@dataclass(frozen=True)
class ProviderIdentity:
    """Who the identity provider says signed in, as its verified ID token put it.

    Attributes:
        issuer, subject: the provider and its id for the person (recorded, never matched on).
        person_id: the directory id to look the person up by (None: look up by `email`).
        email: their email, when the provider verified it.
        name: their display name, for a person provisioned now.
        groups: the provider's groups they belong to.
    """

    issuer: str
    subject: str
    person_id: str | None
    email: str | None
    name: str | None
    groups: tuple[str, ...]


@dataclass(frozen=True)
class SignedIn:
    """The person signed in, and what sign-in changed in the directory."""

    person: Person
    provisioned: bool
    granted: tuple[ScopedRole, ...]
    revoked: tuple[ScopedRole, ...]


def mapped_roles(groups: Iterable[str], group_roles: Mapping[str, Sequence[str]]) -> set[ScopedRole]:
    """Return the roles `groups` map to under `group_roles` ({group: [role or role@workflow]}); others map to none."""
    return {ScopedRole.parse(role) for group in groups for role in group_roles.get(group, ())}


class SignInOperations:
    """The sign-in half of `Engine`."""

    def sign_in_from_provider(self: Engine, identity: ProviderIdentity, *, group_roles: Mapping[str, Sequence[str]],
                              provision: bool, now: datetime) -> SignedIn:
        """Find (or provision) the person the provider names and bring their mapped roles in line with its groups.

        Args:
            identity: who the provider says signed in (its ID token already verified).
            group_roles: the provider's groups and the roles each maps to; the roles named here are
                the ones sign-in manages.
            provision: add a person the directory does not know (else refuse them).
            now: when.

        Raises:
            SignInNotAllowed: unknown and not provisioned, deactivated, a service account, or not identifiable.
        """
        now = utc(now)
        managed = {ScopedRole.parse(role) for roles in group_roles.values() for role in roles}
        wanted = mapped_roles(identity.groups, group_roles)
        source = {"issuer": identity.issuer, "subject": identity.subject}
        person = self._person_signing_in(identity)
        if person is not None and not person.active:
            raise SignInNotAllowed(person.id, "they are deactivated in the directory")
        mine = self._sign_in_grants(person.id) if person is not None else set()
        with self.store.transaction() as tx:
            provisioned = person is None
            if person is None:
                person = self._provision(tx, identity, provision=provision, now=now, source=source)
            granted: list[ScopedRole] = []
            revoked: list[ScopedRole] = []
            for scoped in sorted(wanted - mine, key=str):
                if tx.insert_grant(Grant(GranteeKind.PERSON, person.id, scoped.role, granted_by=SIGN_IN_ACTOR,
                                         granted_at=now, workflow=scoped.workflow)):
                    self._audit(tx, AuditEntry(AuditAction.ROLE_GRANTED, actor=SIGN_IN_ACTOR, at=now,
                                               workflow=scoped.workflow,
                                               detail={"grantee": person.id, "kind": str(GranteeKind.PERSON),
                                                       "role": scoped.role, "groups": list(identity.groups),
                                                       **source}))
                    granted.append(scoped)
            for scoped in sorted((mine & managed) - wanted, key=str):
                if tx.delete_grant(GranteeKind.PERSON, person.id, scoped.role, scoped.workflow):
                    self._audit(tx, AuditEntry(AuditAction.ROLE_REVOKED, actor=SIGN_IN_ACTOR, at=now,
                                               workflow=scoped.workflow,
                                               detail={"grantee": person.id, "kind": str(GranteeKind.PERSON),
                                                       "role": scoped.role, "groups": list(identity.groups),
                                                       **source}))
                    revoked.append(scoped)
        return SignedIn(person, provisioned, tuple(granted), tuple(revoked))

    # --- inside ---

    def _sign_in_grants(self: Engine, person_id: str) -> set[ScopedRole]:
        return {ScopedRole(g.role, g.workflow) for g in self.store.grants(person_id)
                if g.grantee_kind is GranteeKind.PERSON and g.granted_by == SIGN_IN_ACTOR}

    def _provision(self: Engine, tx: StoreTransaction, identity: ProviderIdentity, *, provision: bool,
                   now: datetime, source: dict[str, Any]) -> Person:
        wanted_id = identity.person_id or identity.email
        if wanted_id is None:
            raise SignInNotAllowed(identity.subject, "the provider named neither a username nor a verified email")
        if tx.principal(canonical(wanted_id)) is not None:
            # The id is a service account's: a person of the provider never becomes one.
            raise SignInNotAllowed(canonical(wanted_id), "the id is a service account's, not a person's")
        if not provision:
            raise SignInNotAllowed(canonical(wanted_id), "they are not in the directory, and this server does not add "
                                                      "people at sign-in (ask an administrator to add them)")
        person = Person(id=canonical(wanted_id), name=(identity.name or "").strip() or canonical(wanted_id),
                        email=identity.email, active=True, created_at=now, updated_at=now)
        if person.id == "backoffice" or person.id.startswith("backoffice-"):
            raise SignInNotAllowed(person.id, "the id is reserved for the engine's own acts")
        try:
            self._unmistakable(person.id)
        except DirectoryConflict as taken:
            raise SignInNotAllowed(person.id, taken.what) from taken
        tx.insert_person(person)
        self._audit(tx, AuditEntry(AuditAction.PERSON_ADDED, actor=SIGN_IN_ACTOR, at=now,
                                   detail={"person": person.id, "name": person.name, "email": person.email,
                                           "os_user": None, "active": True, **source}))
        return person

    def _person_signing_in(self: Engine, identity: ProviderIdentity) -> Person | None:
        if identity.person_id is not None:
            found = self.store.principal(canonical(identity.person_id))
            if found is not None and found.kind is PrincipalKind.SERVICE:
                raise SignInNotAllowed(found.id, "the id is a service account's, not a person's")
            return self.store.person(canonical(identity.person_id))
        if identity.email is None:
            raise SignInNotAllowed(identity.subject, "the provider gave no verified email to find them by")
        matches = self.store.people_by_email(identity.email)
        if len(matches) > 1:
            raise SignInNotAllowed(identity.email, f"{len(matches)} people of the directory share this email")
        return matches[0] if matches else None
