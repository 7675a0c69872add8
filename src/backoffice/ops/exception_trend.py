"""Exceptions by reason: how many were raised each week of the window, and how many stand open now."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from backoffice.ops.scope import Scope
from backoffice.ops.sql_time import week_number
from backoffice.store.tables import case_exceptions, cases


@dataclass(frozen=True)
class ReasonTrend:
    """One reason code: exceptions raised per week of the window (oldest first), and those open now."""

    reason: str
    weekly: list[int]
    open_now: int

    @property
    def raised(self) -> int:
        return sum(self.weekly)


def exceptions_by_reason(connection: sa.Connection, scope: Scope) -> list[ReasonTrend]:
    """Return each reason raised in the window or open now, the most raised first."""
    week = week_number(connection.dialect.name, case_exceptions.c.raised_at, scope.window.start)
    joined = case_exceptions.join(cases, cases.c.id == case_exceptions.c.case_id)
    raised = connection.execute(
        sa.select(case_exceptions.c.reason, week, sa.func.count()).select_from(joined)
        .where(scope.cases_where(cases), case_exceptions.c.raised_at >= scope.window.start,
               case_exceptions.c.raised_at <= scope.window.now)
        .group_by(case_exceptions.c.reason, week)).all()
    still_open = dict(connection.execute(
        sa.select(case_exceptions.c.reason, sa.func.count()).select_from(joined)
        .where(scope.cases_where(cases), case_exceptions.c.raised_at <= scope.window.now,
               sa.or_(case_exceptions.c.resolved_at.is_(None), case_exceptions.c.resolved_at > scope.window.now))
        .group_by(case_exceptions.c.reason)).all())
    weeks = len(scope.window.weeks)
    weekly: dict[str, list[int]] = {reason: [0] * weeks for reason in still_open}
    for reason, k, count in raised:
        weekly.setdefault(reason, [0] * weeks)[int(k)] += count
    trends = [ReasonTrend(reason, counts, int(still_open.get(reason, 0))) for reason, counts in weekly.items()]
    return sorted(trends, key=lambda t: (-t.raised, -t.open_now, t.reason))
