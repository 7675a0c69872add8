"""SLA attainment by week: of the cases whose clock stopped in a week, how many stopped within the SLA.

The clocks are the engine's. First response stops when a case leaves its intake state (when
the engine settles its first_response timers); resolution stops when it reaches an end state
(any end, as `backoffice conform` judges it). Both count business time on the definition's
calendar from the case's intake; resolution takes off the business seconds the engine
recorded the case as paused (its `sla_clocks` row: time in the pause_in states), so a case
that waited a day on its requester has a day more, as the engine's due time gives it.
A case is counted in the week its clock stopped, against the SLA of the version it runs on.

The database picks the cases whose clock stopped in the window and returns one row of
numbers each (no event rows); the calendar arithmetic, which SQL cannot do, runs in numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from enum import StrEnum

import numpy as np
import sqlalchemy as sa

from backoffice.ops.business_time import BusinessTimeline
from backoffice.ops.scope import Scope
from backoffice.ops.sql_time import epoch_seconds, week_number
from backoffice.store.tables import cases, events, sla_clocks

# Float seconds from two databases: a clock stopped on the due second is on time, not a rounding late.
_ON_THE_SECOND = 1e-3


class SlaClockName(StrEnum):
    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"

    @property
    def label(self) -> str:
        return "First response" if self is SlaClockName.FIRST_RESPONSE else "Resolution"


@dataclass(frozen=True)
class WeekAttainment:
    """Cases whose clock stopped in one week: within the SLA (met) or past it (missed)."""

    week: datetime
    met: int
    missed: int

    @property
    def cases(self) -> int:
        return self.met + self.missed

    @property
    def share(self) -> float | None:
        """Return the share met, or None in a week where no clock stopped."""
        return self.met / self.cases if self.cases else None


@dataclass(frozen=True)
class SlaAttainment:
    """One SLA clock's attainment, week by week over the window."""

    clock: SlaClockName
    target: str
    """The SLA as written (such as 4h), or each version's when they differ (3d in v1, 2d in v2)."""
    weeks: list[WeekAttainment]

    @property
    def met(self) -> int:
        return sum(week.met for week in self.weeks)

    @property
    def cases(self) -> int:
        return sum(week.cases for week in self.weeks)


def sla_attainment(connection: sa.Connection, scope: Scope) -> list[SlaAttainment]:
    """Return the attainment of each SLA clock any version in scope has (first response, then resolution)."""
    found = []
    for clock in SlaClockName:
        limits = {number: getattr(d.sla, clock.value) for number, d in scope.definitions.items()
                  if d.sla is not None and getattr(d.sla, clock.value) is not None}
        if not limits:
            continue
        rows = _stopped_clocks(connection, scope, clock, versions=sorted(limits))
        met = np.zeros(len(scope.window.weeks), dtype=int)
        missed = np.zeros(len(scope.window.weeks), dtype=int)
        for number, duration in limits.items():
            mine = rows[rows[:, 0] == number] if len(rows) else rows
            if not len(mine):
                continue
            calendar = scope.definitions[number].business_calendar()
            timeline = BusinessTimeline(calendar, _moment(mine[:, 2].min()), _moment(mine[:, 3].max()))
            used = timeline.between(mine[:, 2], mine[:, 3]) - mine[:, 4]
            late = used > calendar.business_seconds(duration) + _ON_THE_SECOND
            weeks = mine[:, 1].astype(int)
            np.add.at(missed, weeks[late], 1)
            np.add.at(met, weeks[~late], 1)
        texts = dict.fromkeys(str(duration) for duration in limits.values())
        target = next(iter(texts)) if len(texts) == 1 else ", ".join(f"{limits[n]} in v{n}" for n in sorted(limits))
        found.append(SlaAttainment(clock, target, [WeekAttainment(week, int(met[k]), int(missed[k]))
                                                   for k, week in enumerate(scope.window.weeks)]))
    return found


def _stopped_clocks(connection: sa.Connection, scope: Scope, clock: SlaClockName, *, versions: list[int]
                    ) -> np.ndarray:
    """Return one row per case whose clock stopped in the window: version, week, intake, stop, paused seconds."""
    dialect = connection.dialect.name
    to_state = events.c.attributes["to_state"].as_string()
    from_state = events.c.attributes["from_state"].as_string()
    moved = sa.and_(to_state.is_not(None), from_state.is_not(None), from_state != to_state)
    if clock is SlaClockName.FIRST_RESPONSE:
        stop_condition = sa.and_(moved, from_state.in_(scope.intake_states))
    else:
        stop_condition = sa.and_(moved, to_state.in_(scope.end_states))
    stopped = sa.func.min(events.c.timestamp)
    paused = (sa.func.max(sa.func.coalesce(sla_clocks.c.paused_seconds, 0.0))
              if clock is SlaClockName.RESOLUTION else sa.literal(0.0))
    query = (sa.select(cases.c.definition_version, week_number(dialect, stopped, scope.window.start),
                       sa.func.max(epoch_seconds(dialect, cases.c.created_at)), epoch_seconds(dialect, stopped),
                       paused)
             .select_from(events.join(cases, cases.c.id == events.c.case_id)
                          .outerjoin(sla_clocks, sla_clocks.c.case_id == cases.c.id))
             .where(events.c.workflow == scope.workflow, events.c.timestamp >= scope.window.start,
                    events.c.timestamp <= scope.window.now, cases.c.definition_version.in_(versions), stop_condition)
             .group_by(cases.c.id, cases.c.definition_version))
    # Plain tuples: numpy probing each Row object for array protocols costs more than the query.
    rows = [tuple(row) for row in connection.execute(query)]
    return np.array(rows, dtype=float).reshape(len(rows), 5)


def _moment(seconds: float) -> datetime:
    return datetime.fromtimestamp(float(seconds), tz=timezone.utc)
