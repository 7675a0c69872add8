"""SLA attainment: cases within a target cycle time, or within a deadline each case carries."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from backoffice.errors import BadOption
from backoffice.events.schema import Column, EventLog
from backoffice.events.timestamps import parse_timestamps
from backoffice.mapping.model import Sla, SlaOffender
from backoffice.mapping.workspace import Workspace


def sla_by_duration(ws: Workspace, *, target_seconds: float, label: str, worst: int = 10) -> Sla:
    """Share of cases whose cycle time (first to last event) is within the target."""
    con = ws.con
    measured, within = con.execute("SELECT count(*), count(*) FILTER (WHERE cycle <= $target) FROM cases",
                                   {"target": target_seconds}).fetchall()[0]
    rows = con.execute("""SELECT case_id, cycle FROM cases WHERE cycle > $target
                          ORDER BY cycle DESC, case_id LIMIT $worst""",
                       {"target": target_seconds, "worst": worst}).fetchall()
    return Sla(target=label, cases_measured=measured, within=within,
               attainment=within / measured if measured else 0.0,
               worst=[SlaOffender(case_id=ws.case_ids[case], cycle_time=cycle, target=target_seconds,
                                  over_by=cycle - target_seconds) for case, cycle in rows])


def sla_by_deadline(ws: Workspace, log: EventLog, *, attribute: str, worst: int = 10) -> Sla:
    """Share of cases whose last event is at or before the deadline held in a case attribute.

    Raises:
        BadOption: the attribute does not exist or holds no readable timestamps.
    """
    if attribute not in log.table.column_names:
        raise BadOption("--sla-from", attribute,
                        f"a column of the log; found: {', '.join(log.attribute_columns) or 'no attribute columns'}")
    values = log.table.column(attribute)
    parsed = parse_timestamps(values, max_bad=0)
    if parsed.values.null_count == len(parsed.values):
        raise BadOption("--sla-from", attribute, "a column holding deadlines as timestamps")
    deadlines = pa.table({"name": log.table.column(Column.CASE_ID).cast(pa.string()), "deadline": parsed.values})
    deadlines = deadlines.filter(pc.is_valid(deadlines.column("deadline")))
    con = ws.con
    con.register("deadline_values", deadlines)
    con.register("case_names", pa.table({"case_id": pa.array(np.arange(len(ws.case_ids), dtype=np.int32)),
                                         "name": pa.array(ws.case_ids, pa.string())}))
    con.execute("""CREATE OR REPLACE TEMP TABLE deadlines AS
                   SELECT n.case_id, epoch(min(v.deadline)) AS due
                   FROM deadline_values v JOIN case_names n USING (name) GROUP BY n.case_id""")
    measured, within = con.execute("""
        SELECT count(*), count(*) FILTER (WHERE c.ended <= d.due)
        FROM cases c JOIN deadlines d USING (case_id)""").fetchall()[0]
    rows = con.execute("""
        SELECT c.case_id, c.cycle, d.due - c.started, c.ended - d.due
        FROM cases c JOIN deadlines d USING (case_id) WHERE c.ended > d.due
        ORDER BY 4 DESC, 1 LIMIT $worst""", {"worst": worst}).fetchall()
    return Sla(target=f"deadline in {attribute}", cases_measured=measured, within=within,
               attainment=within / measured if measured else 0.0,
               worst=[SlaOffender(case_id=ws.case_ids[case], cycle_time=cycle, target=target, over_by=over)
                      for case, cycle, target, over in rows])
