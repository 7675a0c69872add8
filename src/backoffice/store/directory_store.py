"""The store's part for the directory: people, service accounts, groups, grants, queues, tokens, delegations.

Mixed into `SqlStore` (reads) and `SqlTransaction` (writes, and the reads a change checks
inside its own transaction). Every query is one function of a connection, so a read gives the
same answer inside a change as outside it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from backoffice.engine.audit import SYSTEM_CHAIN, AuditRecord, canonical_json
from backoffice.engine.directory_seal import decided_by
from backoffice.engine.directory import (Delegation, Grant, GranteeKind, Group, Person, Principal, PrincipalKind,
                                         ServiceAccount, Token)
from backoffice.errors import DirectoryConflict
from backoffice.store.precompiled import Precompiled, sql_text
from backoffice.store.tables import (api_tokens, audit_chains, audit_records, delegations, group_members, people,
                                     person_groups, queue_members, role_grants, service_accounts)

ALL_WORKFLOWS = ""
"""How a grant in every workflow is stored (not NULL, so the unique key holds for it too)."""


# The gate's statements, run on every act: built once and given their values as parameters
# (see sql_store: built per call, SQLAlchemy spends more time compiling them than the database running them).
_PERSON_ACTIVE = sa.select(people.c.active).where(people.c.id == sa.bindparam("b_id"))
_SERVICE_ACTIVE = sa.select(service_accounts.c.active).where(service_accounts.c.id == sa.bindparam("b_id"))
_IN_SCOPE = role_grants.c.workflow.in_([sa.literal(ALL_WORKFLOWS), sa.bindparam("b_workflow")])
_ROLES_OF_PERSON = sa.select(role_grants.c.role).where(sa.or_(
    sa.and_(role_grants.c.grantee_kind == str(GranteeKind.PERSON), role_grants.c.grantee == sa.bindparam("b_id")),
    sa.and_(role_grants.c.grantee_kind == str(GranteeKind.GROUP), role_grants.c.grantee.in_(
        sa.select(group_members.c.group_id).where(group_members.c.person_id == sa.bindparam("b_id"))))),
    _IN_SCOPE).distinct()
_ROLES_OF_SERVICE = sa.select(role_grants.c.role).where(
    role_grants.c.grantee_kind == str(GranteeKind.SERVICE), role_grants.c.grantee == sa.bindparam("b_id"),
    _IN_SCOPE).distinct()


# A person and their roles in one statement (the gate's common case): one row per role, or one row
# with no role; no row when the id is no person (then it may be a service account).
_ROLES_IN_SCOPE = _ROLES_OF_PERSON.subquery()
_PERSON_AND_ROLES = (sa.select(people.c.active, _ROLES_IN_SCOPE.c.role)
                     .select_from(people.outerjoin(_ROLES_IN_SCOPE, sa.true()))
                     .where(people.c.id == sa.bindparam("b_id")))


# The same read, with what the engine holds to the audit trail (see engine.directory_seal): each grant's id and
# what the gate decides by in it, and the system chain's head (a primary-key read in the same statement), whose
# move tells the engine a directory change was made since it last held a row to its record.
_SYSTEM_SEQ = sa.select(audit_chains.c.seq).where(audit_chains.c.chain == SYSTEM_CHAIN).scalar_subquery()
_SYSTEM_HASH = sa.select(audit_chains.c.hash).where(audit_chains.c.chain == SYSTEM_CHAIN).scalar_subquery()


def _grants_reaching_person(*scope: sa.ColumnElement) -> sa.Subquery:
    """The grants naming a person or reaching them through a group, each with the group it reaches them through.

    `via_group` is NULL for a grant naming the person; for a group's grant it names the group, whose
    membership row (group, person) the gate then holds to its record as it holds the grant's."""
    direct = sa.select(role_grants, sa.cast(sa.null(), group_members.c.group_id.type).label("via_group")).where(
        role_grants.c.grantee_kind == str(GranteeKind.PERSON), role_grants.c.grantee == sa.bindparam("b_id"), *scope)
    through_group = (sa.select(role_grants, group_members.c.group_id.label("via_group"))
                     .select_from(group_members.join(role_grants, sa.and_(
                         role_grants.c.grantee_kind == str(GranteeKind.GROUP),
                         role_grants.c.grantee == group_members.c.group_id)))
                     .where(group_members.c.person_id == sa.bindparam("b_id"), *scope))
    return sa.union_all(direct, through_group).subquery()


_GRANTS_OF_PERSON = _grants_reaching_person(_IN_SCOPE)
_PERSON_COLUMNS = tuple(people.c.keys())
_SERVICE_COLUMNS = tuple(service_accounts.c.keys())
_GRANT_COLUMNS = tuple(role_grants.c.keys())
_PERSON_GRANTS_AND_HEAD = Precompiled(
    sa.select(*(column.label(f"p_{column.name}") for column in people.c),
              *(column.label(f"g_{column.name}") for column in _GRANTS_OF_PERSON.c),
              audit_chains.c.seq.label("head_seq"), audit_chains.c.hash.label("head_hash"))
    .select_from(people.outerjoin(_GRANTS_OF_PERSON, sa.true())
                 .outerjoin(audit_chains, audit_chains.c.chain == SYSTEM_CHAIN))
    .where(people.c.id == sa.bindparam("b_id")))
