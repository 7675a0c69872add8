"""Activities and directly-follows paths, with the waiting between steps."""

from __future__ import annotations

from collections import Counter

from backoffice.mapping.model import Activity, ActivityCount, Edge, StepKind, TimeSink
from backoffice.mapping.workspace import Workspace, stats_columns, stats_fields, stats_of


def edges(ws: Workspace) -> list[Edge]:
    """Every directly-follows path, most frequent first."""
    rows = ws.con.execute(f"""
        SELECT prev_activity, activity, count(*), count(*) FILTER (WHERE first_edge), {stats_columns('wait')},
               count(*) FILTER (WHERE prev_lane >= 0 AND lane >= 0 AND prev_lane <> lane)
        FROM steps WHERE prev_activity >= 0
        GROUP BY prev_activity, activity""").fetchall()
    found = [Edge(source=ws.activities[row[0]], target=ws.activities[row[1]], count=row[2],
                  cases=row[3], wait=stats_fields(row[4:10]), handoffs=row[10]) for row in rows]
    return sorted(found, key=lambda edge: (-edge.count, edge.source, edge.target))


def activity_facts(ws: Workspace) -> list[dict]:
    """Per activity: counts, the lane doing it most, and the waiting before it."""
    lanes = dict(ws.con.execute("""
        SELECT activity, arg_max(lane, n) FROM (
            SELECT activity, lane, count(*) AS n FROM steps WHERE lane >= 0 GROUP BY ALL)
        GROUP BY activity""").fetchall())
    rows = ws.con.execute(f"""
        SELECT activity, count(*), count(*) FILTER (WHERE first_activity), {stats_columns('wait')}
        FROM steps GROUP BY activity""").fetchall()
    facts = [{"name": ws.activities[row[0]], "events": row[1], "cases": row[2], "lane": ws.lane(lanes.get(row[0])),
              "repeats": row[1] - row[2], "wait_before": stats_of(row[3:9]) if row[3] else None} for row in rows]
    return sorted(facts, key=lambda fact: (-fact["events"], fact["name"]))


def resource_names(ws: Workspace) -> list[tuple[str, str, int]]:
    """(activity, resource, events) for every pair, to judge who does the work."""
    rows = ws.con.execute("SELECT activity, resource, count(*) FROM steps WHERE resource >= 0 GROUP BY ALL").fetchall()
    return [(ws.activities[activity], ws.resources[resource], count) for activity, resource, count in rows]


def build_activities(facts: list[dict], kinds: dict[str, StepKind]) -> list[Activity]:
    """Typed activities from their facts and kinds."""
    return [Activity(name=fact["name"], events=fact["events"], cases=fact["cases"], lane=fact["lane"],
                     kind=kinds[fact["name"]], wait_before=fact["wait_before"], repeats=fact["repeats"])
            for fact in facts]


def start_and_end(ws: Workspace, variant_cases: dict[int, int]) -> tuple[list[ActivityCount], list[ActivityCount]]:
    """How many cases start and end with each activity."""
    starts: Counter[str] = Counter()
    ends: Counter[str] = Counter()
    for variant, cases in variant_cases.items():
        trace = ws.traces[variant]
        starts[ws.activities[trace[0]]] += cases
        ends[ws.activities[trace[-1]]] += cases

    def ranked(counter: Counter[str]) -> list[ActivityCount]:
        return [ActivityCount(activity=name, cases=n) for name, n in sorted(counter.items(), key=lambda i: (-i[1], i[0]))]
    return ranked(starts), ranked(ends)


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
