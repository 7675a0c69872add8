"""The store's part for the audit trail: chains, records, and the rows each record binds.

Mixed into `SqlStore` (reads) and `SqlTransaction` (writes). Every write to a bound table
(`BOUND_TABLES`) says which rows it touched (`wrote`); the engine's next audit record reads
them back as they now are and lists their digests (`written_rows`). A transaction that
touched bound rows and ends without an audit record after them is a bug: it is refused at
commit (`unbound_writes`), so no change can slip past the trail.

A new table that records what happened joins `BOUND_TABLES` with one line; its writes call
`self.wrote(table, keys)`.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from backoffice.engine.audit import (GENESIS, SYSTEM_CHAIN, AuditHead, AuditHeadMoved, AuditRecord, RowSeal, canonical_json, removed_row,
                                    seal_row)
from backoffice.store.precompiled import Precompiled, case_chain, sql_text
from backoffice.store.tables import (api_tokens, approval_votes, audit_chains, audit_legacy_rows, audit_records,
                                     case_branches, case_comments, case_exceptions, cases, definition_changes, delegations, events,
                                     evidence, group_members, people,
                                     person_groups, queue_members, role_grants, service_accounts, tasks,
                                     workflow_modes, workflow_versions)

_BATCH = 500


@dataclass(frozen=True)
class BoundTable:
    """A table whose rows record what happened: each row is bound to the audit record of its last change.

    Attributes:
        keys: the columns that name a row (one, or a composite key: then the row's key is the
            canonical JSON of their values, e.g. `["finance","ann"]`).
        case: the column naming the row's case (None: the table's rows belong to no case, and
            to the `system` chain; such a row the engine deletes is listed as removed).
    """

    table: sa.Table
    keys: tuple[sa.Column, ...]
    case: sa.Column | None

    def __post_init__(self) -> None:
        # The names, looked up once: a key is taken from every row each change writes.
        object.__setattr__(self, "key_names", tuple(column.name for column in self.keys))
        object.__setattr__(self, "case_name", self.case.name if self.case is not None else None)

    def key_of(self, values: Any) -> Any:
        """Return a row's key from its values (a mapping), or from the key's values as a change passes them."""
        if type(values) is int and len(self.key_names) == 1:
            return values  # the common case: a row's id, as the write returned it
        if isinstance(values, dict) or hasattr(values, "keys"):
            parts = [values[name] for name in self.key_names]
        else:
            parts = list(values) if isinstance(values, (tuple, list)) else [values]
        return parts[0] if len(self.keys) == 1 else canonical_json(parts)


def _bound(table: sa.Table, *keys: sa.Column, case: sa.Column | None = None) -> BoundTable:
    return BoundTable(table, keys, case)


BOUND_TABLES: dict[str, BoundTable] = {bound.table.name: bound for bound in (
    _bound(cases, cases.c.id, case=cases.c.id),
    _bound(events, events.c.id, case=events.c.case_id),
    _bound(tasks, tasks.c.id, case=tasks.c.case_id),
    _bound(approval_votes, approval_votes.c.id, case=approval_votes.c.case_id),
    _bound(evidence, evidence.c.id, case=evidence.c.case_id),
    _bound(case_exceptions, case_exceptions.c.id, case=case_exceptions.c.case_id),
    _bound(case_comments, case_comments.c.id, case=case_comments.c.case_id),
    # The branches a case waits for: a branch marked done by hand would pass its join unseen.
    _bound(case_branches, case_branches.c.id, case=case_branches.c.case_id),
    _bound(workflow_versions, workflow_versions.c.id),
    _bound(workflow_modes, workflow_modes.c.workflow),
    # The directory: who may act, and as what. A grant or person added or edited by hand is named.
    _bound(people, people.c.id),
    _bound(service_accounts, service_accounts.c.id),
    _bound(person_groups, person_groups.c.id),
    _bound(group_members, group_members.c.group_id, group_members.c.person_id),
    _bound(role_grants, role_grants.c.id),
    _bound(queue_members, queue_members.c.queue, queue_members.c.person_id),
    _bound(api_tokens, api_tokens.c.id),
    _bound(delegations, delegations.c.id),
    # Governed change: a pending change approved by hand in the database would deploy it unseen.
    _bound(definition_changes, definition_changes.c.id),
)}
"""The tables `audit verify` holds to the trail. Not bound: the outbox, timers and SLA clocks, which the
worker changes as it runs (leases, attempts) without a change of its own to audit. (Timers are listed in
their records' detail instead, and held before they fire: see `engine.sealed_rows.TIMER_ROWS`.)"""

_AUDIT_COLUMNS = [name for name in audit_records.c.keys() if name != "id"]
# Run on every change: precompiled (see store.precompiled).
_INSERT_RECORD = Precompiled(sa.insert(audit_records))
_ADVANCE_CHAIN = Precompiled(sa.update(audit_chains).where(audit_chains.c.chain == sa.bindparam("b_chain"),
                                                           audit_chains.c.seq == sa.bindparam("b_seq"),
                                                           audit_chains.c.hash == sa.bindparam("b_hash")))
_START_CHAIN = Precompiled(sa.insert(audit_chains))


def _record_after(head: sa.CTE) -> Precompiled:
    # INSERT INTO audit_records (...) SELECT <the record's values> FROM <the head's write>: one statement that
    # appends the record only when the head's write matched (PostgreSQL: a write in a WITH, one round trip).
    values = [sa.bindparam(f"r_{name}", type_=audit_records.c[name].type) for name in _AUDIT_COLUMNS]
    return Precompiled(sa.insert(audit_records).from_select(_AUDIT_COLUMNS, sa.select(*values).select_from(head)))


_ADVANCE_CHAIN_AND_RECORD = _record_after(
    sa.update(audit_chains).where(audit_chains.c.chain == sa.bindparam("b_chain"),
                                  audit_chains.c.seq == sa.bindparam("b_seq"),
                                  audit_chains.c.hash == sa.bindparam("b_hash"))
    .values(seq=sa.bindparam("n_seq"), hash=sa.bindparam("n_hash")).returning(audit_chains.c.chain).cte("head"))
_START_CHAIN_AND_RECORD = _record_after(
    sa.insert(audit_chains).values(chain=sa.bindparam("n_chain"), case_id=sa.bindparam("n_case_id"),
                                   seq=sa.bindparam("n_seq"), hash=sa.bindparam("n_hash"))
    .returning(audit_chains.c.chain).cte("head"))
_LOCK_CHAIN = Precompiled(sa.select(audit_chains.c.seq, audit_chains.c.hash)
                          .where(audit_chains.c.chain == sa.bindparam("b_chain")).with_for_update())



@functools.cache
def _read_back(bound: BoundTable) -> sa.Select:
    # Built once per table, its keys given as a parameter: SQLAlchemy caches it compiled.
    [key] = bound.keys
    return sa.select(bound.table).where(key.in_(sa.bindparam("b_keys", expanding=True))).order_by(key)


def _read_back_rows(connection: sa.Connection, bound: BoundTable, keys: Iterable[Any]) -> Sequence[sa.Row]:
    if len(bound.keys) == 1:
        return connection.execute(_read_back(bound), dict(b_keys=list(keys))).all()
    parts = [tuple(json.loads(key)) for key in keys]
    return connection.execute(sa.select(bound.table).where(sa.tuple_(*bound.keys).in_(parts))).all()


def _order(key: Any) -> tuple:
    # The order a read back by key gives (ORDER BY the key): numbers by value, text by text.
    return (0, key, "") if isinstance(key, (int, float)) else (1, 0, str(key))


def record_of(row: sa.Row) -> AuditRecord:
    return AuditRecord(**row._mapping)


def _sealed(bound: BoundTable, row: sa.Row) -> RowSeal:
    values = dict(row._mapping)
    key = bound.key_of(values)
    return seal_row(bound.table.name, key, values, case_id=values[bound.case_name] if bound.case_name else None)


class KnownHeads(dict):
    """The head each chain was left at by this store's last record on it: a guess to seal after, never trusted.

    A record sealed after a known head is appended only if the head is still there (see
    `AuditWrites.insert_audit`), so a stale entry (another writer moved on, or the transaction
    rolled back) costs one refused update and a locked read, never a broken chain. Bounded:
    when full, it starts again empty.
    """

    def __init__(self, limit: int = 100_000) -> None:
        super().__init__()
        self.limit = limit

    def remember(self, chain: str, head: AuditHead) -> None:
        if len(self) >= self.limit and chain not in self:
            self.clear()
        self[chain] = head


class AuditReads:
    """Reads of the audit trail and of the rows it binds."""

    engine: sa.Engine

    def audit_records(self, *, after_id: int = 0, limit: int = 1000, chain: str | None = None
                      ) -> Sequence[AuditRecord]:
        """Return records in order of arrival (of one chain, when given), after an id."""
        query = sa.select(audit_records).where(audit_records.c.id > after_id).order_by(audit_records.c.id).limit(limit)
        if chain is not None:
            query = query.where(audit_records.c.chain == chain)
        with self._connect() as connection:
            return [record_of(row) for row in connection.execute(query)]

    def audit_chain_names(self) -> list[str]:
        """Return the name of every chain that has records or a head."""
        with self._connect() as connection:
            names = set(connection.execute(sa.select(audit_records.c.chain).distinct()).scalars())
            names.update(connection.execute(sa.select(audit_chains.c.chain)).scalars())
        return list(names)

    def audit_chain_records(self, chains: Sequence[str]) -> Sequence[AuditRecord]:
        """Return the records of these chains, by chain and seq."""
        query = (sa.select(audit_records).where(audit_records.c.chain.in_(list(chains)))
                 .order_by(audit_records.c.chain, audit_records.c.seq, audit_records.c.id))
        with self._connect() as connection:
            return [record_of(row) for row in connection.execute(query)]

    def audit_heads(self, chains: Sequence[str] | None = None) -> dict[str, AuditHead]:
        """Return the heads the writers keep (of these chains, or all)."""
        query = sa.select(audit_chains.c.chain, audit_chains.c.seq, audit_chains.c.hash)
        if chains is not None:
            query = query.where(audit_chains.c.chain.in_(list(chains)))
        with self._connect() as connection:
            return {row.chain: AuditHead(row.seq, row.hash, row.chain) for row in connection.execute(query)}

    def audit_tips(self) -> Sequence[AuditRecord]:
        """Return the last record of every chain, as the records say (not as the heads say)."""
        last = (sa.select(audit_records.c.chain, sa.func.max(audit_records.c.seq).label("seq"))
                .group_by(audit_records.c.chain).subquery())
        query = (sa.select(audit_records).join(last, sa.and_(audit_records.c.chain == last.c.chain,
                                                             audit_records.c.seq == last.c.seq))
                 .order_by(audit_records.c.chain))
        with self._connect() as connection:
            return [record_of(row) for row in connection.execute(query)]

    def audit_hashes_at(self, places: Sequence[tuple[str, int]]) -> dict[tuple[str, int], str]:
        """Return the hash of the record at each (chain, seq) that exists."""
        found: dict[tuple[str, int], str] = {}
        with self._connect() as connection:
            for start in range(0, len(places), _BATCH):
                batch = list(places[start:start + _BATCH])
                query = sa.select(audit_records.c.chain, audit_records.c.seq, audit_records.c.hash).where(
                    sa.tuple_(audit_records.c.chain, audit_records.c.seq).in_(batch))
                found.update({(row.chain, row.seq): row.hash for row in connection.execute(query)})
        return found

    def bound_rows(self, case_ids: Sequence[int] | None) -> list[RowSeal]:
        """Return the bound rows of these cases (None: the rows of no case), sealed as they are now."""
        sealed: list[RowSeal] = []
        with self._connect() as connection:
            for bound in BOUND_TABLES.values():
                if (bound.case is None) != (case_ids is None):
                    continue
                query = sa.select(bound.table).order_by(*bound.keys)
                if bound.case is not None:
                    query = query.where(bound.case.in_(list(case_ids or ())))
                sealed.extend(_sealed(bound, row) for row in connection.execute(query))
        return sealed

    def audit_records_about(self, workflow: str, version: int | None) -> Sequence[AuditRecord]:
        """Return the system chain's records about a workflow (and version: None, those of no version), newest first.

        What holds a definition version or a workflow's mode to the record that wrote it (see
        `engine.sealed_rows`): read when the engine first loads one, not on every call.
        """
        query = (sa.select(audit_records)
                 .where(audit_records.c.chain == SYSTEM_CHAIN, audit_records.c.workflow == workflow,
                        audit_records.c.version == version if version is not None
                        else audit_records.c.version.is_(None))
                 .order_by(audit_records.c.id.desc()))
        with self._connect() as connection:
            return [record_of(row) for row in connection.execute(query)]

    def legacy_row_marks(self) -> dict[str, int]:
        """Return, per bound table, the last row id written before rows were bound to records (0008)."""
        with self._connect() as connection:
            return {row.table_name: row.last_id for row in connection.execute(sa.select(audit_legacy_rows))}

    def unrecorded_case_ids(self) -> list[int]:
        """Return the cases that have bound rows but no audit record at all."""
        found: set[int] = set()
        with self._connect() as connection:
            for bound in BOUND_TABLES.values():
                if bound.case is None:
                    continue
                recorded = sa.select(audit_records.c.id).where(audit_records.c.case_id == bound.case).exists()
                found.update(connection.execute(sa.select(bound.case).where(~recorded).distinct()).scalars())
        return sorted(found)


class AuditWrites:
    """Writes of the audit trail, inside the transaction of the change they record."""

    connection: sa.Connection
    _written: dict[str, dict[Any, Any]]
    _fresh_chains: set[str]
    """The chains of the cases this transaction inserted: new, so not read before their first record."""
    _known_heads: KnownHeads
    """The heads this store's records left, shared by its transactions (see `known_audit_head`)."""

    def wrote(self, table: sa.Table, keys: Iterable[Any], rows: Sequence[Any] | None = None) -> None:
        """Note rows of a bound table this transaction wrote (inserted, updated or deleted); the next
        audit record binds them. A key is the row's key value, or a tuple of them for a composite key.

        `rows`, when given, are the rows as the write returned them (RETURNING every column, so
        exactly as a read would give them back), in the order of `keys`: the record seals those
        values instead of reading the rows again. A row written again later in the same change is
        sealed as its last write left it (read back when that write returned nothing).
        """
        bound = BOUND_TABLES.get(table.name)
        if bound is None:
            return
        written = self._written.setdefault(table.name, {})
        if rows is None:
            for key in keys:
                if key is not None:
                    written[bound.key_of(key)] = None
            return
        for key, row in zip(keys, rows, strict=True):
            if key is not None:
                written[bound.key_of(key)] = row

    def written_rows(self) -> list[RowSeal]:
        """Return the rows written since the last audit record, sealed as they now are.

        A row the write returned is sealed from those values; any other is read back. A row of no
        case that is gone was deleted by this change: it is listed as removed, so a row put back by
        hand is named. (Rows of a case are never deleted by the engine.)
        """
        sealed: list[RowSeal] = []
        for name in sorted(self._written):
            bound = BOUND_TABLES[name]
            written = self._written[name]
            returned = {key: row for key, row in written.items() if row is not None}
            unread = [key for key, row in written.items() if row is None]
            rows = list(returned.values())
            if unread:
                rows.extend(_read_back_rows(self.connection, bound, unread))
            found = sorted((_sealed(bound, row) for row in rows), key=lambda seal: _order(seal.key))
            sealed.extend(found)
            if bound.case is None:
                present = {row.key for row in found}
                sealed.extend(removed_row(name, key) for key in sorted(set(written) - present, key=str))
        self._written.clear()
        return sealed

    def pending_writes(self, table: str) -> Any:
        """Return the keys of the rows of a bound table written since the last audit record of this transaction."""
        return self._written.get(table, ())

    def unbound_writes(self) -> list[str]:
        """Return the rows written after the last audit record of this transaction (none, when all is well)."""
        return [f"{name} {key}" for name, keys in sorted(self._written.items()) for key in sorted(keys, key=str)]

    def lock_audit_chain(self, chain: str, case_id: int | None = None) -> AuditHead:
        """Return the end of one chain, locked until this transaction ends (created empty when new)."""
        if chain in self._fresh_chains:
            # The chain of a case this transaction started: nobody else can see the case, let alone
            # hold its chain, so it starts empty here and its head is inserted with its first record.
            return AuditHead(0, GENESIS, chain)
        # FOR UPDATE on PostgreSQL; on SQLite the whole database is this transaction's already.
        row = _LOCK_CHAIN.run(self.connection, dict(b_chain=chain)).first()
        if row is None:
            insert = (postgresql.insert if self.connection.dialect.name == "postgresql" else sqlite.insert)(
                audit_chains).values(chain=chain, case_id=case_id, seq=0, hash=GENESIS).on_conflict_do_nothing()
            self.connection.execute(insert)
            row = _LOCK_CHAIN.run(self.connection, dict(b_chain=chain)).one()
        return AuditHead(row.seq, row.hash, chain)

    def known_audit_head(self, chain: str) -> AuditHead | None:
        """Return the head this store's last record on the chain left (neither read nor locked), or None."""
        return self._known_heads.get(chain)

    def insert_audit(self, record: AuditRecord) -> None:
        """Append a sealed record to its chain and move the chain's head to it.

        The head moves only from the record's own previous place (a compare-and-set, which takes
        the head's row lock as it writes), so a record sealed after a head another writer has moved
        on since is refused before anything is written.

        Raises:
            AuditHeadMoved: the head is not where the record follows.
        """
        if self.connection.dialect.name == "postgresql":
            self._insert_audit_in_one(record)
            return
        if record.chain in self._fresh_chains and record.seq == 1:
            self._fresh_chains.discard(record.chain)
            _START_CHAIN.run(self.connection, dict(chain=record.chain, case_id=record.case_id, seq=record.seq,
                                                       hash=record.hash))
        else:
            moved = _ADVANCE_CHAIN.run(self.connection, dict(b_chain=record.chain, b_seq=record.seq - 1,
                                                                 b_hash=record.prev_hash, seq=record.seq,
                                                                 hash=record.hash))
            if moved.rowcount != 1:
                self._known_heads.pop(record.chain, None)
                raise AuditHeadMoved(record.chain)
        _INSERT_RECORD.run(self.connection, {name: getattr(record, name) for name in _AUDIT_COLUMNS})
        # Kept before the commit: should this transaction roll back, the next compare-and-set misses and reads.
        self._known_heads.remember(record.chain, AuditHead(record.seq, record.hash, record.chain))

    def _insert_audit_in_one(self, record: AuditRecord) -> None:
        """`insert_audit` in one statement (PostgreSQL): the head's write and the record's insert, the insert
        made only when the write matched; the same compare-and-set, one round trip instead of two."""
        values = {f"r_{name}": getattr(record, name) for name in _AUDIT_COLUMNS}
        if record.chain in self._fresh_chains and record.seq == 1:
            self._fresh_chains.discard(record.chain)
            _START_CHAIN_AND_RECORD.run(self.connection, dict(n_chain=record.chain, n_case_id=record.case_id,
                                                              n_seq=record.seq, n_hash=record.hash, **values))
        else:
            appended = _ADVANCE_CHAIN_AND_RECORD.run(self.connection, dict(
                b_chain=record.chain, b_seq=record.seq - 1, b_hash=record.prev_hash, n_seq=record.seq,
                n_hash=record.hash, **values))
            if appended.rowcount != 1:
                self._known_heads.pop(record.chain, None)
                raise AuditHeadMoved(record.chain)
        self._known_heads.remember(record.chain, AuditHead(record.seq, record.hash, record.chain))


def case_records_giving(detail_key: str) -> Precompiled:
    """The records of a case's chain (parameter `b_case`) whose detail gives `detail_key`, newest first.

    What the engine holds a row listed in a record's detail to (timers, a case's SLA clock: see
    `engine.sealed_rows`). The LIKE only narrows: each caller reads the key from the parsed detail.
    """
    return Precompiled(sa.select(audit_records).where(
        audit_records.c.chain == case_chain(sa.bindparam("b_case", type_=sa.Integer)),
        audit_records.c.detail.like(sql_text(f'%"{detail_key}"%'))).order_by(audit_records.c.id.desc()))