_SERVICE_AND_HEAD = Precompiled(sa.select(service_accounts, _SYSTEM_SEQ.label("head_seq"),
                                          _SYSTEM_HASH.label("head_hash"))
                                .where(service_accounts.c.id == sa.bindparam("b_id")))
_GRANTS_OF_SERVICE = Precompiled(sa.select(role_grants).where(
    role_grants.c.grantee_kind == str(GranteeKind.SERVICE), role_grants.c.grantee == sa.bindparam("b_id"), _IN_SCOPE))

DirectoryRow = tuple[str, Any, tuple, Callable[[], dict[str, Any]]]
"""A directory row the gate decided by: (table, key, the values it decided by, every value, for its seal).

Every value is built only when asked (a row the engine holds as it is needs none: see engine.directory_seal)."""


def directory_row(table: str, mapping: Any, names: Sequence[str], prefix: str = "") -> DirectoryRow:
    """A row read as the columns `names` of `table`, each labelled `prefix` + its name in `mapping`."""
    return (table, mapping[prefix + "id"], decided_by(table, mapping, prefix),
            lambda: {name: mapping[prefix + name] for name in names})


def membership_row(table: sa.Table, first: str, person_id: str) -> DirectoryRow:
    """A group's (`group_members`) or a queue's (`queue_members`) membership row, from its two values.

    Its key is the one the audit trail lists it under (the canonical JSON of both: see audit_store.BoundTable)."""
    values = {table.c.keys()[0]: first, "person_id": person_id}
    # canonical_json([first, person_id]), from its two texts: the list goes through the whole JSON encoder,
    # a text through canonical_json's own steps (a few microseconds less per membership, on every act).
    key = f"[{canonical_json(first)},{canonical_json(person_id)}]"
    return (table.name, key, (first, person_id), lambda: values)   # (first, person_id): as decided_by gives it


def grant_rows(mapping: Any, person_id: str) -> list[DirectoryRow]:
    """The rows a grant read with `_grants_reaching_person` (labelled `g_`) gives a person a role by: the grant's,
    and the group membership it reaches them through, if it does."""
    rows = [directory_row(role_grants.name, mapping, _GRANT_COLUMNS, "g_")]
    if mapping["g_via_group"] is not None:
        rows.append(membership_row(group_members, mapping["g_via_group"], person_id))
    return rows


def _principal_roles_and_rows(connection: sa.Connection, principal_id: str, workflow: str | None
                              ) -> tuple[Principal | None, list[str], list[DirectoryRow], tuple | None]:
    parameters = {"b_id": principal_id, "b_workflow": workflow or ALL_WORKFLOWS}
    rows = _PERSON_GRANTS_AND_HEAD.run(connection, parameters).all()
    if rows:
        person = Principal(principal_id, PrincipalKind.PERSON, bool(rows[0].p_active))
        head = (rows[0].head_seq, rows[0].head_hash)
        if not person.active:
            return person, [], [], head
        first = rows[0]._mapping
        used = [directory_row(people.name, first, _PERSON_COLUMNS, "p_")]
        for row in rows:
            if row.g_id is not None:
                used.extend(grant_rows(row._mapping, principal_id))
        return person, sorted({row.g_role for row in rows if row.g_role is not None}), used, head
    row = _SERVICE_AND_HEAD.run(connection, {"b_id": principal_id}).first()
    if row is None:
        return None, [], [], None
    account = Principal(principal_id, PrincipalKind.SERVICE, bool(row.active))
    head = (row.head_seq, row.head_hash)
    if not account.active:
        return account, [], [], head
    grants = _GRANTS_OF_SERVICE.run(connection, parameters).all()
    mapping = row._mapping
    used = [directory_row(service_accounts.name, mapping, _SERVICE_COLUMNS)]
    used.extend(directory_row(role_grants.name, grant._mapping, _GRANT_COLUMNS) for grant in grants)
    return account, sorted({grant.role for grant in grants}), used, head


_RECORD_COLUMNS = tuple(audit_records.c.keys())


def _writers(connection: sa.Connection, rows: Sequence[tuple[str, Any]]) -> dict[tuple[str, Any], AuditRecord]:
    """The newest record of the system chain listing each row, in one statement (a row none lists is left out)."""
    newest = [sa.select(audit_records.c.id).where(
        audit_records.c.chain == SYSTEM_CHAIN,
        audit_records.c.rows.like("%" + _like_escaped(canonical_json([table, key])[:-1] + ",") + "%", escape="!"))
        .order_by(audit_records.c.seq.desc()).limit(1).scalar_subquery() for table, key in rows]
    records = [AuditRecord(**row._mapping) for row in connection.execute(
        sa.select(audit_records).where(audit_records.c.id.in_(newest)).order_by(audit_records.c.seq.desc()))]
    found: dict[tuple[str, Any], AuditRecord] = {}
    for record in records:  # newest first: the first that lists a row is its writer
        for listed in record.bound_rows():
            found.setdefault((listed[0], listed[1]), record)
    return {(table, key): found[(table, key)] for table, key in rows if (table, key) in found}


