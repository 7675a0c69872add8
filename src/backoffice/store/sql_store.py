"""The engine's store on SQLAlchemy Core: SQLite or PostgreSQL, one implementation.

Rows become the engine's frozen values here and nowhere else. A write the database refuses
is translated by the name of the constraint it broke into the domain's error (a retried
intake, a version deployed twice); every other database error is a bug or an outage and
propagates as it is.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from typing import Any

import sqlalchemy as sa

from backoffice.definitions.model import Priority
from backoffice.engine.audit import AuditRecord, chain_of
from backoffice.engine.cases import Case
from backoffice.engine.events import EngineEvent, Lifecycle
from backoffice.engine.ports import NewCase, StoredVersion
from backoffice.errors import DuplicateIdempotencyKey, StaleVersion, UnknownCase, VersionAlreadyDeployed
from backoffice.store.audit_store import AuditReads, AuditWrites, KnownHeads
from backoffice.store.branch_store import BranchReads, BranchWrites
from backoffice.store.change_store import ChangeReads, ChangeWrites
from backoffice.store.comment_store import CommentReads, CommentWrites
from backoffice.store.connect import DEFAULT_DATABASE, WRITE, create_engine, shown
from backoffice.store.directory_store import DirectoryReads, DirectoryWrites
from backoffice.store.group_commit import batch_connection, bound_to_thread
from backoffice.store.read_scope import release_shared_reader, shared_reader
from backoffice.store.migrate import migrate
from backoffice.store.outbox_store import OutboxReads, OutboxWrites
from backoffice.store.precompiled import Precompiled, case_chain, sql_text
from backoffice.store.timer_store import TimerReads, TimerWrites
from backoffice.store.work_search import WorkSearchReads
from backoffice.store.work_store import WorkReads, WorkWrites
from backoffice.store.tables import audit_records, cases, events, metadata, webhook_deliveries, workflow_versions

# The statements every change runs, built once and given their values as parameters: built per
# call with literal values, SQLAlchemy spends more time coercing and keying them than SQLite
# spends running them (benchmarks/profile_engine.py).
# Each write of a bound row returns the row as stored (RETURNING every column), so the audit
# record seals those values without reading the row again (see audit_store.AuditWrites.wrote).
# The hot ones run precompiled (store.precompiled): SQLAlchemy's SQL and type conversions, without its
# execution machinery per call.
_INSERT_EVENT = Precompiled(sa.insert(events).returning(*events.c))
_UPDATE_CASE_STATEMENT = sa.update(cases).where(cases.c.id == sa.bindparam("b_id"),
                                                cases.c.version == sa.bindparam("b_expected")).returning(*cases.c)
_UPDATE_CASE = Precompiled(_UPDATE_CASE_STATEMENT)
_SELECT_CASE = Precompiled(sa.select(cases).where(cases.c.id == sa.bindparam("b_id")))
# The case an act is about to act on, with the newest record of its chain that lists its row (the
# record that last wrote it): one statement, both by index (the case by id, the chain's records by
# (chain, seq) newest first, usually the first one). Every read of a case by the engine (see `case_as_written`).
# The chain's name and the row's mark are built in SQL from the case's own id, not given as parameters:
# SQLite prepares a statement again on every run when a parameter stands on the right of a LIKE, or is
# compared with the column of a partial index's condition (`chain`, by ix_audit_records_system_...), and
# preparing this join cost about 50 us of CPU on each run, five times running it.
_CASE_ID_TEXT = sa.cast(cases.c.id, sa.Text)
_WRITER_ID = (sa.select(audit_records.c.id)
              .where(audit_records.c.chain == case_chain(cases.c.id),
                     audit_records.c.rows.like(sql_text(f'%["{cases.name}",') + _CASE_ID_TEXT + sql_text(",%")))
              .order_by(audit_records.c.seq.desc()).limit(1).correlate(cases).scalar_subquery())
_SELECT_CASE_AND_WRITER = Precompiled(
    sa.select(*cases.c, *(column.label(f"w_{column.name}") for column in audit_records.c))
    .select_from(cases.outerjoin(audit_records, audit_records.c.id == _WRITER_ID))
    .where(cases.c.id == sa.bindparam("b_id")))
_CASE_COLUMNS = tuple(cases.c.keys())
_RECORD_COLUMNS = tuple(audit_records.c.keys())
# A case's timeline (every case shown over HTTP reads it): precompiled, some 90 us of CPU less than executed.
_SELECT_EVENTS = Precompiled(sa.select(events).where(events.c.case_id == sa.bindparam("b_case")).order_by(events.c.id))
_VERSION_ID = sa.select(workflow_versions.c.id).where(
    workflow_versions.c.workflow == sa.bindparam("b_workflow"),
    workflow_versions.c.version == sa.bindparam("b_version")).scalar_subquery()
# The version numbers alone: a deployed version's content never changes, so the engine keeps it
# built once (Engine.running) and needs only to know which number is the latest.
_LATEST_NUMBER = Precompiled(sa.select(sa.func.max(workflow_versions.c.version)).where(
    workflow_versions.c.workflow == sa.bindparam("b_workflow")))
_WORKFLOW_NAMES = Precompiled(sa.select(workflow_versions.c.workflow).distinct().order_by(workflow_versions.c.workflow))
_INSERT_CASE = Precompiled(sa.insert(cases).values(workflow_version_id=_VERSION_ID).returning(*cases.c))
_MOVE_CASE_TO_VERSION = _UPDATE_CASE_STATEMENT.values(workflow_version_id=_VERSION_ID)

UNIQUE_KEY = "uq_cases_workflow_idempotency_key"
UNIQUE_VERSION = "uq_workflow_versions_workflow_version"


# How often a store deletes the webhook deliveries that can no longer be sent again.
DELIVERIES_FORGOTTEN_EVERY = timedelta(minutes=1)


class SqlStore(WorkReads, WorkSearchReads, OutboxReads, TimerReads, ChangeReads, DirectoryReads, AuditReads,
               CommentReads, BranchReads):
    """The engine's storage in one SQL database (see `backoffice.engine.ports.Store`)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._known_heads = KnownHeads()
        self._open = threading.local()  # this thread's open transactions (see `case_as_written`)
        self._deliveries_forgotten_at: datetime | None = None  # see `claim_webhook_delivery`

    @classmethod
    def open(cls, target: str | Path = DEFAULT_DATABASE, *, upgrade: bool = True) -> SqlStore:
        """Open the database at a file path or URL, migrating its tables to the newest revision first.

        Raises:
            DatabaseUnavailable: the database cannot be reached or opened.
        """
        engine = create_engine(target)
        if upgrade:
            migrate(engine)
        return cls(engine)

    @property
    def url(self) -> str:
        """The database URL, without its password."""
        return shown(self.engine.url.render_as_string(hide_password=False))

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> SqlStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- writes ---

    @contextmanager
    def transaction(self, *, audited: bool = True) -> Iterator[SqlTransaction]:
        """Open a writing transaction: committed when the block ends, rolled back when it raises.

        A transaction that writes bound rows (see audit_store.BOUND_TABLES) must end with the audit
        record that binds them, or it is rolled back. Only the store's own tests pass audited=False:
        `audit verify` names the rows such a transaction writes as added outside the engine.
        """
        with self._writing() as connection:
            tx = SqlTransaction(connection, self._known_heads)
            if not hasattr(self._open, "txs"):
                self._open.txs = []
            self._open.txs.append(tx)
            try:
                yield tx
            finally:
                self._open.txs.remove(tx)
            unbound = tx.unbound_writes()
            if unbound and audited:
                # A bug, not a user's mistake: every change to a bound row ends with its audit record.
                raise RuntimeError(f"rows written without an audit record after them: {', '.join(unbound)}; "
                                   f"the change is rolled back")

    @contextmanager
    def _writing(self) -> Iterator[sa.Connection]:
        """A connection in a new writing transaction; inside a group commit's batch (or another writing
        transaction of this thread), in a SAVEPOINT of that transaction instead (undone alone when the
        block raises, committed with the rest).

        While it is open, the store's reads on this thread go through it (`_connect`): an operation
        that reads what it checks in its own transaction sees its own writes, and opens no second
        transaction to read."""
        shared = batch_connection(self)
        if shared is not None:
            with _savepoint(shared):
                yield shared
            return
        # Never wait for a connection to write with while holding the request's reader (store.read_scope).
        release_shared_reader(self.engine)
        with self.engine.connect().execution_options(**{WRITE: True}) as connection, connection.begin(), \
                bound_to_thread(self, connection):
            yield connection

    def _connect(self) -> AbstractContextManager[sa.Connection]:
        """A connection to read with: the writing transaction's (or a group commit batch's) when this thread has one
        open (it sees the changes made so far), the request's inside `read_scope.shared_reads` (one per request,
        not per read), else a new one."""
        shared = batch_connection(self)
        if shared is None:
            shared = shared_reader(self.engine)
        return nullcontext(shared) if shared is not None else self.engine.connect()

    # --- reads ---

    def version(self, workflow: str, version: int | None = None) -> StoredVersion | None:
        query = sa.select(workflow_versions).where(workflow_versions.c.workflow == workflow)
        if version is None:
            query = query.order_by(workflow_versions.c.version.desc()).limit(1)
        else:
            query = query.where(workflow_versions.c.version == version)
        with self._connect() as connection:
            row = connection.execute(query).first()
        return _version(row) if row is not None else None

    def latest_version_number(self, workflow: str) -> int | None:
        with self._connect() as connection:
            return _LATEST_NUMBER.run(connection, dict(b_workflow=workflow)).scalar()

    def workflow_names(self) -> Sequence[str]:
        with self._connect() as connection:
            return _WORKFLOW_NAMES.run(connection).scalars()

    def versions(self, workflow: str | None = None) -> Sequence[StoredVersion]:
        query = sa.select(workflow_versions).order_by(workflow_versions.c.workflow, workflow_versions.c.version)
        if workflow is not None:
            query = query.where(workflow_versions.c.workflow == workflow)
        with self._connect() as connection:
            return [_version(row) for row in connection.execute(query)]

    def case(self, case_id: int) -> Case | None:
        with self._connect() as connection:
            row = _SELECT_CASE.run(connection, dict(b_id=case_id)).first()
        return _case(row) if row is not None else None

    def case_as_written(self, case_id: int) -> tuple[Case, dict[str, Any] | None, AuditRecord | None] | None:
        """Return a case to act on, its row's values as they are now, and the newest record of its chain that
        lists that row (None: no record does); or None when there is no such case.

        The values are None when an open transaction of this thread wrote the row and has not yet
        recorded it: the engine wrote it, in this very act, after checking it.
        """
        with self._connect() as connection:
            row = _SELECT_CASE_AND_WRITER.run(connection, dict(b_id=case_id)).first()
        if row is None:
            return None
        case = _case(row)
        if any(case_id in tx.pending_writes(cases.name) for tx in getattr(self._open, "txs", ())):
            return case, None, None
        mapping = row._mapping
        writer = None
        if row.w_id is not None:
            writer = AuditRecord(**{name: mapping[f"w_{name}"] for name in _RECORD_COLUMNS})
        return case, {name: mapping[name] for name in _CASE_COLUMNS}, writer

    def claim_webhook_delivery(self, source: str, signature_sha256: str, *, workflow: str, idempotency_key: str,
                               at: datetime, forget_received_before: datetime | None = None) -> tuple[str, str]:
        """Record a signed delivery on its first use; return the (workflow, idempotency key) it was first used for.

        A delivery sent again (a retry, or a replay) answers with what it was first sent for, so
        the caller can tell an exact replay from one aimed at another workflow or key.

        Args:
            forget_received_before: deliveries received before this moment can no longer be
                sent again (their timestamp is outside the replay window), so their rows are
                deleted, in the same transaction, at most once a minute of `at` per store:
                without it the table grows by every delivery ever received.
        """
        values = dict(source=source, signature_sha256=signature_sha256, workflow=workflow,
                      idempotency_key=idempotency_key, received_at=at)
        last = self._deliveries_forgotten_at
        forget = forget_received_before is not None and (last is None or at - last >= DELIVERIES_FORGOTTEN_EVERY)
        try:
            with self.transaction() as tx:
                tx.connection.execute(sa.insert(webhook_deliveries).values(**values))
                if forget:
                    tx.connection.execute(sa.delete(webhook_deliveries).where(
                        webhook_deliveries.c.received_at < forget_received_before))
            if forget:
                self._deliveries_forgotten_at = at
            return workflow, idempotency_key
        except sa.exc.IntegrityError:
            # The same delivery came before (or at the same time, through another process): read what it was.
            query = sa.select(webhook_deliveries.c.workflow, webhook_deliveries.c.idempotency_key).where(
                webhook_deliveries.c.source == source, webhook_deliveries.c.signature_sha256 == signature_sha256)
            with self._connect() as connection:
                row = connection.execute(query).one()
            return row.workflow, row.idempotency_key

    def case_by_key(self, workflow: str, idempotency_key: str) -> tuple[Case, str | None] | None:
        query = sa.select(cases).where(cases.c.workflow == workflow, cases.c.idempotency_key == idempotency_key)
        with self._connect() as connection:
            row = connection.execute(query).first()
        return (_case(row), row.intake_hash) if row is not None else None

    def cases(self, *, workflow: str | None = None, state: str | None = None, queue: str | None = None,
              after_id: int = 0, limit: int = 100) -> Sequence[Case]:
        query = sa.select(cases).where(cases.c.id > after_id).order_by(cases.c.id).limit(limit)
        for column, value in ((cases.c.workflow, workflow), (cases.c.state, state), (cases.c.queue, queue)):
            if value is not None:
                query = query.where(column == value)
        with self._connect() as connection:
            return [_case(row) for row in connection.execute(query)]

    def events(self, case_id: int) -> Sequence[EngineEvent]:
        with self._connect() as connection:
            return [_event(row) for row in _SELECT_EVENTS.run(connection, {"b_case": case_id})]



