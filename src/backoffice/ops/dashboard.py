"""Everything a team lead's dashboard shows, read in one transaction so the figures agree with each other.

    with store.engine.connect() as connection:
        figures = read_dashboard(connection, Scope.of(store, "service-request", Window.last_weeks(now)))
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from backoffice.ops.exception_trend import ReasonTrend, exceptions_by_reason
from backoffice.ops.flow import StateTime, WeekFlow, throughput, time_in_state
from backoffice.ops.scope import Scope
from backoffice.ops.sla_attainment import SlaAttainment, sla_attainment
from backoffice.ops.workload import AgeBucket, Backlog, PersonLoad, age_profile, backlog, work_in_progress


@dataclass(frozen=True)
class Dashboard:
    scope: Scope
    backlog: Backlog
    ages: list[AgeBucket]
    sla: list[SlaAttainment]
    throughput: list[WeekFlow]
    time_in_state: list[StateTime]
    exceptions: list[ReasonTrend]
    work_in_progress: list[PersonLoad]


def read_dashboard(connection: sa.Connection, scope: Scope) -> Dashboard:
    """Read every figure of the scope's dashboard over one connection (in its transaction, begun here if none is)."""
    if connection.dialect.name == "postgresql":
        # The window functions and percentiles sort a few hundred thousand events at scale: in memory, not on
        # disk. SET LOCAL ends with the transaction, so the connection goes back to the pool as it came.
        connection.exec_driver_sql("SET LOCAL work_mem = '64MB'")
    return Dashboard(scope=scope, backlog=backlog(connection, scope), ages=age_profile(connection, scope),
                     sla=sla_attainment(connection, scope), throughput=throughput(connection, scope),
                     time_in_state=time_in_state(connection, scope),
                     exceptions=exceptions_by_reason(connection, scope),
                     work_in_progress=work_in_progress(connection, scope))