def _like_escaped(text: str) -> str:
    return text.replace("!", "!!").replace("%", "!%").replace("_", "!_")


def _principal_and_roles(connection: sa.Connection, principal_id: str,
                         workflow: str | None) -> tuple[Principal | None, list[str]]:
    rows = _RUN_PERSON_AND_ROLES.run(connection, {"b_id": principal_id, "b_workflow": workflow or ALL_WORKFLOWS}).all()
    if not rows:
        found = _principal(connection, principal_id)
        return found, (_granted_roles(connection, found, workflow) if found is not None and found.active else [])
    person = Principal(principal_id, PrincipalKind.PERSON, bool(rows[0].active))
    return person, (sorted(row.role for row in rows if row.role is not None) if person.active else [])


# A bearer token and what the directory says of its holder, for authenticating one HTTP request in one
# statement read fresh each time: four reads, each from the token's row found by its hash, joined into one
# answer (UNION ALL) so that each is a row of one shape, the columns of the others NULL:
#   "token"  the token, its holder's person or service-account row, and the system chain's head;
#   "grant"  every grant naming the holder, or one of their groups;
#   "group"  each group the holder is a member of;
#   "queue"  each queue the holder is a member of.
# It was two statements (the token and holder, then the rest by the holder's id): one round trip, and one
# statement's setting up and reading on both sides, more on every request.


def _holder_part(what: str, *, token: bool = False, grant: bool = False,
                 name: sa.ColumnElement | None = None) -> list[sa.ColumnElement]:
    """The columns of one kind of row of `_TOKEN_HOLDER_AND_GRANTS`, in the order every kind shares.

    The columns of the other kinds are NULL: typed in the token's part, which comes first and gives the
    answer its column names and types (how each value is read back); bare in the others, which keeps the
    statement's text under the length up to which psycopg keeps its parsed form (4096 characters: a longer
    text is parsed again on every run)."""
    def absent(column: sa.ColumnElement, label: str) -> sa.ColumnElement:
        # A bare NULL is written as it is; `sa.null()` would be labelled `NULL AS anon__12`.
        return sa.type_coerce(sa.null(), column.type).label(label) if token else sa.literal_column("NULL")

    def columns(table: sa.Table, prefix: str, own: bool) -> list[sa.ColumnElement]:
        return [column.label(prefix + column.name) if own else absent(column, prefix + column.name)
                for column in table.c]

    return [sql_text(what).label("what"), *columns(api_tokens, "t_", token), *columns(people, "p_", token),
            *columns(service_accounts, "s_", token),
            _SYSTEM_SEQ.label("head_seq") if token else absent(audit_chains.c.seq, "head_seq"),
            _SYSTEM_HASH.label("head_hash") if token else absent(audit_chains.c.hash, "head_hash"),
            *columns(role_grants, "g_", grant),
            name.label("name") if name is not None else absent(group_members.c.group_id, "name")]


_THE_TOKEN = api_tokens.c.token_hash == sa.bindparam("b_hash")
_HOLDER = api_tokens.c.principal
_TOKEN_HOLDER_AND_GRANTS = sa.union_all(
    sa.select(*_holder_part("token", token=True))
    .select_from(api_tokens.outerjoin(people, people.c.id == _HOLDER)
                 .outerjoin(service_accounts, service_accounts.c.id == _HOLDER))
    .where(_THE_TOKEN),
    # Every grant whose grantee is the holder's id (of any kind: `_token_holder` counts those of the holder's
    # own kind), or one of the holder's groups.
    sa.select(*_holder_part("grant", grant=True)).select_from(api_tokens, role_grants).where(_THE_TOKEN, sa.or_(
        role_grants.c.grantee == _HOLDER,
        sa.and_(role_grants.c.grantee_kind == str(GranteeKind.GROUP), role_grants.c.grantee.in_(
            sa.select(group_members.c.group_id).where(group_members.c.person_id == _HOLDER))))),
    sa.select(*_holder_part("group", name=group_members.c.group_id)).select_from(api_tokens, group_members)
    .where(_THE_TOKEN, group_members.c.person_id == _HOLDER),
    sa.select(*_holder_part("queue", name=queue_members.c.queue)).select_from(api_tokens, queue_members)
    .where(_THE_TOKEN, queue_members.c.person_id == _HOLDER))
# Run precompiled (store.precompiled), as the gate's statements are: every request authenticates, and
# SQLAlchemy's execution of a statement (its cache key, context and rows) cost some 90 us of CPU more.
_RUN_TOKEN_HOLDER_AND_GRANTS = Precompiled(_TOKEN_HOLDER_AND_GRANTS)
_TOKEN_COLUMNS = tuple(api_tokens.c.keys())


