"""Activities and directly-follows paths, with the waiting between steps."""

from __future__ import annotations

import duckdb

from backoffice.mapping.model import Activity, ActivityCount, Edge, StepKind, TimeSink
from backoffice.mapping.workspace import stats_columns, stats_of

WAIT = "(t - prev_t)"


def edges(con: duckdb.DuckDBPyConnection) -> list[Edge]:
    """Every directly-follows path, most frequent first."""
    rows = con.execute(f"""
        SELECT prev_activity, activity, count(*), count(DISTINCT case_id), {stats_columns(WAIT)},
               count(*) FILTER (WHERE prev_lane IS NOT NULL AND lane IS NOT NULL AND prev_lane <> lane)
        FROM steps WHERE prev_activity IS NOT NULL
        GROUP BY prev_activity, activity
        ORDER BY count(*) DESC, prev_activity, activity""").fetchall()
    return [Edge(source=row[0], target=row[1], count=row[2], cases=row[3], wait=stats_of(row[4:10]),
                 handoffs=row[10]) for row in rows]


def activity_facts(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Per activity: counts, the lane doing it most, service-account share, waiting before it."""
    rows = con.execute(f"""
        WITH lanes AS (
            SELECT activity, arg_max(lane, n) AS lane FROM (
                SELECT activity, lane, count(*) AS n FROM steps WHERE lane IS NOT NULL GROUP BY ALL)
            GROUP BY activity),
        firsts AS (SELECT activity, count(*) AS n FROM (
            SELECT DISTINCT case_id, activity FROM steps) GROUP BY activity)
        SELECT s.activity, count(*), count(DISTINCT s.case_id), any_value(l.lane),
               count(*) - any_value(f.n), {stats_columns('(s.t - s.prev_t)')}
        FROM steps s LEFT JOIN lanes l USING (activity) LEFT JOIN firsts f USING (activity)
        GROUP BY s.activity ORDER BY count(*) DESC, s.activity""").fetchall()
    return [{"name": row[0], "events": row[1], "cases": row[2], "lane": row[3], "repeats": row[4],
             "wait_before": stats_of(row[5:11]) if row[5] else None} for row in rows]


def resource_names(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, int]]:
    """(activity, resource, events) for every pair, to judge who does the work."""
    return con.execute("SELECT activity, resource, count(*) FROM steps WHERE resource IS NOT NULL "
                       "GROUP BY ALL").fetchall()


def build_activities(facts: list[dict], kinds: dict[str, StepKind]) -> list[Activity]:
    """Typed activities from their facts and kinds."""
    return [Activity(name=fact["name"], events=fact["events"], cases=fact["cases"], lane=fact["lane"],
                     kind=kinds[fact["name"]], wait_before=fact["wait_before"], repeats=fact["repeats"])
            for fact in facts]


def start_and_end(con: duckdb.DuckDBPyConnection) -> tuple[list[ActivityCount], list[ActivityCount]]:
    """How many cases start and end with each activity."""
    starts = con.execute("SELECT trace[1], count(*) FROM cases GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()
    ends = con.execute("SELECT trace[-1], count(*) FROM cases GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()
    return ([ActivityCount(activity=a, cases=n) for a, n in starts],
            [ActivityCount(activity=a, cases=n) for a, n in ends])


def waiting_paths(all_edges: list[Edge], *, top: int = 10) -> list[TimeSink]:
    """The paths where the most case time is spent waiting."""
    ranked = sorted(all_edges, key=lambda edge: edge.wait.total, reverse=True)[:top]
    return [TimeSink(source=edge.source, target=edge.target, total_wait=edge.wait.total, count=edge.count)
            for edge in ranked if edge.wait.total > 0]


def waiting_activities(activities: list[Activity], *, top: int = 10) -> list[TimeSink]:
    """The activities before which work waits longest in total."""
    waited = [activity for activity in activities if activity.wait_before and activity.wait_before.total > 0]
    ranked = sorted(waited, key=lambda activity: activity.wait_before.total, reverse=True)[:top]
    return [TimeSink(source=None, target=activity.name, total_wait=activity.wait_before.total,
                     count=activity.wait_before.count) for activity in ranked]
