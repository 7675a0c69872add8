"""What the operations dashboards read from the database: cases per state, open work per queue, dead letters.

Read fresh at each scrape of the server's metrics, so every server process reports the same
figures for the shared database (a process's own counters would only see its own requests).
Each query is one GROUP BY over an indexed column; none reads the event table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from backoffice.store.tables import cases, outbox, tasks


@dataclass(frozen=True)
class CasesInState:
    workflow: str
    version: int
    state: str
    count: int


@dataclass(frozen=True)
class QueueDepth:
    queue: str
    open_tasks: int
    oldest_created_at: datetime | None


@dataclass(frozen=True)
class OperationsSnapshot:
    cases: list[CasesInState]
    queues: list[QueueDepth]
    dead_letters: int
    pending_outbox: int
    oldest_pending_outbox: datetime | None


def operations_snapshot(engine: sa.Engine) -> OperationsSnapshot:
    """Read the figures in one read transaction."""
    with engine.connect() as connection:
        in_state = connection.execute(
            sa.select(cases.c.workflow, cases.c.definition_version, cases.c.state, sa.func.count())
            .group_by(cases.c.workflow, cases.c.definition_version, cases.c.state)).all()
        depth = connection.execute(
            sa.select(sa.func.coalesce(tasks.c.queue, ""), sa.func.count(), sa.func.min(tasks.c.created_at, type_=tasks.c.created_at.type))
            .where(tasks.c.status == "open").group_by(tasks.c.queue)).all()
        by_status = dict(connection.execute(
            sa.select(outbox.c.status, sa.func.count()).where(outbox.c.status.in_(("dead", "pending")))
            .group_by(outbox.c.status)).all())
        oldest_pending = connection.execute(
            sa.select(sa.func.min(outbox.c.created_at, type_=outbox.c.created_at.type)).where(outbox.c.status == "pending")).scalar()
    return OperationsSnapshot(
        cases=[CasesInState(workflow, version, state, count) for workflow, version, state, count in in_state],
        queues=[QueueDepth(queue, count, oldest) for queue, count, oldest in depth],
        dead_letters=int(by_status.get("dead", 0)), pending_outbox=int(by_status.get("pending", 0)),
        oldest_pending_outbox=oldest_pending)
