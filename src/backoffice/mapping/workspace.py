"""The DuckDB tables every section of the map reads: steps (events with their neighbours) and cases.

One pass of window functions gives each event its previous and next step, so paths,
handoffs, rework and exceptions are plain GROUP BYs over one table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

from backoffice.events.schema import Column, EventLog
from backoffice.mapping.model import DurationStats

SEQ = "seq"


def stats_columns(expression: str) -> str:
    """SQL aggregates that fill a DurationStats, in its field order."""
    return (f"count({expression}), coalesce(sum({expression}), 0), coalesce(avg({expression}), 0), "
            f"coalesce(quantile_cont({expression}, 0.5), 0), coalesce(quantile_cont({expression}, 0.9), 0), "
            f"coalesce(max({expression}), 0)")


def stats_of(values: tuple) -> DurationStats:
    """Build DurationStats from the six values `stats_columns` selects."""
    count, total, mean, median, p90, maximum = values
    return DurationStats(count=int(count), total=float(total), mean=float(mean), median=float(median),
                         p90=float(p90), max=float(maximum))


@dataclass(frozen=True)
class Scope:
    """Which cases the map covers (filters applied before any counting)."""

    since: datetime | None = None
    until: datetime | None = None
    variant_coverage: float | None = None


def open_workspace(log: EventLog, *, lane_column: str | None, scope: Scope,
                   progress=None) -> tuple[duckdb.DuckDBPyConnection, list[str]]:
    """Load the log into DuckDB and build the `cases` and `steps` tables.

    Returns:
        the connection, and notes on what the scope left out.
    """
    table = log.table
    keep = [Column.CASE_ID, Column.ACTIVITY, Column.TIMESTAMP, Column.RESOURCE, Column.REASON]
    events = table.select(keep).append_column(SEQ, pa.array(range(table.num_rows), pa.int64()))
    lane_values = table.column(lane_column) if lane_column else pa.nulls(table.num_rows, pa.string())
    events = events.append_column("lane", lane_values)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("log_events", events)
    notes: list[str] = []

    con.execute(f"""
        CREATE TABLE all_cases AS
        SELECT case_id,
               list(activity ORDER BY {SEQ}) AS trace,
               min(timestamp) AS started, max(timestamp) AS ended,
               epoch(max(timestamp)) - epoch(min(timestamp)) AS cycle,
               count(*) AS events
        FROM log_events GROUP BY case_id""")
    conditions = []
    if scope.since is not None:
        conditions.append("started >= $since")
    if scope.until is not None:
        conditions.append("started < $until")
    where = " AND ".join(conditions) or "true"
    params = {key: value for key, value in (("since", scope.since), ("until", scope.until)) if value is not None}
    con.execute(f"CREATE TABLE cases AS SELECT * FROM all_cases WHERE {where}", params)
    total, kept = con.execute("SELECT (SELECT count(*) FROM all_cases), (SELECT count(*) FROM cases)").fetchall()[0]
    if kept < total:
        notes.append(f"date range kept {kept:,} of {total:,} cases (cases that started in the range)")
    if scope.variant_coverage is not None and kept:
        # Keep the most frequent variants until they cover the asked share of cases.
        con.execute("""
            CREATE TABLE kept_variants AS
            SELECT trace FROM (
                SELECT trace, n, sum(n) OVER (ORDER BY n DESC, trace ROWS UNBOUNDED PRECEDING) - n AS before
                FROM (SELECT trace, count(*) AS n FROM cases GROUP BY trace))
            WHERE before < $coverage * (SELECT count(*) FROM cases)""", {"coverage": scope.variant_coverage})
        con.execute("DELETE FROM cases WHERE trace NOT IN (SELECT trace FROM kept_variants)")
        after = con.execute("SELECT count(*) FROM cases").fetchall()[0][0]
        notes.append(f"variant coverage {scope.variant_coverage:.0%} kept {after:,} of {kept:,} cases")
    con.execute(f"""
        CREATE TABLE steps AS
        SELECT e.case_id, e.activity, epoch(e.timestamp) AS t, e.resource, e.reason, e.lane, e.{SEQ},
               lag(e.activity) OVER w AS prev_activity,
               lag(epoch(e.timestamp)) OVER w AS prev_t,
               lag(e.lane) OVER w AS prev_lane,
               lead(e.activity) OVER w AS next_activity,
               row_number() OVER w AS pos
        FROM log_events e SEMI JOIN cases c ON e.case_id = c.case_id
        WINDOW w AS (PARTITION BY e.case_id ORDER BY e.{SEQ})""")
    return con, notes
