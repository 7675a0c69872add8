"""The store's part for timers (reminders and escalations).

Mixed into `SqlStore` (reads) and `SqlTransaction` (writes). Settling is a conditional update
from pending, so a timer fires once however many workers tick at the same moment.

Every write returns the row as it left it, and the change's next audit record of the timer's case
lists it (`written_timers`, under the detail's `timer_rows`): what the engine holds a timer to before
it fires it (see `engine.sealed_rows.timer_row_problem`). Timers are not among the tables `audit
verify` holds, so the listing sits in the detail rather than in the record's rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from backoffice.definitions.model import Priority, TimerKind
from backoffice.engine.audit import AuditRecord, RowSeal, seal_row
from backoffice.engine.sealed_rows import TIMER_ROWS
from backoffice.engine.tasks import PRIORITY_RANK, TaskStatus
from backoffice.engine.timers import NewTimer, ScheduledTimer, TimerClock, TimerStatus
from backoffice.store.audit_store import case_records_giving
from backoffice.store.precompiled import Precompiled
from backoffice.store.tables import audit_records, tasks, timers

PENDING = str(TimerStatus.PENDING)


# A case's timers (showing a case, moving one): precompiled, some 90 us of CPU less than executed.
# Every timer a case is given, returned whole: its record lists it as written (see `written_timers`).
_INSERT_TIMER = Precompiled(sa.insert(timers).returning(*timers.c))
# Run for every timer fired: the timer held to the records of its case that list timers (see `timer_as_written`).
_SELECT_TIMER = Precompiled(sa.select(timers).where(timers.c.id == sa.bindparam("b_id")))
_TIMER_LISTINGS = case_records_giving(TIMER_ROWS)
_SETTLE_TIMER = Precompiled(sa.update(timers).where(timers.c.id == sa.bindparam("b_id"),
                                                    timers.c.status == sa.bindparam("b_pending"))
                            .returning(*timers.c))
_LISTED = f'%"{TIMER_ROWS}"%'
_SELECT_CASE_TIMERS = Precompiled(sa.select(timers).where(timers.c.case_id == sa.bindparam("b_case")).order_by(timers.c.id))

class TimerReads:
    """Reads of timers."""

    engine: sa.Engine

    def timers(self, case_id: int) -> Sequence[ScheduledTimer]:
        with self._connect() as connection:
            return [timer_of(row) for row in _SELECT_CASE_TIMERS.run(connection, {"b_case": case_id})]

    def due_timers(self, now: datetime, *, limit: int = 100,
                   after: tuple[datetime, int] | None = None) -> Sequence[ScheduledTimer]:
        query = (sa.select(timers).where(timers.c.status == PENDING, timers.c.due_at <= now)
                 .order_by(timers.c.due_at, timers.c.id).limit(limit))
        if after is not None:
            due_at, timer_id = after
            query = query.where(sa.or_(timers.c.due_at > due_at,
                                       sa.and_(timers.c.due_at == due_at, timers.c.id > timer_id)))
        with self._connect() as connection:
            return [timer_of(row) for row in connection.execute(query)]

    def timer_as_written(self, timer_id: int) -> tuple[ScheduledTimer, RowSeal, list[AuditRecord]] | None:
        """Return a timer, its row sealed as it is now, and the records of its case's chain that list timers, newest
        first; None when there is no such timer."""
        with self._connect() as connection:
            row = _SELECT_TIMER.run(connection, {"b_id": timer_id}).first()
            if row is None:
                return None
            records = _TIMER_LISTINGS.run(connection, {"b_case": row.case_id}).all()
        return (timer_of(row), seal_row(timers.name, row.id, dict(row._mapping), case_id=row.case_id),
                [AuditRecord(**record._mapping) for record in records])

    def pending_timer_rows(self, case_ids: Sequence[int]) -> list[RowSeal]:
        """Return the pending timers of these cases, each sealed as it is now (what `audit verify` holds)."""
        with self._connect() as connection:
            rows = connection.execute(sa.select(timers).where(timers.c.case_id.in_(list(case_ids)),
                                                              timers.c.status == PENDING).order_by(timers.c.id)).all()
        return [seal_row(timers.name, row.id, dict(row._mapping), case_id=row.case_id) for row in rows]

    def first_timer_listings(self, *, limit: int = 20) -> list[AuditRecord]:
        """Return the earliest records that list timers (in order of arrival): where sealed timers begin."""
        with self._connect() as connection:
            rows = connection.execute(sa.select(audit_records).where(audit_records.c.detail.like(_LISTED))
                                      .order_by(audit_records.c.id).limit(limit)).all()
        return [AuditRecord(**row._mapping) for row in rows]


class TimerWrites:
    """Writes of timers, inside the transaction of the change that causes them."""

    connection: sa.Connection

    def insert_timer(self, timer: NewTimer) -> None:
        row = _INSERT_TIMER.run(self.connection, dict(
            case_id=timer.case_id, workflow=timer.workflow, timer=timer.timer, name=timer.name,
            kind=str(timer.kind), clock=str(timer.clock), state=timer.state, status=PENDING, due_at=timer.due_at,
            created_at=timer.created_at)).one()
        self._wrote_timers([row], inserted=True)

    def case_timers(self, case_id: int) -> Sequence[ScheduledTimer]:
        rows = self.connection.execute(sa.select(timers).where(timers.c.case_id == case_id).order_by(timers.c.id))
        return [timer_of(row) for row in rows]

    def pending_timers(self, case_id: int) -> Sequence[ScheduledTimer]:
        rows = self.connection.execute(sa.select(timers).where(timers.c.case_id == case_id,
                                                               timers.c.status == PENDING).order_by(timers.c.id))
        return [timer_of(row) for row in rows]

    def cancel_timers(self, case_id: int, *, at: datetime, clock: TimerClock | None = None,
                      state: str | None = None) -> int:
        """Cancel a case's pending timers (those of one clock, and one state, when given); return how many."""
        query = sa.update(timers).where(timers.c.case_id == case_id, timers.c.status == PENDING)
        if clock is not None:
            query = query.where(timers.c.clock == str(clock))
        if state is not None:
            query = query.where(timers.c.state == state)
        rows = self.connection.execute(query.values(status=str(TimerStatus.CANCELLED), settled_at=at)
                                       .returning(*timers.c)).all()
        self._wrote_timers(rows)
        return len(rows)

    def set_timer_due(self, timer_id: int, due_at: datetime | None) -> None:
        self._wrote_timers(self.connection.execute(
            sa.update(timers).where(timers.c.id == timer_id, timers.c.status == PENDING).values(due_at=due_at)
            .returning(*timers.c)).all())

    def settle_timer(self, timer_id: int, *, status: TimerStatus, at: datetime) -> bool:
        """Settle a pending timer; False when it was settled meanwhile (nothing is changed)."""
        rows = _SETTLE_TIMER.run(self.connection, {"b_id": timer_id, "b_pending": PENDING, "status": str(status),
                                                   "settled_at": at}).all()
        self._wrote_timers(rows)
        return len(rows) == 1

    def written_timers(self, case_id: int | None) -> list[list[object]]:
        """Return the timers of this case written since its last audit record, as that record lists them:
        [[id, digest, {field: short digest}, inserted], ...] by id (none: nothing to list, the common case)."""
        written = self.__dict__.get("_timer_rows")
        if not written:
            return []
        listed = []
        for key in sorted(key for key, (row, _) in written.items() if row.case_id == case_id):
            row, inserted = written.pop(key)
            listed.append([*seal_row(timers.name, key, dict(row._mapping), case_id=case_id).listed()[1:], inserted])
        return listed

    def _wrote_timers(self, rows: Sequence[sa.Row], *, inserted: bool = False) -> None:
        # Kept by id as the last write left the row, and whether this change inserted it: the next record of its
        # case lists it (`written_timers`).
        written = self.__dict__.setdefault("_timer_rows", {})
        for row in rows:
            written[row.id] = (row, inserted or (row.id in written and written[row.id][1]))

    def set_case_tasks_priority(self, case_id: int, priority: Priority) -> int:
        """Give a case's open tasks a new priority (an escalation); return how many."""
        changed = list(self.connection.execute(
            sa.update(tasks).where(tasks.c.case_id == case_id, tasks.c.status == str(TaskStatus.OPEN))
            .values(priority=str(priority), priority_rank=PRIORITY_RANK[priority]).returning(tasks.c.id)).scalars())
        self.wrote(tasks, changed)
        return len(changed)


def timer_of(row: sa.Row) -> ScheduledTimer:
    values = dict(row._mapping)
    return ScheduledTimer(**{**values, "kind": TimerKind(values["kind"]), "clock": TimerClock(values["clock"]),
                             "status": TimerStatus(values["status"])})
