"""SLA attainment: cases within a target cycle time, or within a deadline each case carries."""

from __future__ import annotations

import numpy as np

from backoffice.errors import BadOption
from backoffice.events import arrow_numpy
from backoffice.events.schema import EventLog
from backoffice.events.timestamps import parse_timestamps
from backoffice.mapping.grouped import MICROSECONDS
from backoffice.mapping.model import Sla, SlaOffender
from backoffice.mapping.workspace import Workspace

NO_DEADLINE = np.iinfo(np.int64).max


def sla_by_duration(ws: Workspace, *, target_seconds: float, label: str, worst: int = 10) -> Sla:
    """Share of cases whose cycle time (first to last event) is within the target."""
    cycle = ws.cycle / MICROSECONDS
    measured = ws.cases
    within = int(np.count_nonzero(cycle <= target_seconds))
    late = np.flatnonzero(cycle > target_seconds)
    # Longest first, then the case number: the order a stable sort on the negated cycle gives.
    offenders = late[np.argsort(-cycle[late], kind="stable")][:worst]
    names = ws.case_names(offenders)
    return Sla(target=label, cases_measured=measured, within=within,
               attainment=within / measured if measured else 0.0,
               worst=[SlaOffender(case_id=name, cycle_time=float(cycle[case]), target=target_seconds,
                                  over_by=float(cycle[case]) - target_seconds)
                      for name, case in zip(names, offenders.tolist())])


def sla_by_deadline(ws: Workspace, log: EventLog, *, attribute: str, worst: int = 10) -> Sla:
    """Share of cases whose last event is at or before the deadline held in a case attribute.

    A case's deadline is the earliest readable value of the attribute among its events;
    cases without one are not measured.

    Raises:
        BadOption: the attribute does not exist or holds no readable timestamps.
    """
    if attribute not in log.table.column_names:
        raise BadOption("--sla-from", attribute,
                        f"a column of the log; found: {', '.join(log.attribute_columns) or 'no attribute columns'}")
    parsed = parse_timestamps(log.table.column(attribute), max_bad=0).values
    if parsed.null_count == len(parsed):
        raise BadOption("--sla-from", attribute, "a column holding deadlines as timestamps")
    due_per_row = np.where(arrow_numpy.valid(parsed), arrow_numpy.values(parsed), NO_DEADLINE)
    # The cases in scope keep all their events, which are contiguous rows of the log's table.
    lengths = ws.ends - ws.starts
    rows = np.repeat(ws.source_rows - ws.starts, lengths) + np.arange(ws.events)
    due = np.minimum.reduceat(due_per_row[rows], ws.starts) if ws.cases else np.zeros(0, np.int64)
    measured_cases = np.flatnonzero(due != NO_DEADLINE)
    ended, started, due = ws.ended[measured_cases], ws.started[measured_cases], due[measured_cases]
    within = int(np.count_nonzero(ended <= due))
    late = np.flatnonzero(ended > due)
    over = (ended - due) / MICROSECONDS
    offenders = late[np.argsort(-over[late], kind="stable")][:worst]
    names = ws.case_names(measured_cases[offenders])
    cycle = (ended - started) / MICROSECONDS
    target = (due - started) / MICROSECONDS
    return Sla(target=f"deadline in {attribute}", cases_measured=len(measured_cases), within=within,
               attainment=within / len(measured_cases) if len(measured_cases) else 0.0,
               worst=[SlaOffender(case_id=name, cycle_time=float(cycle[case]), target=float(target[case]),
                                  over_by=float(over[case]))
                      for name, case in zip(names, offenders.tolist())])
