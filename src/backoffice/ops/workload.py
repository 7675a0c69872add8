"""The work standing now: open cases by queue and state, how old they are, and who holds which tasks.

Each figure is one GROUP BY in the database; no case row travels to Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from backoffice.engine.tasks import TaskStatus
from backoffice.ops.scope import Scope
from backoffice.store.tables import cases, people, tasks

NO_QUEUE = "(no queue)"

AGE_BUCKETS: tuple[tuple[str, timedelta | None], ...] = (
    ("under 1 day", timedelta(days=1)),
    ("1 to 3 days", timedelta(days=3)),
    ("3 to 7 days", timedelta(days=7)),
    ("1 to 2 weeks", timedelta(days=14)),
    ("2 to 4 weeks", timedelta(days=28)),
    ("over 4 weeks", None),
)
"""Each bucket's label and the age it ends below (None: no end), in order; the age is wall-clock time since intake."""


@dataclass(frozen=True)
class BacklogCell:
    """Open cases in one queue and state."""

    queue: str
    state: str
    cases: int


@dataclass(frozen=True)
class Backlog:
    """The open cases of a scope, by queue and state (cells with none are left out)."""

    cells: list[BacklogCell]

    @property
    def total(self) -> int:
        return sum(cell.cases for cell in self.cells)

    def by_state(self) -> dict[str, int]:
        """Return state -> open cases in it."""
        counts: dict[str, int] = {}
        for cell in self.cells:
            counts[cell.state] = counts.get(cell.state, 0) + cell.cases
        return counts

    def queues(self) -> list[str]:
        """Return the queues with open cases, the fullest first."""
        totals: dict[str, int] = {}
        for cell in self.cells:
            totals[cell.queue] = totals.get(cell.queue, 0) + cell.cases
        return sorted(totals, key=lambda queue: (-totals[queue], queue))


@dataclass(frozen=True)
class AgeBucket:
    label: str
    cases: int


@dataclass(frozen=True)
class PersonLoad:
    """The open tasks a person holds (a live claim, or assigned to them), and how many of those are past due."""

    person: str
    name: str
    tasks: int
    overdue: int

    @property
    def on_time(self) -> int:
        return self.tasks - self.overdue


def _open_cases(scope: Scope) -> sa.ColumnElement[bool]:
    return sa.and_(scope.cases_where(cases), cases.c.state.not_in(scope.end_states),
                   cases.c.created_at <= scope.window.now)


def backlog(connection: sa.Connection, scope: Scope) -> Backlog:
    """Return the scope's open cases by queue and state, as the cases stand now."""
    queue = sa.func.coalesce(cases.c.queue, NO_QUEUE)
    rows = connection.execute(sa.select(queue, cases.c.state, sa.func.count()).where(_open_cases(scope))
                              .group_by(queue, cases.c.state)).all()
    order = {state: k for k, state in enumerate(scope.state_order())}
    cells = [BacklogCell(q, state, count) for q, state, count in rows]
    return Backlog(sorted(cells, key=lambda c: (c.queue, order.get(c.state, len(order)), c.state)))


def age_profile(connection: sa.Connection, scope: Scope) -> list[AgeBucket]:
    """Return the scope's open cases by age (time since intake, as of the scope's moment), every bucket listed."""
    now = scope.window.now
    bucket = sa.case(*[(cases.c.created_at > now - limit, k) for k, (_, limit) in enumerate(AGE_BUCKETS)
                       if limit is not None], else_=len(AGE_BUCKETS) - 1)
    counts = dict(connection.execute(sa.select(bucket, sa.func.count()).where(_open_cases(scope))
                                     .group_by(bucket)).all())
    return [AgeBucket(label, int(counts.get(k, 0))) for k, (label, _) in enumerate(AGE_BUCKETS)]


def work_in_progress(connection: sa.Connection, scope: Scope) -> list[PersonLoad]:
    """Return each person's open tasks in the scope (claimed, else assigned to them), the busiest first."""
    # A claim whose lease ran out is free for anyone to take: it is no longer that person's work.
    live_claim = sa.and_(tasks.c.claimed_by.is_not(None), tasks.c.claim_expires_at > scope.window.now)
    holder = sa.case((live_claim, tasks.c.claimed_by), else_=tasks.c.assignee)
    overdue = sa.func.sum(sa.case((tasks.c.due_at < scope.window.now, 1), else_=0))
    query = (sa.select(holder, sa.func.max(people.c.name), sa.func.count(), overdue)
             .select_from(tasks.join(cases, cases.c.id == tasks.c.case_id)
                          .outerjoin(people, people.c.id == holder))
             .where(scope.cases_where(cases), tasks.c.status == TaskStatus.OPEN.value, holder.is_not(None))
             .group_by(holder))
    loads = [PersonLoad(person, name or person, count, int(late or 0))
             for person, name, count, late in connection.execute(query)]
    return sorted(loads, key=lambda load: (-load.tasks, load.person))
