"""Managing the directory: people, service accounts, groups, grants, queues, tokens, delegations, imports.

Mixed into `Engine`. Every change is made by an administrator (a person making or revoking
their own token, or delegating their own authority, excepted), passes the gate like any act,
and writes its audit record in its own transaction. A change that would change nothing (a
grant already there) writes nothing and returns False.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backoffice.definitions.model import REQUESTER
from backoffice.engine.audit import AuditAction, AuditEntry
from backoffice.engine.cases import Actor, utc
from backoffice.engine.directory import (ADMINISTRATOR, TOKEN_PREFIX, Delegation, Grant, GranteeKind, Group,
                                         NewToken, Person, PrincipalKind, ServiceAccount, Token, token_hash)
from backoffice.engine.gate import canonical
from backoffice.engine.hris import read_export
from backoffice.engine.identity import check_unmistakable, lookalike
from backoffice.errors import (AlreadyBootstrapped, BadOption, DelegationRefused, DirectoryConflict, ImportFileError,
                               UnknownActor)

if TYPE_CHECKING:
    from backoffice.engine.engine import Engine
    from backoffice.engine.ports import StoreTransaction

DEFAULT_TOKEN_LIFE = timedelta(days=90)
MAX_TOKEN_LIFE = timedelta(days=366)
MAX_DELEGATION = timedelta(days=366)


class DirectoryOperations:
    """The directory half of `Engine`."""

    def bootstrap(self: Engine, admin: str, *, now: datetime, name: str | None = None, email: str | None = None,
                  os_user: str | None = None) -> Person:
        """Create the first administrator of an empty directory, mapped to `os_user`.

        Raises:
            AlreadyBootstrapped: the directory has people already.
        """
        now = utc(now)
        admin_id = _new_id(admin)
        person = Person(id=admin_id, name=name or admin_id, email=email, active=True, os_user=os_user,
                        created_at=now, updated_at=now)
        with self.store.transaction() as tx:
            tx.lock_directory()
            count = tx.count_people()
            if count:
                raise AlreadyBootstrapped(count)
            self._unmistakable(admin_id, {})
            tx.insert_person(person)
            tx.insert_grant(Grant(GranteeKind.PERSON, admin_id, ADMINISTRATOR, granted_by=admin_id, granted_at=now))
            self._audit(tx, AuditEntry(AuditAction.DIRECTORY_BOOTSTRAPPED, actor=admin_id, at=now,
                                       detail={"person": admin_id, "name": person.name, "os_user": os_user,
                                               "role": ADMINISTRATOR}))
        return person

    def add_person(self: Engine, person_id: str, *, name: str, actor: Actor | str, now: datetime,
                   email: str | None = None, os_user: str | None = None) -> Person:
        """Add a person under their canonical id (active).

        Raises:
            NotAdministrator: the actor is not an administrator.
            DirectoryConflict: the id, or the operating-system user, is taken.
        """
        now = utc(now)
        who = self._administrator(actor, now=now, what="add people")
        person = Person(id=_new_id(person_id), name=(name or "").strip() or person_id.strip(), email=email,
                        active=True, os_user=os_user or None, created_at=now, updated_at=now)
        with self.store.transaction() as tx:
            self._add_person_in(tx, person, who, now, detail={})
        return person

    def set_active(self: Engine, principal_id: str, active: bool, *, actor: Actor | str, now: datetime) -> bool:
        """Deactivate (or reactivate) a person or service account; False when it was so already.

        A deactivated principal's tokens and delegations stop working with them: the gate refuses them.

        Raises:
            NotAdministrator, UnknownActor.
        """
        now = utc(now)
        who = self._administrator(actor, now=now, what="deactivate or reactivate people")
        target = canonical(principal_id)
        if target == who.id and not active:
            raise DirectoryConflict(f"{who.id} cannot deactivate themselves",
                                    "another administrator to do it (the directory must keep one)")
        with self.store.transaction() as tx:
            who = self._administrator_in(tx, actor, now=now, what="deactivate or reactivate people")
            found = tx.principal(target)
            if found is None:
                raise UnknownActor(target)
            changed = tx.set_person_active(target, active, at=now) if found.kind is PrincipalKind.PERSON \
                else tx.set_service_account_active(target, active, at=now)
            if changed:
                self._audit(tx, AuditEntry(AuditAction.PERSON_REACTIVATED if active else AuditAction.PERSON_DEACTIVATED,
                                           actor=who.id, at=now, detail={"person": target, "kind": str(found.kind)}))
        return changed

    def add_service_account(self: Engine, account_id: str, *, description: str, actor: Actor | str,
                            now: datetime) -> ServiceAccount:
        """Add a service account (a worker, an integration); it acts with a token.

        Raises:
            NotAdministrator, DirectoryConflict.
        """
        now = utc(now)
        who = self._administrator(actor, now=now, what="add service accounts")
        account = ServiceAccount(id=_new_id(account_id), description=description or "", active=True,
                                 created_at=now, updated_at=now)
        with self.store.transaction() as tx:
            self._unmistakable(account.id)
            tx.insert_service_account(account)
            self._audit(tx, AuditEntry(AuditAction.SERVICE_ACCOUNT_ADDED, actor=who.id, at=now,
                                       detail={"service_account": account.id, "description": account.description}))
        return account

    def add_group(self: Engine, group_id: str, *, name: str | None = None, actor: Actor | str,
                  now: datetime) -> bool:
        """Add a group (a team); False when it exists."""
        now = utc(now)
        who = self._administrator(actor, now=now, what="add groups")
        group = Group(id=canonical(group_id), name=(name or "").strip() or group_id.strip(), created_at=now)
        with self.store.transaction() as tx:
            return self._add_group_in(tx, group, who, now, detail={})

    def add_to_group(self: Engine, group_id: str, person_id: str, *, actor: Actor | str, now: datetime,
                     remove: bool = False) -> bool:
        """Add a person to a group (or remove them); False when nothing changed.

        Raises:
            NotAdministrator, UnknownActor, DirectoryConflict: no such group.
        """
        now = utc(now)
        who = self._administrator(actor, now=now, what="change groups")
        group, person = canonical(group_id), canonical(person_id)
        with self.store.transaction() as tx:
            if not tx.group_exists(group):
                raise DirectoryConflict(f"there is no group {group!r}", "a group added with `directory group add`")
            found = tx.principal(person)
            if found is None or found.kind is not PrincipalKind.PERSON:
                raise UnknownActor(person)
            changed = tx.remove_group_member(group, person) if remove else tx.add_group_member(group, person)
            if changed:
                self._audit(tx, AuditEntry(AuditAction.GROUP_MEMBER_REMOVED if remove
                                           else AuditAction.GROUP_MEMBER_ADDED, actor=who.id, at=now,
                                           detail={"group": group, "person": person}))
        return changed

    def grant(self: Engine, role: str, *, to: str, actor: Actor | str, now: datetime, workflow: str | None = None,
              revoke: bool = False) -> bool:
        """Grant a role to a person, group or service account (in one workflow, or all); or revoke it.

        Returns False when nothing changed (granted already, or not granted).

        Raises:
            NotAdministrator, UnknownActor: `to` names no principal or group.
            BadOption: the role is blank or the built-in `requester`.
        """
        now = utc(now)
        who = self._administrator(actor, now=now, what="grant or revoke roles")
        role = _role(role)
        grantee = canonical(to)
        with self.store.transaction() as tx:
            who = self._administrator_in(tx, actor, now=now, what="grant or revoke roles")
            kind = _grantee_kind(tx, grantee)
            if revoke:
                changed = tx.delete_grant(kind, grantee, role, workflow)
                if changed:
                    self._audit(tx, AuditEntry(AuditAction.ROLE_REVOKED, actor=who.id, at=now, workflow=workflow,
                                               detail={"grantee": grantee, "kind": str(kind), "role": role}))
                return changed
            return self._grant_in(tx, Grant(kind, grantee, role, granted_by=who.id, granted_at=now,
                                            workflow=workflow), who, now, detail={})

    def add_to_queue(self: Engine, queue: str, person_id: str, *, actor: Actor | str, now: datetime,
                     remove: bool = False) -> bool:
        """Make a person a member of a work queue (or no longer); False when nothing changed."""
        now = utc(now)
        who = self._administrator(actor, now=now, what="change queue membership")
        person = canonical(person_id)
        if not queue or not queue.strip():
            raise BadOption("QUEUE", queue, "a queue name")
        with self.store.transaction() as tx:
            found = tx.principal(person)
            if found is None or found.kind is not PrincipalKind.PERSON:
                raise UnknownActor(person)
            changed = tx.remove_queue_member(queue, person) if remove else tx.add_queue_member(queue, person)
            if changed:
                self._audit(tx, AuditEntry(AuditAction.QUEUE_MEMBER_REMOVED if remove
                                           else AuditAction.QUEUE_MEMBER_ADDED, actor=who.id, at=now,
                                           detail={"queue": queue, "person": person}))
        return changed

    def create_token(self: Engine, principal_id: str, *, actor: Actor | str, now: datetime, label: str = "",
                     roles: Sequence[str] = (), valid_for: timedelta = DEFAULT_TOKEN_LIFE) -> NewToken:
        """Make a token for a person (themselves, or by an administrator) or a service account (administrator).

        Only the token's sha256 is stored; `NewToken.secret` is the one time it is seen. `roles`
        limits what the token may act in (each must be held); empty: all the principal holds.

        Raises:
            NotAdministrator, UnknownActor, BadOption (a lifetime out of bounds, a role not held).
        """
        now = utc(now)
        who = self.identify(actor, workflow=None, now=now)
        target = self._principal(canonical(principal_id))
        if target.id != who.id or who.on_behalf_of is not None or target.kind is PrincipalKind.SERVICE:
            who = self._administrator(actor, now=now, what=f"make a token for {target.id}")
        if not timedelta(minutes=1) <= valid_for <= MAX_TOKEN_LIFE:
            raise BadOption("--days", str(valid_for), f"a lifetime from one minute to {MAX_TOKEN_LIFE.days} days")
        if roles:
            # Every role they hold, in every workflow or in one, each grant held to its record (as the gate
            # holds them): a token is never scoped to a role granted in SQL.
            everywhere, scoped = self.roles_in_every_workflow_and_one(target.id)
            held = set(everywhere) | {role for _, role in scoped}
        else:
            # A token of every role carries none of its own: its holder's grants are held each time it is
            # used (authenticate_holder). Here they only refuse a scoped maker, which a forged one cannot widen.
            held = set(self.store.granted_roles(target, None)) | {g.role for g in self.store.grants(target.id)}
        if who.role is not None and who.role != ADMINISTRATOR and set(roles or held) - {who.role}:
            # Acting in one role (a token scoped to it), one makes tokens of that scope only: a leaked
            # buyer's token does not mint its holder a token for everything they hold.
            raise BadOption("--role", ", ".join(roles) or "(every role held)",
                            f"{who.role} only: acting in role {who.role}, a token you make is scoped to it")
        for role in roles:
            if role not in held:
                raise BadOption("--role", role, f"a role {target.id} holds ({', '.join(sorted(held)) or 'none'})")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = Token(id=0, principal=target.id, principal_kind=target.kind, label=label or "",
                      roles=tuple(dict.fromkeys(roles)), created_by=who.id, created_at=now,
                      expires_at=now + valid_for)
        with self.store.transaction() as tx:
            token = tx.insert_token(token, token_hash(secret))
            self._audit(tx, AuditEntry(AuditAction.TOKEN_CREATED, actor=who.id, at=now,
                                       detail={"token_id": token.id, "principal": target.id, "label": token.label,
                                               "roles": list(token.roles), "expires_at": token.expires_at}))
        return NewToken(token, secret)

    def revoke_token(self: Engine, token_id: int, *, actor: Actor | str, now: datetime) -> bool:
        """Revoke a token (its owner, or an administrator); False when it is unknown or revoked already."""
        now = utc(now)
        who = self.identify(actor, workflow=None, now=now)
        token = self.store.token(token_id)
        if token is None:
            return False
        if token.principal != who.id or who.on_behalf_of is not None:
            who = self._administrator(actor, now=now, what=f"revoke token {token_id} of {token.principal}")
        with self.store.transaction() as tx:
            revoked = tx.revoke_token(token_id, at=now)
            if revoked is not None:
                self._audit(tx, AuditEntry(AuditAction.TOKEN_REVOKED, actor=who.id, at=now,
                                           detail={"token_id": token_id, "principal": token.principal}))
        return revoked is not None

    def add_delegation(self: Engine, delegator: str, delegate: str, *, starts: datetime, ends: datetime,
                       actor: Actor | str, now: datetime, workflow: str | None = None,
                       role: str | None = None) -> Delegation:
        """Let `delegate` act for `delegator` from `starts` until `ends`, in a workflow and/or role.

        Made by the delegator or an administrator. The delegate must be eligible: hold the role
        (or, without one, at least one of the delegator's roles in scope) themselves.

        Raises:
            NotAdministrator, UnknownActor, DelegationRefused.
        """
        now = utc(now)
        starts, ends = utc(starts), utc(ends)
        who = self.identify(actor, workflow=None, now=now)
        source, target = self._principal(canonical(delegator)), self._principal(canonical(delegate))
        if who.id != source.id or who.on_behalf_of is not None:
            who = self._administrator(actor, now=now, what=f"delegate the authority of {source.id}")
        if PrincipalKind.SERVICE in (source.kind, target.kind):
            raise DelegationRefused(source.id, target.id, "only people delegate and receive delegations")
        if who.role is not None and who.role != ADMINISTRATOR and role != who.role:
            # Acting in one role (a token scoped to it), one passes on that role only, as one acts in it only.
            raise DelegationRefused(source.id, target.id, f"acting in role {who.role}, {source.id} delegates "
                                                          f"{who.role} only, not {role or 'every role they hold'}")
        if source.id == target.id:
            raise DelegationRefused(source.id, target.id, "a person cannot delegate to themselves")
        if not starts < ends or ends - starts > MAX_DELEGATION or ends <= now:
            raise DelegationRefused(source.id, target.id, f"the window {starts.isoformat()} to {ends.isoformat()} "
                                    f"must end after it starts, in the future, within {MAX_DELEGATION.days} days")
        # Read as the gate reads them, each grant held to its record: a grant inserted in SQL makes nobody eligible.
        theirs = set(self.roles_of(source.id, workflow))
        eligible = set(self.roles_of(target.id, workflow))
        wanted = {_role(role)} if role is not None else theirs
        if role is not None and role not in theirs:
            raise DelegationRefused(source.id, target.id, f"{source.id} does not hold {role!r} themselves "
                                    f"(a role delegated to them is not theirs to pass on)")
        if not wanted & eligible:
            roles = repr(role) if role else "any of " + (", ".join(sorted(theirs)) or "their roles (they hold none)")
            raise DelegationRefused(source.id, target.id, f"{target.id} does not hold {roles} themselves, and a "
                                    f"delegate must be eligible")
        delegation = Delegation(id=0, delegator=source.id, delegate=target.id, starts_at=starts, ends_at=ends,
                                created_by=who.id, created_at=now, workflow=workflow, role=role)
        with self.store.transaction() as tx:
            delegation = tx.insert_delegation(delegation)
            self._audit(tx, AuditEntry(AuditAction.DELEGATION_ADDED, actor=who.id, at=now, workflow=workflow,
                                       detail={"delegation_id": delegation.id, "delegator": source.id,
                                               "delegate": target.id, "role": role, "starts_at": starts,
                                               "ends_at": ends}))
        return delegation

    def revoke_delegation(self: Engine, delegation_id: int, *, actor: Actor | str, now: datetime) -> bool:
        """End a delegation now (its delegator, or an administrator); False when unknown or revoked already."""
        now = utc(now)
        who = self.identify(actor, workflow=None, now=now)
        found = self.store.delegation(delegation_id)
        if found is None:
            return False
        if found.delegator != who.id or who.on_behalf_of is not None:
            who = self._administrator(actor, now=now, what=f"revoke delegation {delegation_id}")
        with self.store.transaction() as tx:
            revoked = tx.revoke_delegation(delegation_id, at=now)
            if revoked is not None:
                self._audit(tx, AuditEntry(AuditAction.DELEGATION_REVOKED, actor=who.id, at=now,
                                           detail={"delegation_id": delegation_id}))
        return revoked is not None

    def import_directory(self: Engine, path: Path | str, *, actor: Actor | str, now: datetime) -> dict[str, int]:
        """Import people with their groups and roles from an HRIS export, all or nothing.

        New people are added; known ones get the export's name, email and active flag; groups
        are made as needed; roles and memberships are added (never removed: a revocation is a
        decision, not an omission). Returns counts of what changed.

        Raises:
            NotAdministrator, ImportFileError: bad rows (all named by line and field), nothing imported.
        """
        now = utc(now)
        who = self._administrator(actor, now=now, what="import people")
        records = read_export(path)
        counts = {"people added": 0, "people updated": 0, "groups added": 0, "memberships added": 0,
                  "roles granted": 0}
        problems: list[tuple[str, str, str]] = []
        source = {"import": Path(path).name}
        with self.store.transaction() as tx:
            known = {p.id: p for p in self.store.people()}
            lookalikes = self._lookalikes()
            for record in records:
                try:
                    counts = self._import_one(tx, record, known.get(record.id), who, now, source, counts, lookalikes)
                except (DirectoryConflict, UnknownActor) as exc:
                    field = "os_user" if "operating-system user" in str(exc) else "id"
                    problems.append((record.where, field, str(exc)))
            if problems:
                # Raised inside the transaction: it rolls back, and nothing of the file is kept.
                raise ImportFileError(path, problems)
            self._audit(tx, AuditEntry(AuditAction.DIRECTORY_IMPORTED, actor=who.id, at=now,
                                       detail={**source, "people": len(records), **counts}))
        return counts

    # --- inside ---

    def _import_one(self: Engine, tx: StoreTransaction, record: Any, known: Person | None, who: Actor,
                    now: datetime, source: dict[str, Any], counts: dict[str, int],
                    lookalikes: dict[str, str]) -> dict[str, int]:
        if known is None:
            person = Person(id=record.id, name=record.name, email=record.email, active=record.active,
                            os_user=record.os_user, created_at=now, updated_at=now)
            self._add_person_in(tx, person, who, now, detail=source, lookalikes=lookalikes)
            counts["people added"] += 1
        elif known.active != record.active:
            tx.set_person_active(record.id, record.active, at=now)
            self._audit(tx, AuditEntry(AuditAction.PERSON_REACTIVATED if record.active
                                       else AuditAction.PERSON_DEACTIVATED, actor=who.id, at=now,
                                       detail={"person": record.id, **source}))
            counts["people updated"] += 1
        for group in record.groups:
            counts["groups added"] += self._add_group_in(tx, Group(group, group, now), who, now, detail=source)
            if tx.add_group_member(group, record.id):
                self._audit(tx, AuditEntry(AuditAction.GROUP_MEMBER_ADDED, actor=who.id, at=now,
                                           detail={"group": group, "person": record.id, **source}))
                counts["memberships added"] += 1
        for role, workflow in record.roles:
            counts["roles granted"] += self._grant_in(tx, Grant(GranteeKind.PERSON, record.id, role,
                                                                granted_by=who.id, granted_at=now,
                                                                workflow=workflow), who, now, detail=source)
        return counts

    def _add_person_in(self: Engine, tx: StoreTransaction, person: Person, who: Actor, now: datetime,
                       detail: dict[str, Any], lookalikes: dict[str, str] | None = None) -> None:
        self._unmistakable(person.id, lookalikes)
        tx.insert_person(person)
        self._audit(tx, AuditEntry(AuditAction.PERSON_ADDED, actor=who.id, at=now,
                                   detail={"person": person.id, "name": person.name, "email": person.email,
                                           "os_user": person.os_user, "active": person.active, **detail}))

    def _lookalikes(self: Engine) -> dict[str, str]:
        ids = [p.id for p in self.store.people()] + [a.id for a in self.store.service_accounts()]
        return {lookalike(known): known for known in ids}

    def _unmistakable(self: Engine, new_id: str, lookalikes: dict[str, str] | None = None) -> None:
        """Refuse a new principal's id that could be taken for another's (see identity.check_unmistakable).

        With `lookalikes` (an import's, built once), the id is added to it, so two rows of one
        file cannot pass for each other either.
        """
        index = self._lookalikes() if lookalikes is None else lookalikes
        try:
            check_unmistakable(new_id, index)
        except ValueError as exc:
            what, _, expected = str(exc).partition("; expected ")
            raise DirectoryConflict(what, expected) from exc
        index.setdefault(lookalike(new_id), new_id)

    def _add_group_in(self: Engine, tx: StoreTransaction, group: Group, who: Actor, now: datetime,
                      detail: dict[str, Any]) -> bool:
        if not tx.insert_group(group):
            return False
        self._audit(tx, AuditEntry(AuditAction.GROUP_ADDED, actor=who.id, at=now,
                                   detail={"group": group.id, "name": group.name, **detail}))
        return True

    def _grant_in(self: Engine, tx: StoreTransaction, grant: Grant, who: Actor, now: datetime,
                  detail: dict[str, Any]) -> bool:
        if not tx.insert_grant(grant):
            return False
        self._audit(tx, AuditEntry(AuditAction.ROLE_GRANTED, actor=who.id, at=now, workflow=grant.workflow,
                                   detail={"grantee": grant.grantee, "kind": str(grant.grantee_kind),
                                           "role": grant.role, **detail}))
        return True


def _new_id(text: str) -> str:
    new = canonical(text)
    # The engine's own acts are recorded under these names: a person must never share one.
    if new == "backoffice" or new.startswith("backoffice-"):
        raise DirectoryConflict(f"{new!r} is reserved for the engine's own acts", "another id")
    return new


def _role(role: str) -> str:
    role = (role or "").strip()
    if not role or role == REQUESTER or any(ord(c) < 32 for c in role):
        raise BadOption("ROLE", role, "a role name such as approver (requester is built in: whoever starts a case "
                                      "holds it there)")
    return role


def _grantee_kind(tx: StoreTransaction, grantee: str) -> GranteeKind:
    found = tx.principal(grantee)
    if found is not None:
        return GranteeKind.SERVICE if found.kind is PrincipalKind.SERVICE else GranteeKind.PERSON
    if tx.group_exists(grantee):
        return GranteeKind.GROUP
    raise UnknownActor(grantee)

