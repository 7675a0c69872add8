"""What the operations dashboards read from the database: cases per state, open work per queue, the outbox, late cases.

Read fresh at each scrape of the server's metrics, so every server process reports the same
figures for the shared database (a process's own counters would only see its own requests).
Each query is one GROUP BY over an indexed column; none reads the event table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from backoffice.store.tables import cases, outbox, sla_clocks, tasks


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
    in_doubt: int = 0


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
            sa.select(outbox.c.status, sa.func.count()).where(outbox.c.status.in_(("dead", "pending", "in_doubt")))
            .group_by(outbox.c.status)).all())
        oldest_pending = connection.execute(
            sa.select(sa.func.min(outbox.c.created_at, type_=outbox.c.created_at.type)).where(outbox.c.status == "pending")).scalar()
    return OperationsSnapshot(
        cases=[CasesInState(workflow, version, state, count) for workflow, version, state, count in in_state],
        queues=[QueueDepth(queue, count, oldest) for queue, count, oldest in depth],
        dead_letters=int(by_status.get("dead", 0)), pending_outbox=int(by_status.get("pending", 0)),
        oldest_pending_outbox=oldest_pending, in_doubt=int(by_status.get("in_doubt", 0)))


def late_cases(engine: sa.Engine, *, now: datetime) -> dict[str, int]:
    """Return, by workflow, the open cases past their resolution SLA at `now`: SLA breaches.

    A case's open tasks carry its resolution due time (business time on its calendar, after the
    time its clock stood still when they were made), so one aggregate over open tasks finds the
    late cases without computing a calendar per case; a case whose clock stands still now is not late.
    """
    late = (sa.select(tasks.c.workflow, sa.func.count(sa.distinct(tasks.c.case_id)))
            .select_from(tasks.outerjoin(sla_clocks, sla_clocks.c.case_id == tasks.c.case_id))
            .where(tasks.c.status == "open", tasks.c.due_at < now, sla_clocks.c.paused_since.is_(None))
            .group_by(tasks.c.workflow))
    with engine.connect() as connection:
        return {workflow: int(count) for workflow, count in connection.execute(late).all()}
