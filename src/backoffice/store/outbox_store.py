"""The store's part for the outbox and the workflows' manual mode.

Mixed into `SqlStore` (reads) and `SqlTransaction` (writes). Claiming is a lease: a worker
sets `status = 'running'` and `lease_expires_at`; a worker that dies leaves the lease to run
out, and the entry is claimed again (at least once). On PostgreSQL the worker picks its rows
with FOR UPDATE SKIP LOCKED, so concurrent workers take different entries instead of waiting
on one; on SQLite the writing transaction (BEGIN IMMEDIATE) has the database to itself, and
the conditional UPDATE is the guard on both.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from backoffice.engine.outbox import NewOutboxEntry, OutboxEntry, OutboxKind, OutboxStatus
from backoffice.store.tables import outbox, workflow_modes

PENDING, RUNNING, DONE, DEAD, MANUAL, IN_DOUBT = (str(status) for status in (
    OutboxStatus.PENDING, OutboxStatus.RUNNING, OutboxStatus.DONE, OutboxStatus.DEAD, OutboxStatus.MANUAL,
    OutboxStatus.IN_DOUBT))
ENTRY_FIELDS = frozenset(field.name for field in fields(OutboxEntry))


def _due(now: datetime) -> sa.ColumnElement[bool]:
    # A step whose lease lapsed while it ran is never simply taken again: its call may have
    # reached the other system, so it goes to people as "in doubt" (see `lapsed_steps`). A
    # notification is only a message to people: it is delivered again.
    return sa.or_(sa.and_(outbox.c.status == PENDING, outbox.c.next_attempt_at <= now),
                  sa.and_(outbox.c.status == RUNNING, outbox.c.lease_expires_at < now,
                          outbox.c.kind == str(OutboxKind.NOTIFICATION)))


def _lapsed_step(now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(outbox.c.status == RUNNING, outbox.c.lease_expires_at < now,
                   outbox.c.kind == str(OutboxKind.STEP))


class OutboxReads:
    """Reads of the outbox and of modes."""

    engine: sa.Engine

    def outbox_entry(self, entry_id: int) -> OutboxEntry | None:
        with self._connect() as connection:
            row = connection.execute(sa.select(outbox).where(outbox.c.id == entry_id)).first()
        return outbox_entry_of(row) if row is not None else None

    def outbox_entries(self, *, status: OutboxStatus | None = None, case_id: int | None = None,
                       after_id: int = 0, limit: int = 100) -> Sequence[OutboxEntry]:
        query = sa.select(outbox).where(outbox.c.id > after_id).order_by(outbox.c.id).limit(limit)
        if status is not None:
            query = query.where(outbox.c.status == str(status))
        if case_id is not None:
            query = query.where(outbox.c.case_id == case_id)
        with self._connect() as connection:
            return [outbox_entry_of(row) for row in connection.execute(query)]

    def mode_row(self, workflow: str) -> dict[str, Any] | None:
        with self._connect() as connection:
            return _mode_row(connection, workflow)

    def lapsed_steps(self, now: datetime, *, limit: int = 100) -> Sequence[OutboxEntry]:
        """Return steps still running whose lease ran out before `now`: their worker died or hung mid-call."""
        query = sa.select(outbox).where(_lapsed_step(now)).order_by(outbox.c.id).limit(limit)
        with self._connect() as connection:
            return [outbox_entry_of(row) for row in connection.execute(query)]

    def due_elsewhere(self, now: datetime, actions: Collection[str]) -> dict[str, int]:
        """Return, by action, how many steps are due at `now` whose action is not among `actions`."""
        query = sa.select(outbox.c.action, sa.func.count()).where(
            outbox.c.status == PENDING, outbox.c.next_attempt_at <= now,
            outbox.c.kind == str(OutboxKind.STEP), outbox.c.action.not_in(list(actions))).group_by(outbox.c.action)
        with self._connect() as connection:
            return {action: count for action, count in connection.execute(query)}


class OutboxWrites:
    """Writes of the outbox and of modes, inside one transaction."""

    connection: sa.Connection

    def insert_outbox(self, entry: NewOutboxEntry) -> OutboxEntry:
        values = dict(case_id=entry.case_id, workflow=entry.workflow, state=entry.state, action=entry.action,
                      idempotency_key=entry.idempotency_key, status=PENDING, attempts=0,
                      max_attempts=entry.max_attempts, next_attempt_at=entry.created_at,
                      created_at=entry.created_at, kind=str(entry.kind),
                      payload=dict(entry.payload) if entry.payload is not None else None)
        result = self.connection.execute(sa.insert(outbox).values(**values))
        return OutboxEntry(id=result.inserted_primary_key[0], case_id=entry.case_id, workflow=entry.workflow,
                           state=entry.state, action=entry.action, idempotency_key=entry.idempotency_key,
                           status=OutboxStatus.PENDING, attempts=0, max_attempts=entry.max_attempts,
                           next_attempt_at=entry.created_at, created_at=entry.created_at, kind=entry.kind,
                           payload=entry.payload)

    def claim_outbox(self, *, worker: str, now: datetime, until: datetime, limit: int,
                     kinds: Collection[OutboxKind] = tuple(OutboxKind),
                     actions: Collection[str] | None = None) -> Sequence[OutboxEntry]:
        """Lease up to `limit` due entries of these kinds (and actions, when given) to `worker` until `until`."""
        picked = sa.select(outbox.c.id).where(_due(now), outbox.c.kind.in_([str(kind) for kind in kinds])) \
            .order_by(outbox.c.next_attempt_at, outbox.c.id).limit(limit)
        if actions is not None:
            # A worker leaves steps it has no action for to a worker that has it.
            picked = picked.where(outbox.c.action.in_(list(actions)))
        if self.connection.dialect.name == "postgresql":
            picked = picked.with_for_update(skip_locked=True)
        ids = list(self.connection.execute(picked).scalars())
        if not ids:
            return []
        # The condition again: only rows still due are taken, whatever was read above.
        self.connection.execute(
            sa.update(outbox).where(outbox.c.id.in_(ids), _due(now))
            .values(status=RUNNING, attempts=outbox.c.attempts + 1, claimed_by=worker, lease_expires_at=until))
        rows = self.connection.execute(sa.select(outbox).where(outbox.c.id.in_(ids), outbox.c.claimed_by == worker,
                                                               outbox.c.lease_expires_at == until)
                                       .order_by(outbox.c.id))
        return [outbox_entry_of(row) for row in rows]

    def finish_outbox(self, entry: OutboxEntry, *, status: OutboxStatus, at: datetime,
                      error: str | None = None, next_attempt_at: datetime | None = None,
                      payload: Mapping[str, Any] | None = None) -> bool:
        """Settle a claimed attempt (done, dead, or pending again); False when the claim was lost meanwhile."""
        values: dict[str, object] = dict(status=str(status), claimed_by=None, lease_expires_at=None)
        if payload is not None:
            values["payload"] = dict(payload)
        if status in (OutboxStatus.DONE, OutboxStatus.DEAD, OutboxStatus.MANUAL):
            values["finished_at"] = at
        if error is not None:
            values["last_error"] = error
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        result = self.connection.execute(
            sa.update(outbox).where(outbox.c.id == entry.id, outbox.c.status == RUNNING,
                                    outbox.c.claimed_by == entry.claimed_by, outbox.c.attempts == entry.attempts)
            .values(**values))
        return result.rowcount == 1

    def renew_outbox_lease(self, entry: OutboxEntry, *, until: datetime) -> bool:
        """Extend a held lease while its action runs; False when the claim was lost meanwhile."""
        result = self.connection.execute(
            sa.update(outbox).where(outbox.c.id == entry.id, outbox.c.status == RUNNING,
                                    outbox.c.claimed_by == entry.claimed_by, outbox.c.attempts == entry.attempts)
            .values(lease_expires_at=until))
        return result.rowcount == 1

    def mark_in_doubt(self, entry: OutboxEntry, *, at: datetime, error: str) -> bool:
        """Set a running attempt aside as in doubt (its outcome is unknown); False when it was settled meanwhile."""
        result = self.connection.execute(
            sa.update(outbox).where(outbox.c.id == entry.id, outbox.c.status == RUNNING,
                                    outbox.c.claimed_by == entry.claimed_by, outbox.c.attempts == entry.attempts)
            .values(status=IN_DOUBT, claimed_by=None, lease_expires_at=None, last_error=error))
        return result.rowcount == 1

    def settle_in_doubt(self, entry_id: int, *, status: OutboxStatus, at: datetime, note: str,
                        attempts: int | None = None) -> bool:
        """Settle an entry in doubt as a person confirmed it (done, pending again, or manual); False when not in doubt."""
        values: dict[str, object] = dict(status=str(status), last_error=note)
        if status is OutboxStatus.PENDING:
            values.update(next_attempt_at=at, finished_at=None)
        else:
            values["finished_at"] = at
        if attempts is not None:
            values["attempts"] = attempts
        result = self.connection.execute(
            sa.update(outbox).where(outbox.c.id == entry_id, outbox.c.status == IN_DOUBT).values(**values))
        return result.rowcount == 1

    def close_pending_steps(self, case_id: int, state: str, *, at: datetime, why: str) -> int:
        """Settle a case's pending steps of `state` as done without running them (the case left); return how many."""
        result = self.connection.execute(
            sa.update(outbox).where(outbox.c.case_id == case_id, outbox.c.state == state,
                                    outbox.c.kind == str(OutboxKind.STEP), outbox.c.status == PENDING)
            .values(status=DONE, finished_at=at, last_error=why))
        return result.rowcount

    def requeue_outbox(self, entry_id: int, *, at: datetime) -> bool:
        """Put a dead entry back as pending with fresh attempts and its key unchanged; False when not dead."""
        result = self.connection.execute(
            sa.update(outbox).where(outbox.c.id == entry_id, outbox.c.status == DEAD)
            .values(status=PENDING, attempts=0, next_attempt_at=at, finished_at=None, claimed_by=None,
                    lease_expires_at=None))
        return result.rowcount == 1

    def mode_row(self, workflow: str) -> dict[str, Any] | None:
        return _mode_row(self.connection, workflow)

    def set_manual_mode(self, workflow: str, manual: bool, *, by: str, at: datetime) -> None:
        values = dict(manual=manual, changed_by=by, changed_at=at)
        updated = self.connection.execute(sa.update(workflow_modes).where(workflow_modes.c.workflow == workflow)
                                          .values(**values))
        if updated.rowcount == 0:
            self.connection.execute(sa.insert(workflow_modes).values(workflow=workflow, **values))
        self.wrote(workflow_modes, [workflow])


def _mode_row(connection: sa.Connection, workflow: str) -> dict[str, Any] | None:
    # The whole row, as the audit record that wrote it sealed it: the engine holds it to that record.
    row = connection.execute(sa.select(workflow_modes).where(workflow_modes.c.workflow == workflow)).first()
    return dict(row._mapping) if row is not None else None


def outbox_entry_of(row: sa.Row) -> OutboxEntry:
    """Return the entry a row of the outbox stores.

    Only the columns `OutboxEntry` declares are read: a column a later migration adds (the
    table is shared with other kinds of messages) must not break the reading of steps.
    """
    values = {name: value for name, value in row._mapping.items() if name in ENTRY_FIELDS}
    return OutboxEntry(**{**values, "status": OutboxStatus(values["status"]), "kind": OutboxKind(values["kind"])})
