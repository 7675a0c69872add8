"""Rework: activities repeated within a case, and loops back to an earlier step."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from backoffice.mapping.model import Rework, ReworkActivity, ReworkLoop
from backoffice.mapping.workspace import NONE, Workspace


def repeated_events(ws: Workspace) -> pa.Table:
    """The events whose activity already happened earlier in the same case."""
    repeat = pc.invert(ws.steps.column("first_activity"))
    return ws.steps.select(["case_id", "activity", "prev_activity"]).filter(repeat)


def rework(ws: Workspace, *, top: int = 20) -> Rework:
    """Measure rework, and the time it adds to the median case."""
    con = ws.con
    con.register("repeated", repeated_events(ws))
    total = con.execute("SELECT count(*) FROM cases").fetchall()[0][0]
    affected = con.execute("SELECT count(DISTINCT case_id) FROM repeated").fetchall()[0][0]
    repeated = con.execute("SELECT activity, count(DISTINCT case_id), count(*) FROM repeated GROUP BY activity").fetchall()
    loops = con.execute(f"""SELECT prev_activity, activity, count(*), count(DISTINCT case_id) FROM repeated
                            WHERE prev_activity <> {NONE} GROUP BY ALL""").fetchall()
    with_rework, without = con.execute("""
        SELECT quantile_cont(cycle, 0.5) FILTER (WHERE r.case_id IS NOT NULL),
               quantile_cont(cycle, 0.5) FILTER (WHERE r.case_id IS NULL)
        FROM cases c LEFT JOIN (SELECT DISTINCT case_id FROM repeated) r USING (case_id)""").fetchall()[0]
    added = with_rework - without if with_rework is not None and without is not None else None
    name = ws.activities
    repeated_activities = sorted((ReworkActivity(activity=name[a], cases=c, repeats=n) for a, c, n in repeated),
                                 key=lambda r: (-r.cases, -r.repeats, r.activity))[:top]
    loop_list = sorted((ReworkLoop(source=name[s], target=name[t], count=n, cases=c) for s, t, n, c in loops),
                       key=lambda loop: (-loop.count, loop.source, loop.target))[:top]
    return Rework(cases_affected=affected, share_of_cases=affected / total if total else 0.0,
                  repeated_activities=repeated_activities, loops=loop_list,
                  median_cycle_time_with=with_rework, median_cycle_time_without=without, added_time=added)
