"""The store's part for governed change: versions waiting for a second person.

Mixed into `SqlStore` (reads) and `SqlTransaction` (writes). Deciding is a conditional update
from pending, so two approvers at once decide a change once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from backoffice.engine.ports import StoredVersion, VersionChange
from backoffice.store.tables import definition_changes

PENDING = "pending"


class ChangeReads:
    """Reads of pending and decided changes."""

    engine: sa.Engine

    def changes(self, workflow: str | None = None, *, status: str | None = PENDING) -> Sequence[VersionChange]:
        query = sa.select(definition_changes).order_by(definition_changes.c.id)
        if workflow is not None:
            query = query.where(definition_changes.c.workflow == workflow)
        if status is not None:
            query = query.where(definition_changes.c.status == status)
        with self._connect() as connection:
            return [change_of(row) for row in connection.execute(query)]


class ChangeWrites:
    """Writes of changes, in the transaction of the deploy or decision that causes them."""

    connection: sa.Connection
    wrote: Callable[[sa.Table, Iterable[Any]], None]  # from AuditWrites, mixed in beside this class

    def insert_change(self, change: VersionChange) -> VersionChange:
        version = change.candidate
        result = self.connection.execute(sa.insert(definition_changes).values(
            workflow=version.workflow, version=version.version, content_hash=version.content_hash,
            definition_status=version.status, definition_json=version.definition_json, source=version.source,
            contract_name=version.contract_name, contract_source=version.contract_source, status=change.status,
            reasons=dict(change.reasons), requested_by=change.requested_by, requested_at=change.requested_at))
        self.wrote(definition_changes, [result.inserted_primary_key[0]])
        return VersionChange(**{**change.__dict__, "id": result.inserted_primary_key[0]})

    def locked_change(self, change_id: int) -> tuple[VersionChange, dict[str, Any]] | None:
        """Return a change and its row's values as stored (what its audit record sealed), locked until this
        transaction ends (FOR UPDATE on PostgreSQL; on SQLite the writing transaction holds the database)."""
        row = self.connection.execute(sa.select(definition_changes).where(definition_changes.c.id == change_id)
                                      .with_for_update()).first()
        return (change_of(row), dict(row._mapping)) if row is not None else None

    def decide_change(self, change_id: int, *, status: str, by: str, at: datetime, note: str | None) -> bool:
        result = self.connection.execute(
            sa.update(definition_changes)
            .where(definition_changes.c.id == change_id, definition_changes.c.status == PENDING)
            .values(status=status, decided_by=by, decided_at=at, note=note))
        if result.rowcount == 1:
            self.wrote(definition_changes, [change_id])
        return result.rowcount == 1


def change_of(row: sa.Row) -> VersionChange:
    candidate = StoredVersion(workflow=row.workflow, version=row.version, content_hash=row.content_hash,
                              definition_json=row.definition_json, source=row.source, status=row.definition_status,
                              deployed_at=row.requested_at, deployed_by=row.requested_by,
                              contract_source=row.contract_source, contract_name=row.contract_name)
    return VersionChange(candidate=candidate, status=row.status, reasons=row.reasons, requested_by=row.requested_by,
                         requested_at=row.requested_at, decided_by=row.decided_by, decided_at=row.decided_at,
                         note=row.note, id=row.id)