@dataclass(frozen=True)
class TokenHolder:
    """A token and its holder as the directory has them now (see `DirectoryReads.token_holder`).

    Attributes:
        token: the token as stored (the caller checks revocation, expiry and scope).
        principal: the holder, with whether they are active; None when the directory no longer has them.
        name: the person's name (None for a service account).
        roles: the roles granted in every workflow, directly and through groups (what the gate's
            `roles_of` answers), sorted.
        direct_roles: the roles of every grant naming the holder, in any workflow (`grants(id)`).
        scoped: (workflow, role) of each grant reaching the holder (directly or through a group) in one
            workflow only, sorted.
        queues: the queues the holder is a member of, sorted.
    """

    token: Token
    principal: Principal | None
    name: str | None
    roles: tuple[str, ...]
    direct_roles: tuple[str, ...]
    queues: tuple[str, ...]
    scoped: tuple[tuple[str, str], ...] = ()
    rows: tuple[DirectoryRow, ...] = ()
    """The rows authenticating by it decides by (the token, the holder, the grants that give `roles`)."""
    head: tuple | None = None
    """The system chain's head as read with them (see engine.directory_seal)."""


def _token_holder(connection: sa.Connection, hashed: str) -> TokenHolder | None:
    found = None
    grant_rows_read, groups, queue_rows = [], set(), []
    for row in _RUN_TOKEN_HOLDER_AND_GRANTS.run(connection, {"b_hash": hashed}):
        what = row.what
        if what == "grant":
            grant_rows_read.append(row)
        elif what == "group":
            groups.add(row.name)
        elif what == "queue":
            queue_rows.append(row.name)
        else:
            found = row
    if found is None:
        return None
    mapping = found._mapping
    token = _token_of(mapping, "t_")
    holder = token.principal
    if found.p_active is not None:
        principal = Principal(holder, PrincipalKind.PERSON, bool(found.p_active))
    elif found.s_active is not None:
        principal = Principal(holder, PrincipalKind.SERVICE, bool(found.s_active))
    else:
        principal = None
    head = (found.head_seq, found.head_hash)
    token_row = directory_row(api_tokens.name, mapping, _TOKEN_COLUMNS, "t_")
    if principal is None or not principal.active:
        return TokenHolder(token, principal, None, (), (), (), rows=(token_row,), head=head)
    grants = sorted(((r.g_role, r.g_workflow, r.g_grantee_kind, r.g_grantee, r.g_id, r.g_granted_by, r.g_granted_at)
                     for r in grant_rows_read))
    own_kind = str(GranteeKind.SERVICE if principal.kind is PrincipalKind.SERVICE else GranteeKind.PERSON)

    def counts(kind: str, grantee: str) -> bool:
        return (kind == own_kind and grantee == holder) or (
            principal.kind is PrincipalKind.PERSON and kind == str(GranteeKind.GROUP) and grantee in groups)

    counted = [grant for grant in grants if grant[1] == ALL_WORKFLOWS and counts(grant[2], grant[3])]
    everywhere = sorted({role for role, *_ in counted})
    # A group's grant in one workflow counts there, as the gate counts it when the holder acts.
    scoped_grants = [grant for grant in grants if grant[1] != ALL_WORKFLOWS and counts(grant[2], grant[3])]
    if principal.kind is PrincipalKind.PERSON:
        holder_row = directory_row(people.name, mapping, _PERSON_COLUMNS, "p_")
    else:
        holder_row = directory_row(service_accounts.name, mapping, _SERVICE_COLUMNS, "s_")
    # Held to their records besides the token's and the holder's: the grants that give `roles`, and the group
    # memberships those reach the holder through; the grants scoped to one workflow (`scoped`) and the queue
    # memberships (`queues`), which decide what the holder sees.
    used = [token_row, holder_row]
    for role, workflow, kind, grantee, grant_id, by, at in (*counted, *scoped_grants):
        used.append(directory_row(role_grants.name, dict(
            id=grant_id, grantee_kind=kind, grantee=grantee, role=role, workflow=workflow, granted_by=by,
            granted_at=at), _GRANT_COLUMNS))
        if kind == str(GranteeKind.GROUP):
            used.append(membership_row(group_members, grantee, holder))
    used.extend(membership_row(queue_members, queue, holder) for queue in queue_rows)
    direct = tuple(role for role, workflow, kind, grantee, *_ in grants if grantee == holder)
    scoped = tuple(sorted({(workflow, role) for role, workflow, *_ in scoped_grants}))
    return TokenHolder(token, principal, found.p_name if principal.kind is PrincipalKind.PERSON else None,
                       tuple(everywhere), direct, tuple(sorted(queue_rows)), scoped, rows=tuple(used), head=head)


# A person and their grants in every workflow, in one statement: for an operation that identifies
# the same person in several workflows (claiming the next task of queues that hold several
# workflows' tasks), which then asks `GrantsOfOne.roles_in` per workflow instead of the database.
_ROLES_EVERYWHERE = _grants_reaching_person()
_PERSON_AND_GRANTS = (sa.select(people.c.active, _ROLES_EVERYWHERE.c.role, _ROLES_EVERYWHERE.c.workflow,
                                *(column.label(f"p_{column.name}") for column in people.c),
                                *(column.label(f"g_{column.name}") for column in _ROLES_EVERYWHERE.c),
                                _SYSTEM_SEQ.label("head_seq"), _SYSTEM_HASH.label("head_hash"))
                      .select_from(people.outerjoin(_ROLES_EVERYWHERE, sa.true()))
                      .where(people.c.id == sa.bindparam("b_id")))
