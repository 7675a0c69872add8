"""How work flows through a window: cases started and completed per week, and the time cases spend in each state.

Both read the engine's events in the database: a case's move is an event whose attributes name
the state it entered (`to_state`) and the one it left (`from_state`). A stay in a state runs
from the move into it to the case's next move; a vote or an escalation moves nothing and
does not end a stay. Durations are wall-clock time (SLA attainment counts business time).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from backoffice.ops.scope import Scope
from backoffice.ops.sql_time import seconds_between, week_number
from backoffice.store.tables import cases, events


@dataclass(frozen=True)
class WeekFlow:
    """Cases started and cases that reached an end state in one week."""

    week: datetime
    started: int
    completed: int


@dataclass(frozen=True)
class StateTime:
    """How long stays in one state lasted: stays that began in the window and have ended.

    Percentiles are by nearest rank (the median of 4 stays is the 2nd shortest), so each is a
    duration some stay really took.
    """

    state: str
    stays: int
    median_seconds: float
    p90_seconds: float


def _to_state() -> sa.ColumnElement[str]:
    return events.c.attributes["to_state"].as_string()


def _from_state() -> sa.ColumnElement[str]:
    return events.c.attributes["from_state"].as_string()


def _events_in(scope: Scope) -> sa.ColumnElement[bool]:
    condition = sa.and_(events.c.workflow == scope.workflow, events.c.timestamp >= scope.window.start,
                        events.c.timestamp <= scope.window.now)
    if scope.version is not None:
        condition = sa.and_(condition, events.c.version == scope.version)
    return condition


def throughput(connection: sa.Connection, scope: Scope) -> list[WeekFlow]:
    """Return, for every week of the window, the cases started and those that reached an end state."""
    dialect, first = connection.dialect.name, scope.window.start
    started_week = week_number(dialect, cases.c.created_at, first)
    started = dict(connection.execute(
        sa.select(started_week, sa.func.count())
        .where(scope.cases_where(cases), cases.c.created_at >= first, cases.c.created_at <= scope.window.now)
        .group_by(started_week)).all())
    ended_week = week_number(dialect, events.c.timestamp, first)
    completed = dict(connection.execute(
        sa.select(ended_week, sa.func.count())
        .where(_events_in(scope), _to_state().in_(scope.end_states),
               sa.or_(_from_state().is_(None), _from_state() != _to_state()))
        .group_by(ended_week)).all())
    return [WeekFlow(week, int(started.get(k, 0)), int(completed.get(k, 0)))
            for k, week in enumerate(scope.window.weeks)]


def time_in_state(connection: sa.Connection, scope: Scope) -> list[StateTime]:
    """Return the median and 90th percentile of the stays in each state that began in the window and ended.

    States are in the definition's order; end states (no stay to speak of) are left out.
    """
    dialect = connection.dialect.name
    to_state, from_state = _to_state(), _from_state()
    moves = (sa.select(to_state.label("state"), events.c.timestamp.label("entered"),
                       sa.func.lead(events.c.timestamp).over(partition_by=events.c.case_id,
                                                             order_by=events.c.id).label("left"))
             .where(_events_in(scope), to_state.is_not(None),
                    sa.or_(from_state.is_(None), from_state != to_state))
             .cte("moves"))
    stays = (sa.select(moves.c.state, seconds_between(dialect, moves.c.entered, moves.c.left).label("seconds"))
             .where(moves.c.left.is_not(None), moves.c.left <= scope.window.now,
                    moves.c.state.not_in(scope.end_states))
             .cte("stays"))
    if dialect == "postgresql":
        # An ordered-set aggregate sorts each state's stays once; percentile_disc is the nearest rank.
        rows = connection.execute(sa.select(
            stays.c.state, sa.func.count(),
            sa.func.percentile_disc(0.5).within_group(stays.c.seconds),
            sa.func.percentile_disc(0.9).within_group(stays.c.seconds)).group_by(stays.c.state)).all()
        return _in_state_order(scope, rows)
    ranked = sa.select(
        stays.c.state, stays.c.seconds,
        sa.func.row_number().over(partition_by=stays.c.state, order_by=stays.c.seconds).label("rank"),
        sa.func.count().over(partition_by=stays.c.state).label("n")).cte("ranked")
    # Nearest rank: the p-th percentile is the value at rank ceil(p * n); integer division keeps it exact.
    median_rank, p90_rank = (ranked.c.n + 1) // 2, (9 * ranked.c.n + 9) // 10
    rows = connection.execute(sa.select(
        ranked.c.state, sa.func.max(ranked.c.n),
        sa.func.max(sa.case((ranked.c.rank == median_rank, ranked.c.seconds))),
        sa.func.max(sa.case((ranked.c.rank == p90_rank, ranked.c.seconds))))
        .group_by(ranked.c.state)).all()
    return _in_state_order(scope, rows)


def _in_state_order(scope: Scope, rows: list) -> list[StateTime]:
    order = {state: k for k, state in enumerate(scope.state_order())}
    # Whole seconds: SQLite's julianday leaves a few microseconds of float noise on every duration.
    found = [StateTime(state, int(n), float(round(median)), float(round(p90))) for state, n, median, p90 in rows]
    return sorted(found, key=lambda s: (order.get(s.state, len(order)), s.state))