class SqlTransaction(WorkWrites, OutboxWrites, TimerWrites, ChangeWrites, DirectoryWrites, AuditWrites,
                     CommentWrites, BranchWrites):
    """The writes of one change, on one connection inside one transaction."""

    def __init__(self, connection: sa.Connection, known_heads: KnownHeads | None = None) -> None:
        self.connection = connection
        self._known_heads = known_heads if known_heads is not None else KnownHeads()
        self._written: dict[str, dict] = {}
        self._fresh_chains: set[str] = set()

    def insert_version(self, version: StoredVersion) -> StoredVersion:
        values = {name: getattr(version, name) for name in workflow_versions.c.keys() if name != "id"}
        try:
            result = self.connection.execute(sa.insert(workflow_versions).values(**values))
        except sa.exc.IntegrityError as exc:
            if constraint_name(exc) == UNIQUE_VERSION:
                raise VersionAlreadyDeployed(version.workflow, version.version, version.version) from exc
            raise
        self.wrote(workflow_versions, result.inserted_primary_key)
        return replace(version, id=result.inserted_primary_key[0])

    def insert_case(self, case: NewCase) -> Case:
        values = dict(workflow=case.workflow, definition_version=case.definition_version,
                      b_workflow=case.workflow, b_version=case.definition_version,
                      state=case.state, previous_state=None, data=dict(case.data),
                      priority=str(case.priority), queue=case.queue, owner=case.owner, requester=case.requester,
                      version=1, idempotency_key=case.idempotency_key, intake_hash=case.intake_hash,
                      created_at=case.created_at, updated_at=case.created_at, duplicate_key=case.duplicate_key,
                      parent_id=case.parent_id, parent_state=case.parent_state, branch=case.branch)
        try:
            result = _INSERT_CASE.run(self.connection, values)
        except sa.exc.IntegrityError as exc:
            if constraint_name(exc) == UNIQUE_KEY:
                raise DuplicateIdempotencyKey(case.workflow, case.idempotency_key or "") from exc
            raise
        row = result.one()
        self.wrote(cases, [row.id], [row])
        self.no_clock_yet(row.id)
        self._fresh_chains.add(chain_of(row.id))
        return Case(id=row.id, workflow=case.workflow,
                    definition_version=case.definition_version, state=case.state, data=case.data,
                    requester=case.requester, created_at=case.created_at, updated_at=case.created_at, version=1,
                    priority=case.priority, queue=case.queue, owner=case.owner,
                    idempotency_key=case.idempotency_key, parent_id=case.parent_id,
                    parent_state=case.parent_state, branch=case.branch)

    def earlier_duplicate(self, workflow: str, duplicate_key: str, *, since: datetime | None) -> int | None:
        if self.connection.dialect.name == "postgresql":
            # Serializes intakes of the same key (SQLite's writing transaction holds the whole file).
            self.connection.execute(sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"),
                                    {"key": f"{workflow}/{duplicate_key}"})
        query = sa.select(cases.c.id).where(cases.c.workflow == workflow, cases.c.duplicate_key == duplicate_key)
        if since is not None:
            query = query.where(cases.c.created_at >= since)
        return self.connection.execute(query.order_by(cases.c.id).limit(1)).scalar()

    def update_case(self, case: Case, *, expected_version: int) -> Case:
        # The version in the WHERE clause is the real guard: two writers that both read version
        # N cannot both move it to N + 1, whatever the engine checked before.
        row = _UPDATE_CASE.run(self.connection, dict(
            b_id=case.id, b_expected=expected_version, state=case.state, previous_state=case.previous_state,
            data=dict(case.data), priority=str(case.priority), queue=case.queue, owner=case.owner,
            updated_at=case.updated_at, version=expected_version + 1)).first()
        if row is None:
            self._refuse_stale(case, expected_version)
        self.wrote(cases, [case.id], [row])
        return replace(case, version=expected_version + 1)

    def move_case_to_version(self, case: Case, *, expected_version: int) -> Case:
        """Put a case on another deployed version of its workflow (`case.definition_version`), as a change."""
        row = self.connection.execute(_MOVE_CASE_TO_VERSION, dict(
            b_id=case.id, b_expected=expected_version, b_workflow=case.workflow, b_version=case.definition_version,
            definition_version=case.definition_version, updated_at=case.updated_at,
            version=expected_version + 1)).first()
        if row is None:
            self._refuse_stale(case, expected_version)
        self.wrote(cases, [case.id], [row])
        return replace(case, version=expected_version + 1)

    def _refuse_stale(self, case: Case, expected_version: int) -> None:
        """Say why a conditional update of a case changed no row."""
        actual = self.connection.execute(sa.select(cases.c.version).where(cases.c.id == case.id)).scalar()
        if actual is None:
            raise UnknownCase(case.id)
        raise StaleVersion(case_id=case.id, expected=expected_version, actual=actual)

    def insert_event(self, event: EngineEvent) -> EngineEvent:
        values = dict(case_id=event.case_id, activity=event.activity, timestamp=event.timestamp,
                      resource=event.resource, role=event.role, system=event.system, lifecycle=str(event.lifecycle),
                      reason=event.reason, workflow=event.workflow, version=event.version,
                      attributes=dict(event.attributes), branch=event.branch)
        row = _INSERT_EVENT.run(self.connection, values).one()
        self.wrote(events, [row.id], [row])
        return replace(event, id=row.id)