# A person's queue memberships, each with the system chain's head (no row: a member of none).
_RUN_QUEUES_AND_HEAD = Precompiled(
    sa.select(queue_members.c.queue, _SYSTEM_SEQ.label("head_seq"), _SYSTEM_HASH.label("head_hash"))
    .where(queue_members.c.person_id == sa.bindparam("b_id")))
_SERVICE_GRANTS = sa.select(role_grants).where(
    role_grants.c.grantee_kind == str(GranteeKind.SERVICE), role_grants.c.grantee == sa.bindparam("b_id"))

# The gate's statements run precompiled (see store.precompiled): the directory is read afresh on every act,
# only the statements' compiled text is kept.
_RUN_PERSON_ACTIVE = Precompiled(_PERSON_ACTIVE)
_RUN_SERVICE_ACTIVE = Precompiled(_SERVICE_ACTIVE)
_RUN_ROLES_OF_PERSON = Precompiled(_ROLES_OF_PERSON)
_RUN_ROLES_OF_SERVICE = Precompiled(_ROLES_OF_SERVICE)
_RUN_PERSON_AND_ROLES = Precompiled(_PERSON_AND_ROLES)
_RUN_PERSON_AND_GRANTS = Precompiled(_PERSON_AND_GRANTS)
_RUN_SERVICE_GRANTS = Precompiled(_SERVICE_GRANTS)


@dataclass(frozen=True)
class GrantsOfOne:
    """A principal (None: not in the directory) and every grant they hold, directly or through groups."""

    principal: Principal | None
    grants: tuple[tuple[str, str], ...]  # (role, workflow), ALL_WORKFLOWS for a grant in every workflow
    rows: tuple[DirectoryRow, ...] = ()
    """The rows of an active principal: theirs, then each grant's (see engine.directory_seal)."""
    head: tuple | None = None
    """The system chain's head as read with them (None: not read)."""

    def rows_in(self, workflow: str | None) -> list[DirectoryRow]:
        """The rows `roles_in(workflow)` decides by: the principal's, the grants that count there, and the group
        memberships those reach them through (each follows its grant in `rows`)."""
        scope = (ALL_WORKFLOWS, workflow or ALL_WORKFLOWS)
        kept, counts = [], True
        for row in self.rows:
            if row[0] == role_grants.name:
                counts = row[2][3] in scope
            if counts or row[0] not in (role_grants.name, group_members.name):
                kept.append(row)
        return kept

    def roles_in(self, workflow: str | None) -> list[str]:
        """The roles held in `workflow` (None: those granted in every workflow), as `principal_and_roles` answers."""
        if self.principal is None or not self.principal.active:
            return []
        scope = (ALL_WORKFLOWS, workflow or ALL_WORKFLOWS)
        return sorted({role for role, granted_in in self.grants if granted_in in scope})


def _grants_of_one(connection: sa.Connection, principal_id: str) -> GrantsOfOne:
    rows = _RUN_PERSON_AND_GRANTS.run(connection, {"b_id": principal_id}).all()
    if rows:
        person = Principal(principal_id, PrincipalKind.PERSON, bool(rows[0].active))
        first = rows[0]._mapping
        used = [directory_row(people.name, first, _PERSON_COLUMNS, "p_")]
        for row in rows:
            if row.g_id is not None:
                used.extend(grant_rows(row._mapping, principal_id))
        return GrantsOfOne(person, tuple((row.role, row.workflow) for row in rows if row.role is not None),
                           rows=tuple(used) if person.active else (), head=(rows[0].head_seq, rows[0].head_hash))
    found = _principal(connection, principal_id)
    if found is None:
        return GrantsOfOne(None, ())
    grants = _RUN_SERVICE_GRANTS.run(connection, {"b_id": principal_id}).all()
    used = ()
    if found.active:
        account = connection.execute(sa.select(service_accounts).where(service_accounts.c.id == principal_id)).one()
        used = (directory_row(service_accounts.name, account._mapping, _SERVICE_COLUMNS),
                *(directory_row(role_grants.name, grant._mapping, _GRANT_COLUMNS) for grant in grants))
    return GrantsOfOne(found, tuple((row.role, row.workflow) for row in grants), rows=used)


def _principal(connection: sa.Connection, principal_id: str) -> Principal | None:
    active = _RUN_PERSON_ACTIVE.run(connection, {"b_id": principal_id}).scalar()
    if active is not None:
        return Principal(principal_id, PrincipalKind.PERSON, bool(active))
    active = _RUN_SERVICE_ACTIVE.run(connection, {"b_id": principal_id}).scalar()
    if active is not None:
        return Principal(principal_id, PrincipalKind.SERVICE, bool(active))
    return None


def _granted_roles(connection: sa.Connection, principal: Principal, workflow: str | None) -> list[str]:
    query = _RUN_ROLES_OF_SERVICE if principal.kind is PrincipalKind.SERVICE else _RUN_ROLES_OF_PERSON
    return sorted(query.run(connection, {"b_id": principal.id, "b_workflow": workflow or ALL_WORKFLOWS}).scalars())


def _person(row: sa.Row) -> Person:
    return Person(id=row.id, name=row.name, email=row.email, active=bool(row.active), os_user=row.os_user,
                  created_at=row.created_at, updated_at=row.updated_at)


