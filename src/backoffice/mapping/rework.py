"""Rework: activities repeated within a case, and loops back to an earlier step."""

from __future__ import annotations

import duckdb

from backoffice.mapping.model import Rework, ReworkActivity, ReworkLoop


def rework(con: duckdb.DuckDBPyConnection, *, top: int = 20) -> Rework:
    """Measure rework, and the time it adds to the median case."""
    # An event is rework when its activity already happened earlier in the same case.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE repeated AS
        SELECT case_id, activity, prev_activity FROM (
            SELECT case_id, activity, prev_activity, pos,
                   min(pos) OVER (PARTITION BY case_id, activity) AS first_pos
            FROM steps)
        WHERE pos > first_pos""")
    total = con.execute("SELECT count(*) FROM cases").fetchall()[0][0]
    affected = con.execute("SELECT count(DISTINCT case_id) FROM repeated").fetchall()[0][0]
    repeated = con.execute("""
        SELECT activity, count(DISTINCT case_id), count(*) FROM repeated
        GROUP BY activity ORDER BY 2 DESC, 3 DESC, 1 LIMIT $top""", {"top": top}).fetchall()
    loops = con.execute("""
        SELECT prev_activity, activity, count(*), count(DISTINCT case_id) FROM repeated
        WHERE prev_activity IS NOT NULL
        GROUP BY ALL ORDER BY 3 DESC, 1, 2 LIMIT $top""", {"top": top}).fetchall()
    with_rework, without = con.execute("""
        SELECT quantile_cont(cycle, 0.5) FILTER (WHERE r.case_id IS NOT NULL),
               quantile_cont(cycle, 0.5) FILTER (WHERE r.case_id IS NULL)
        FROM cases c LEFT JOIN (SELECT DISTINCT case_id FROM repeated) r USING (case_id)""").fetchall()[0]
    added = with_rework - without if with_rework is not None and without is not None else None
    return Rework(cases_affected=affected, share_of_cases=affected / total if total else 0.0,
                  repeated_activities=[ReworkActivity(activity=a, cases=c, repeats=n) for a, c, n in repeated],
                  loops=[ReworkLoop(source=s, target=t, count=n, cases=c) for s, t, n, c in loops],
                  median_cycle_time_with=with_rework, median_cycle_time_without=without, added_time=added)