_savepoint_depth = threading.local()


def _savepoint_statements(depth: int) -> tuple[Precompiled, Precompiled, Precompiled]:
    name = f"backoffice_change_{depth}"
    return (Precompiled(sa.text(f"SAVEPOINT {name}")), Precompiled(sa.text(f"RELEASE SAVEPOINT {name}")),
            Precompiled(sa.text(f"ROLLBACK TO SAVEPOINT {name}")))


_SAVEPOINTS = [_savepoint_statements(depth) for depth in range(8)]


@contextmanager
def _savepoint(connection: sa.Connection) -> Iterator[None]:
    """A SAVEPOINT around one change inside a batch (or another change of this thread): undone alone when
    the block raises, released (kept, to commit with the rest) when it ends.

    What `Connection.begin_nested` does, with each savepoint's statements precompiled: a group commit runs
    two of them per change. Named by depth, so one change inside another has its own.
    """
    depth = getattr(_savepoint_depth, "value", 0)
    statements = _SAVEPOINTS[depth] if depth < len(_SAVEPOINTS) else _savepoint_statements(depth)
    begin, release, undo = statements
    begin.run(connection)
    _savepoint_depth.value = depth + 1
    try:
        yield
    except BaseException:
        undo.run(connection)
        raise
    else:
        release.run(connection)
    finally:
        _savepoint_depth.value = depth