def _grant(row: sa.Row) -> Grant:
    return Grant(id=row.id, grantee_kind=GranteeKind(row.grantee_kind), grantee=row.grantee, role=row.role,
                 workflow=row.workflow or None, granted_by=row.granted_by, granted_at=row.granted_at)


def _token(row: sa.Row) -> Token:
    return _token_of(row._mapping)


def _token_of(mapping: Any, prefix: str = "") -> Token:
    """A token from its row's values, each named `prefix` + its column's name."""
    return Token(id=mapping[prefix + "id"], principal=mapping[prefix + "principal"],
                 principal_kind=PrincipalKind(mapping[prefix + "principal_kind"]), label=mapping[prefix + "label"],
                 roles=tuple(mapping[prefix + "roles"] or ()), created_by=mapping[prefix + "created_by"],
                 created_at=mapping[prefix + "created_at"], expires_at=mapping[prefix + "expires_at"],
                 revoked_at=mapping[prefix + "revoked_at"])


def _delegation(row: sa.Row) -> Delegation:
    return Delegation(**row._mapping)


class DirectoryReads:
    """Reads of the directory."""

    engine: sa.Engine

    def principal(self, principal_id: str) -> Principal | None:
        with self._connect() as connection:
            return _principal(connection, principal_id)

    def granted_roles(self, principal: Principal, workflow: str | None) -> Sequence[str]:
        with self._connect() as connection:
            return _granted_roles(connection, principal, workflow)

    def principal_and_roles(self, principal_id: str, workflow: str | None) -> tuple[Principal | None, Sequence[str]]:
        # The gate's read on every act: one connection for both queries.
        with self._connect() as connection:
            return _principal_and_roles(connection, principal_id, workflow)

    def principal_roles_and_rows(self, principal_id: str, workflow: str | None
                                 ) -> tuple[Principal | None, list[str], list[DirectoryRow], tuple | None]:
        """`principal_and_roles`, with the rows it decided by and the system chain's head (engine.directory_seal)."""
        with self._connect() as connection:
            return _principal_roles_and_rows(connection, principal_id, workflow)

    def directory_writers(self, rows: Sequence[tuple[str, Any]]) -> dict[tuple[str, Any], AuditRecord]:
        """Return the newest system record listing each (table, key), in one statement (absent: no record lists it)."""
        with self._connect() as connection:
            return _writers(connection, rows)

    def queue_memberships(self, person_id: str) -> tuple[list[str], list[DirectoryRow], tuple | None]:
        """The queues a person is a member of, sorted, with their membership rows and the system chain's head
        (engine.directory_seal), in one statement."""
        with self._connect() as connection:
            found = _RUN_QUEUES_AND_HEAD.run(connection, {"b_id": person_id}).all()
        if not found:
            return [], [], None
        queues = sorted(row.queue for row in found)
        return queues, [membership_row(queue_members, queue, person_id) for queue in queues], \
            (found[0].head_seq, found[0].head_hash)

    def grants_of_one(self, principal_id: str) -> GrantsOfOne:
        # One read for an operation that identifies the same principal in several workflows.
        with self._connect() as connection:
            return _grants_of_one(connection, principal_id)

    def delegations_to(self, delegate: str, delegator: str | None = None) -> Sequence[Delegation]:
        query = sa.select(delegations).where(delegations.c.delegate == delegate).order_by(delegations.c.id)
        if delegator is not None:
            query = query.where(delegations.c.delegator == delegator)
        with self._connect() as connection:
            return [_delegation(row) for row in connection.execute(query)]

    def delegations(self) -> Sequence[Delegation]:
        with self._connect() as connection:
            return [_delegation(row) for row in connection.execute(sa.select(delegations).order_by(delegations.c.id))]

    def delegation(self, delegation_id: int) -> Delegation | None:
        with self._connect() as connection:
            row = connection.execute(sa.select(delegations).where(delegations.c.id == delegation_id)).first()
        return _delegation(row) if row is not None else None

    def token(self, token_id: int) -> Token | None:
        with self._connect() as connection:
            row = connection.execute(sa.select(api_tokens).where(api_tokens.c.id == token_id)).first()
        return _token(row) if row is not None else None

    def token_holder(self, hashed: str) -> TokenHolder | None:
        """The token with this hash and its holder's state, grants and queues, in one connection (None: no such token)."""
        with self._connect() as connection:
            return _token_holder(connection, hashed)

    def token_by_hash(self, hashed: str) -> Token | None:
        with self._connect() as connection:
            row = connection.execute(sa.select(api_tokens).where(api_tokens.c.token_hash == hashed)).first()
        return _token(row) if row is not None else None

    def tokens(self, principal: str | None = None) -> Sequence[Token]:
        query = sa.select(api_tokens).order_by(api_tokens.c.id)
        if principal is not None:
            query = query.where(api_tokens.c.principal == principal)
        with self._connect() as connection:
            return [_token(row) for row in connection.execute(query)]

    def person_by_os_user(self, os_user: str) -> Person | None:
        with self._connect() as connection:
            row = connection.execute(sa.select(people).where(people.c.os_user == os_user)).first()
        return _person(row) if row is not None else None

    def people_by_email(self, email: str) -> Sequence[Person]:
        # Emails are compared without case: the provider and the directory may spell one differently.
        query = sa.select(people).where(sa.func.lower(sa.func.trim(people.c.email)) == email.strip().lower())
        with self._connect() as connection:
            return [_person(row) for row in connection.execute(query.order_by(people.c.id))]

    def person(self, person_id: str) -> Person | None:
        with self._connect() as connection:
            row = connection.execute(sa.select(people).where(people.c.id == person_id)).first()
        return _person(row) if row is not None else None

    def people(self, *, include_inactive: bool = True) -> Sequence[Person]:
        query = sa.select(people).order_by(people.c.id)
        if not include_inactive:
            query = query.where(people.c.active.is_(True))
        with self._connect() as connection:
            return [_person(row) for row in connection.execute(query)]

    def count_people(self) -> int:
        with self._connect() as connection:
            return connection.execute(sa.select(sa.func.count()).select_from(people)).scalar_one()

    def service_accounts(self) -> Sequence[ServiceAccount]:
        with self._connect() as connection:
            return [ServiceAccount(**row._mapping)
                    for row in connection.execute(sa.select(service_accounts).order_by(service_accounts.c.id))]

    def groups(self) -> Sequence[Group]:
        with self._connect() as connection:
            members: dict[str, list[str]] = {}
            for row in connection.execute(sa.select(group_members).order_by(group_members.c.person_id)):
                members.setdefault(row.group_id, []).append(row.person_id)
            return [Group(id=row.id, name=row.name, created_at=row.created_at, members=tuple(members.get(row.id, ())))
                    for row in connection.execute(sa.select(person_groups).order_by(person_groups.c.id))]

    def grants(self, grantee: str | None = None) -> Sequence[Grant]:
        query = sa.select(role_grants).order_by(role_grants.c.grantee, role_grants.c.role, role_grants.c.workflow)
        if grantee is not None:
            query = query.where(role_grants.c.grantee == grantee)
        with self._connect() as connection:
            return [_grant(row) for row in connection.execute(query)]

    def queue_members(self, queue: str | None = None) -> Sequence[tuple[str, str]]:
        query = sa.select(queue_members).order_by(queue_members.c.queue, queue_members.c.person_id)
        if queue is not None:
            query = query.where(queue_members.c.queue == queue)
        with self._connect() as connection:
            return [(row.queue, row.person_id) for row in connection.execute(query)]


