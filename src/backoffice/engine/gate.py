"""The gate every act passes: who is acting, established from the directory, never taken from the caller.

Mixed into `Engine`. `identify` takes whatever `Actor` a caller built (the command line, the
HTTP server, a script) and trusts only its id, its chosen role and whom it acts for:

- the id is canonicalized (`'Bob '` and `BOB` are `bob`) and must name an active person or
  service account of the directory;
- `roles` is replaced by the roles the directory grants, directly and through groups (grants
  scoped to a workflow count only in that workflow); the built-in `requester` is earned by
  starting a case, never chosen;
- a chosen `role` must be one of those; the actor then acts in that role only;
- `on_behalf_of` needs the administrator role, or a delegation from that person in force now
  for this workflow and role. A delegate acts only in roles the delegator was granted (never in
  roles delegated to the delegator: delegation is not transitive) and holds themselves (a
  delegate must be eligible).

Every directory row the gate decides by (the principal's, the grants that count and the group
memberships they reach the principal through, the delegations used, a token's, and the queue
memberships a token's holder or `queues_of` reads) is held to the audit record that last wrote it
(`directory_seal`): one added or edited in SQL is refused (`DirectoryAltered`; a token's, as an
unknown token).

The act is recorded with the real actor as the event's resource and the audit record's actor,
and the person acted for in `on_behalf_of` ("X on behalf of Y"); `Actor.persons` gives both,
for separation of duties to count.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from backoffice.definitions.model import REQUESTER
from backoffice.engine.audit import seal_row
from backoffice.engine.cases import Actor, utc
from backoffice.engine.directory import ADMINISTRATOR, Principal, PrincipalKind, Token, token_hash
from backoffice.engine.directory_seal import API_TOKENS, DELEGATIONS, HeldRows, decided_by
from backoffice.engine.identity import canonical_id
from backoffice.engine.sealed_rows import row_problem
from backoffice.errors import (BadActorId, BadToken, DirectoryAltered, InactiveActor, NotAdministrator,
                               NotAuthorizedOnBehalf, RoleNotHeld, UnknownActor)
from backoffice.limits import check_actor_id

if TYPE_CHECKING:
    from backoffice.engine.engine import Engine
    from backoffice.engine.ports import StoreTransaction
    from backoffice.store.directory_store import GrantsOfOne, TokenHolder


def canonical(text: str) -> str:
    """Return the canonical id, or raise `BadActorId` (a user's mistake, not a bug)."""
    # The limits first: not text, blank, too long, control characters (the same refusal everywhere).
    check_actor_id(text)
    try:
        return canonical_id(text)
    except ValueError as exc:
        raise BadActorId(text, str(exc).split("; expected")[0]) from exc


class GateOperations:
    """The identity half of `Engine`: who acts, with which roles, for whom."""

    def identify(self: Engine, actor: Actor | str, *, workflow: str | None, now: datetime) -> Actor:
        """Return the actor as the directory establishes them (see the module's text).

        Raises:
            BadActorId: the id is blank or holds control characters.
            UnknownActor, InactiveActor: the id (or the person acted for) is not an active principal.
            RoleNotHeld: the chosen role is not among the roles held (they are named).
            NotAuthorizedOnBehalf: `on_behalf_of` without the administrator role or a covering delegation.
        """
        return self._identify_from(actor, workflow=workflow, now=now, read=self._principal_and_roles_held)

    def _principal_and_roles_held(self: Engine, principal_id: str, workflow: str | None
                                  ) -> tuple[Principal | None, Sequence[str]]:
        """The gate's read of a principal and their roles, every row it counted held to its audit record.

        Raises:
            DirectoryAltered: a row it counted was added or changed in the database outside the engine.
        """
        read = getattr(self.store, "principal_roles_and_rows", None)
        if read is None:  # a read-only snapshot of rows read at once
            return self.store.principal_and_roles(principal_id, workflow)
        principal, roles, rows, head = read(principal_id, workflow)
        self._hold_directory(rows, head)
        return principal, roles

    def _hold_directory(self: Engine, rows: Iterable[tuple[str, Any, tuple, Callable[[], Mapping[str, Any]]]],
                        head: tuple | None) -> None:
        """Hold each directory row the gate decided by to the record that last wrote it (see `directory_seal`).

        Rows this engine held as they are, since the system chain's head last moved, cost nothing;
        the writers of the others are read in one statement.

        Raises:
            DirectoryAltered: one is not as that record lists it (or no record wrote it).
        """
        held = self.__dict__.get("_directory_held")
        if held is None:
            held = self.__dict__["_directory_held"] = HeldRows()
        unheld = held.unheld(rows, head)
        if not unheld:
            return
        writers = self.store.directory_writers([(table, key) for table, key, _, _ in unheld])
        marks = self.store.legacy_row_marks() if len(writers) < len(unheld) else {}
        for table, key, decided, values in unheld:
            writer = writers.get((table, key))
            problem = row_problem(seal_row(table, key, values(), case_id=None), table, key,
                                  [writer] if writer is not None else [], sealer=self.audit_key,
                                  legacy_mark=marks.get(table, 0))
            if problem is not None:
                raise DirectoryAltered(table, key, problem)
            held.hold(table, key, decided)

    def _identify_from(self: Engine, actor: Actor | str, *, workflow: str | None, now: datetime,
                       read: Callable[[str, str | None], tuple[Principal | None, Sequence[str]]]) -> Actor:
        """`identify`, reading the principal and their roles in `workflow` with `read`."""
        now = utc(now)
        if isinstance(actor, str):
            actor = Actor(canonical(actor))
        principal_id = canonical(actor.id)  # checked and folded once: the same id for the read and the check
        real, granted = read(principal_id, workflow)
        real = self._check_active(principal_id, real)
        held = list(granted)
        authority = held
        acted_for = canonical(actor.on_behalf_of) if actor.on_behalf_of is not None else None
        role = None if actor.role in (None, REQUESTER) else actor.role
        if acted_for == real.id:
            acted_for = None
        if acted_for is not None:
            authority = self._authority_for(real, held, acted_for, workflow=workflow, role=role, now=now)
        if role is not None and role not in authority:
            raise RoleNotHeld(real.id if acted_for is None else f"{real.id} on behalf of {acted_for}", role,
                              authority, workflow=workflow)
        return Actor(real.id, role, (role,) if role is not None else tuple(authority), on_behalf_of=acted_for)

    def _identifier_of_one_operation(self: Engine) -> Callable[..., Actor]:
        """Return `identify` for one operation that identifies the same people in several workflows.

        Each person's record and grants (every workflow) are read once, on first need, and kept
        only by the function returned: the caller drops it with its operation, so nothing read
        here outlives the operation (the next request reads the directory afresh).
        """
        read: dict[str, GrantsOfOne] = {}

        def principal_and_roles(principal_id: str, workflow: str | None) -> tuple[Principal | None, Sequence[str]]:
            if principal_id not in read:
                read[principal_id] = self.store.grants_of_one(principal_id)
            found = read[principal_id]
            if found.rows and hasattr(self.store, "directory_writers"):
                self._hold_directory(found.rows_in(workflow), found.head)
            return found.principal, found.roles_in(workflow)

        def identify(actor: Actor | str, *, workflow: str | None, now: datetime) -> Actor:
            return self._identify_from(actor, workflow=workflow, now=now, read=principal_and_roles)
        return identify

    def _identify(self: Engine, actor: Actor | str, *, workflow: str | None, now: datetime) -> Actor:
        return self.identify(actor, workflow=workflow, now=now)

    def _administrator(self: Engine, actor: Actor | str, *, now: datetime, what: str) -> Actor:
        """Identify the actor and require the administrator role (acting for nobody: admin acts are their own)."""
        who = self.identify(actor, workflow=None, now=now)
        if who.role is not None and who.role != ADMINISTRATOR:
            # Acting in another role (a token scoped to it) is not acting as administrator: an administrator's
            # token scoped to the buyer role grants nothing, whatever else its holder holds.
            raise NotAdministrator(f"{who.id} acting in role {who.role}", what)
        if who.on_behalf_of is not None or ADMINISTRATOR not in self.store.granted_roles(
                self._principal(who.id), None):
            raise NotAdministrator(who.id if who.on_behalf_of is None else f"{who.id} on behalf of {who.on_behalf_of}",
                                   what)
        return who

    def _administrator_in(self: Engine, tx: StoreTransaction, actor: Actor | str, *, now: datetime,
                          what: str) -> Actor:
        """Identify the administrator again inside the transaction of their change, directory changes one at a time.

        Checked before the transaction only, two administrators deactivating (or revoking) each
        other at the same moment were both found active and both written: no administrator was
        left. Here the second is checked after the first committed, and refused.
        """
        tx.lock_directory()
        return self._administrator(actor, now=now, what=what)

    def roles_of(self: Engine, principal_id: str, workflow: str | None = None) -> Sequence[str]:
        """Return the roles the directory grants a principal (directly and through groups) in a workflow.

        Read as the gate reads them (one statement for a person), every row counted held to its record.

        Raises:
            UnknownActor, InactiveActor: not an active principal.
            DirectoryAltered: a row it counted was added or changed in the database outside the engine.
        """
        principal_id = canonical(principal_id)
        found, roles = self._principal_and_roles_held(principal_id, workflow)
        self._check_active(principal_id, found)
        return roles

    def roles_in_every_workflow_and_one(self: Engine, principal_id: str
                                        ) -> tuple[list[str], tuple[tuple[str, str], ...]]:
        """Return the roles a principal holds in every workflow, and (workflow, role) of each held in one only.

        What decides what someone sees in each workflow (the web's principal and viewer): one read of
        every grant reaching them, directly and through groups (a group's grant scoped to a workflow
        counts there, as it does when they act), each row held to its record as the gate holds the rows
        it acts by: a grant added in SQL widens nobody's sight.

        Raises:
            UnknownActor, InactiveActor: not an active principal.
            DirectoryAltered: a grant, membership or the principal's row was added or changed outside the engine.
        """
        principal_id = canonical(principal_id)
        found = self.store.grants_of_one(principal_id)
        self._check_active(principal_id, found.principal)
        if found.rows and hasattr(self.store, "directory_writers"):
            self._hold_directory(found.rows, found.head)
        # A grant in every workflow reads with no workflow (the store's ALL_WORKFLOWS, the empty text).
        scoped = tuple(sorted({(workflow, role) for role, workflow in found.grants if workflow}))
        return found.roles_in(None), scoped

    def queues_of(self: Engine, person_id: str) -> Sequence[str]:
        """Return the work queues a person is a member of (what they see beside their roles' queues), sorted.

        Raises:
            DirectoryAltered: a membership was added or changed in the database outside the engine.
        """
        person_id = canonical(person_id)
        read = getattr(self.store, "queue_memberships", None)
        if read is None:  # a read-only snapshot of rows read at once
            return sorted(queue for queue, member in self.store.queue_members() if member == person_id)
        queues, rows, head = read(person_id)
        self._hold_directory(rows, head)
        return queues

    def authenticate(self: Engine, secret: str, *, now: datetime, role: str | None = None,
                     on_behalf_of: str | None = None) -> Actor:
        """Return the actor a token stands for, acting in `role` (chosen within the token's scope).

        The returned actor still passes `identify` in each act: the token proves who, not what.

        Raises:
            BadToken: unknown, revoked or expired, or `role` outside its scope (or none chosen from a
                scope of several roles).
        """
        now = utc(now)
        hashed = token_hash(secret.strip()) if secret and secret.strip() else None
        if hasattr(self.store, "directory_writers"):
            found = self.store.token_holder(hashed) if hashed is not None else None
            token = self._token_held(found.token, found.rows, found.head) if found is not None else None
        else:
            token = self.store.token_by_hash(hashed) if hashed is not None else None
        _check_live(token, now)
        role = _role_in_scope(token, role)
        return Actor(token.principal, role, on_behalf_of=on_behalf_of)

    def authenticate_holder(self: Engine, secret: str, *, now: datetime) -> tuple[Actor, TokenHolder]:
        """Authenticate a bearer token and identify its holder in one read of the directory (one statement).

        The checks of `authenticate` then `identify(..., workflow=None)`, on what the directory
        holds now: the token known, not revoked, not expired, its scope's one role; the holder
        an active person or service account who holds that role. Nothing is kept between calls,
        so a revoked token, a deactivated holder or a withdrawn grant counts on the next request.

        Raises:
            BadToken: unknown, revoked or expired, or scoped to several roles (none chosen).
            UnknownActor, InactiveActor: the holder is gone or deactivated.
            RoleNotHeld: the token's role is one the holder no longer holds.
        """
        now = utc(now)
        found = self.store.token_holder(token_hash(secret.strip())) if secret and secret.strip() else None
        token = found.token if found is not None else None
        if found is not None and found.rows:
            token = self._token_held(token, found.rows, found.head)
        _check_live(token, now)
        role = _role_in_scope(token, None)
        holder = canonical(token.principal)
        real = self._check_active(holder, found.principal)
        held = list(found.roles)
        role = None if role in (None, REQUESTER) else role
        if role is not None and role not in held:
            raise RoleNotHeld(real.id, role, held, workflow=None)
        return Actor(real.id, role, (role,) if role is not None else tuple(held)), found

    # --- inside ---

    def _token_held(self: Engine, token: Token, rows: Sequence[tuple[str, Any, tuple, Callable[[], Mapping[str, Any]]]],
                    head: tuple | None) -> Token | None:
        """The token, or None when its row is not as its audit record lists it: answered as an unknown token,
        so a token row inserted in the database authenticates nobody and says nothing of why.

        `rows` start with the token's; the holder's that follow are held in the same read (one statement
        for the writers of them all), the token's first, and refused as any other directory row.

        Raises:
            DirectoryAltered: a row of the holder (not the token's) is not as its record lists it.
        """
        try:
            self._hold_directory(rows, head)
        except DirectoryAltered as altered:
            if altered.table == API_TOKENS:
                return None
            raise
        return token

    def _principal(self: Engine, principal_id: str) -> Principal:
        return self._check_active(principal_id, self.store.principal(principal_id))

    @staticmethod
    def _check_active(principal_id: str, found: Principal | None) -> Principal:
        if found is None:
            raise UnknownActor(principal_id)
        if not found.active:
            raise InactiveActor(principal_id)
        return found

    def _authority_for(self: Engine, real: Principal, held: list[str], acted_for: str, *, workflow: str | None,
                       role: str | None, now: datetime) -> list[str]:
        """Return the roles `real` may use for `acted_for`: all of theirs for an administrator, else delegated ones."""
        found, theirs = self._principal_and_roles_held(acted_for, workflow)
        try:
            principal = self._check_active(acted_for, found)
        except (UnknownActor, InactiveActor) as exc:
            raise NotAuthorizedOnBehalf(real.id, acted_for, f"{acted_for!r} is "
                                        + ("not in the directory" if isinstance(exc, UnknownActor)
                                           else "deactivated")) from exc
        theirs = list(theirs)
        if ADMINISTRATOR in held:
            return theirs
        if principal.kind is PrincipalKind.SERVICE or real.kind is PrincipalKind.SERVICE:
            raise NotAuthorizedOnBehalf(real.id, acted_for, "only an administrator acts for or as a service account")
        delegations = [d for d in self.store.delegations_to(real.id, acted_for)
                       if d.covers(workflow=workflow, role=role, at=now)]
        if delegations and hasattr(self.store, "directory_writers"):
            # The head the gate's read of the delegator just gave: the delegations are read without it.
            rows_held = self.__dict__.get("_directory_held")
            self._hold_directory([(DELEGATIONS, d.id, decided_by(DELEGATIONS, d.__dict__), lambda d=d: dict(d.__dict__))
                                  for d in delegations], rows_held.head if rows_held is not None else None)
        if not delegations:
            scope = f"in {workflow}" if workflow else "outside any workflow"
            scope += f" as {role}" if role else ""
            raise NotAuthorizedOnBehalf(real.id, acted_for, f"no delegation from {acted_for} to {real.id} is in force "
                                        f"at {now.isoformat()} {scope}")
        # Only roles the delegator holds by grant: what was delegated to them is not theirs to pass on.
        delegated = {r for d in delegations for r in ([d.role] if d.role else theirs) if r in theirs}
        eligible = sorted(r for r in delegated if r in held)
        if not eligible:
            raise NotAuthorizedOnBehalf(real.id, acted_for, f"{real.id} holds none of the delegated roles "
                                        f"({', '.join(sorted(delegated)) or 'none'}) themselves, and a delegate "
                                        f"must be eligible")
        return eligible


def _check_live(token: Token | None, now: datetime) -> None:
    """Raise `BadToken` unless the token is known, not revoked and not expired at `now`."""
    if token is None:
        raise BadToken("is not a token of this directory")
    if token.revoked_at is not None:
        raise BadToken(f"(token {token.id} of {token.principal}) was revoked at {token.revoked_at.isoformat()}")
    if now >= token.expires_at:
        raise BadToken(f"(token {token.id} of {token.principal}) expired at {token.expires_at.isoformat()}")


def _role_in_scope(token: Token, role: str | None) -> str | None:
    if not token.roles:
        return role
    if role is None:
        if len(token.roles) == 1:
            return token.roles[0]
        raise BadToken(f"(token {token.id}) is scoped to the roles {', '.join(token.roles)}: choose one with --role")
    if role not in token.roles:
        raise BadToken(f"(token {token.id}) is scoped to the roles {', '.join(token.roles)}, not {role!r}")
    return role