def constraint_name(exc: sa.exc.IntegrityError) -> str | None:
    """Return the name of the constraint a refused write broke, on PostgreSQL and SQLite alike."""
    diagnostics = getattr(exc.orig, "diag", None)
    if diagnostics is not None:  # psycopg names it
        return diagnostics.constraint_name
    # SQLite names the columns instead: "UNIQUE constraint failed: cases.workflow, cases.idempotency_key".
    match = re.search(r"UNIQUE constraint failed: (.+)$", str(exc.orig))
    if match is None:
        return None
    table_name, columns = None, []
    for qualified in match[1].split(","):
        table_name, _, column = qualified.strip().partition(".")
        columns.append(column)
    table = metadata.tables.get(table_name or "")
    for constraint in table.constraints if table is not None else ():
        if isinstance(constraint, (sa.UniqueConstraint, sa.PrimaryKeyConstraint)) \
                and [column.name for column in constraint.columns] == columns:
            return str(constraint.name)
    return None


def _version(row: sa.Row) -> StoredVersion:
    return StoredVersion(**row._mapping)


def _case(row: sa.Row) -> Case:
    return Case(id=row.id, workflow=row.workflow, definition_version=row.definition_version, state=row.state,
                data=row.data, requester=row.requester, created_at=row.created_at, updated_at=row.updated_at,
                version=row.version, previous_state=row.previous_state, priority=Priority(row.priority),
                queue=row.queue, owner=row.owner, idempotency_key=row.idempotency_key, parent_id=row.parent_id,
                parent_state=row.parent_state, branch=row.branch)


def _event(row: sa.Row) -> EngineEvent:
    return EngineEvent(case_id=row.case_id, activity=row.activity, timestamp=row.timestamp, workflow=row.workflow,
                       version=row.version, resource=row.resource, role=row.role, system=row.system,
                       lifecycle=Lifecycle(row.lifecycle), reason=row.reason, attributes=row.attributes,
                       id=row.id, branch=row.branch)