class DirectoryWrites:
    """Writes of the directory, and the reads a change checks in its own transaction.

    Every write says which rows it touched (`wrote`, see audit_store): the directory's tables are
    bound to the audit trail, so a grant or a person added or edited outside the engine is named.
    """

    connection: sa.Connection
    wrote: Callable[[sa.Table, Iterable[Any]], None]  # from AuditWrites, mixed in beside this class

    def principal(self, principal_id: str) -> Principal | None:
        return _principal(self.connection, principal_id)

    def granted_roles(self, principal: Principal, workflow: str | None) -> Sequence[str]:
        return _granted_roles(self.connection, principal, workflow)

    def count_people(self) -> int:
        return self.connection.execute(sa.select(sa.func.count()).select_from(people)).scalar_one()

    def lock_directory(self) -> None:
        """Serialize changes that count the directory (bootstrap: two at once must not both find it empty) or that
        check their administrator inside (two administrators deactivating each other must not both be found active).

        On SQLite the writing transaction holds the database already."""
        if self.connection.dialect.name == "postgresql":
            self.connection.execute(sa.text("SELECT pg_advisory_xact_lock(hashtextextended('backoffice.directory', 0))"))

    def insert_person(self, person: Person) -> None:
        if _principal(self.connection, person.id) is not None:
            raise DirectoryConflict(f"{person.id!r} is in the directory already",
                                    "a new id (one spelling per person: ids are trimmed and case-folded)")
        if person.os_user is not None and self.connection.execute(
                sa.select(people.c.id).where(people.c.os_user == person.os_user)).first() is not None:
            raise DirectoryConflict(f"the operating-system user {person.os_user!r} is mapped to another person",
                                    "one person per operating-system user")
        self.connection.execute(sa.insert(people).values(
            id=person.id, name=person.name, email=person.email, active=person.active, os_user=person.os_user,
            created_at=person.created_at, updated_at=person.updated_at))
        self.wrote(people, [person.id])

    def set_person_active(self, person_id: str, active: bool, *, at: datetime) -> bool:
        result = self.connection.execute(sa.update(people).where(people.c.id == person_id, people.c.active != active)
                                         .values(active=active, updated_at=at))
        if result.rowcount == 1:
            self.wrote(people, [person_id])
        return result.rowcount == 1

    def insert_service_account(self, account: ServiceAccount) -> None:
        if _principal(self.connection, account.id) is not None:
            raise DirectoryConflict(f"{account.id!r} is in the directory already", "a new id")
        self.connection.execute(sa.insert(service_accounts).values(**account.__dict__))
        self.wrote(service_accounts, [account.id])

    def set_service_account_active(self, account_id: str, active: bool, *, at: datetime) -> bool:
        result = self.connection.execute(sa.update(service_accounts).where(
            service_accounts.c.id == account_id, service_accounts.c.active != active).values(active=active,
                                                                                          updated_at=at))
        if result.rowcount == 1:
            self.wrote(service_accounts, [account_id])
        return result.rowcount == 1

    def insert_group(self, group: Group) -> bool:
        if self.connection.execute(sa.select(person_groups.c.id).where(person_groups.c.id == group.id)).first():
            return False
        self.connection.execute(sa.insert(person_groups).values(id=group.id, name=group.name,
                                                                created_at=group.created_at))
        self.wrote(person_groups, [group.id])
        return True

    def group_exists(self, group_id: str) -> bool:
        return self.connection.execute(sa.select(person_groups.c.id)
                                       .where(person_groups.c.id == group_id)).first() is not None

    def add_group_member(self, group_id: str, person_id: str) -> bool:
        found = self.connection.execute(sa.select(group_members.c.group_id).where(
            group_members.c.group_id == group_id, group_members.c.person_id == person_id)).first()
        if found is not None:
            return False
        self.connection.execute(sa.insert(group_members).values(group_id=group_id, person_id=person_id))
        self.wrote(group_members, [(group_id, person_id)])
        return True

    def remove_group_member(self, group_id: str, person_id: str) -> bool:
        removed = self.connection.execute(sa.delete(group_members).where(
            group_members.c.group_id == group_id, group_members.c.person_id == person_id)).rowcount == 1
        if removed:
            self.wrote(group_members, [(group_id, person_id)])
        return removed

    def insert_grant(self, grant: Grant) -> bool:
        scope = grant.workflow or ALL_WORKFLOWS
        found = self.connection.execute(sa.select(role_grants.c.id).where(
            role_grants.c.grantee_kind == str(grant.grantee_kind), role_grants.c.grantee == grant.grantee,
            role_grants.c.role == grant.role, role_grants.c.workflow == scope)).first()
        if found is not None:
            return False
        result = self.connection.execute(sa.insert(role_grants).values(
            grantee_kind=str(grant.grantee_kind), grantee=grant.grantee, role=grant.role, workflow=scope,
            granted_by=grant.granted_by, granted_at=grant.granted_at))
        self.wrote(role_grants, result.inserted_primary_key)
        return True

    def delete_grant(self, grantee_kind: GranteeKind, grantee: str, role: str, workflow: str | None) -> bool:
        where = (role_grants.c.grantee_kind == str(grantee_kind), role_grants.c.grantee == grantee,
                 role_grants.c.role == role, role_grants.c.workflow == (workflow or ALL_WORKFLOWS))
        # Its id first: the audit record lists the grant as removed, so one put back by hand is named.
        ids = list(self.connection.execute(sa.select(role_grants.c.id).where(*where)).scalars())
        removed = self.connection.execute(sa.delete(role_grants).where(*where)).rowcount == 1
        if removed:
            self.wrote(role_grants, ids)
        return removed

    def add_queue_member(self, queue: str, person_id: str) -> bool:
        found = self.connection.execute(sa.select(queue_members.c.queue).where(
            queue_members.c.queue == queue, queue_members.c.person_id == person_id)).first()
        if found is not None:
            return False
        self.connection.execute(sa.insert(queue_members).values(queue=queue, person_id=person_id))
        self.wrote(queue_members, [(queue, person_id)])
        return True

    def remove_queue_member(self, queue: str, person_id: str) -> bool:
        removed = self.connection.execute(sa.delete(queue_members).where(
            queue_members.c.queue == queue, queue_members.c.person_id == person_id)).rowcount == 1
        if removed:
            self.wrote(queue_members, [(queue, person_id)])
        return removed

    def insert_token(self, token: Token, hashed: str) -> Token:
        result = self.connection.execute(sa.insert(api_tokens).values(
            token_hash=hashed, principal=token.principal, principal_kind=str(token.principal_kind), label=token.label,
            roles=list(token.roles), created_by=token.created_by, created_at=token.created_at,
            expires_at=token.expires_at, revoked_at=None))
        self.wrote(api_tokens, result.inserted_primary_key)
        return Token(**{**token.__dict__, "id": result.inserted_primary_key[0]})

    def revoke_token(self, token_id: int, *, at: datetime) -> Token | None:
        row = self.connection.execute(sa.select(api_tokens).where(api_tokens.c.id == token_id)).first()
        if row is None or row.revoked_at is not None:
            return None
        self.connection.execute(sa.update(api_tokens).where(api_tokens.c.id == token_id).values(revoked_at=at))
        self.wrote(api_tokens, [token_id])
        return _token(row)

    def insert_delegation(self, delegation: Delegation) -> Delegation:
        values = {k: v for k, v in delegation.__dict__.items() if k != "id"}
        result = self.connection.execute(sa.insert(delegations).values(**values))
        self.wrote(delegations, result.inserted_primary_key)
        return Delegation(**{**delegation.__dict__, "id": result.inserted_primary_key[0]})

    def revoke_delegation(self, delegation_id: int, *, at: datetime) -> Delegation | None:
        row = self.connection.execute(sa.select(delegations).where(delegations.c.id == delegation_id)).first()
        if row is None or row.revoked_at is not None:
            return None
        self.connection.execute(sa.update(delegations).where(delegations.c.id == delegation_id)
                                .values(revoked_at=at))
        self.wrote(delegations, [delegation_id])
        return _delegation(row)
