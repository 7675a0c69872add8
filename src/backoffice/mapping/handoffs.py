"""Handoffs: the next step is done by another lane (role, resource, system or group)."""

from __future__ import annotations

import duckdb

from backoffice.mapping.model import Handoff
from backoffice.mapping.workspace import stats_columns, stats_of


def handoffs(con: duckdb.DuckDBPyConnection) -> list[Handoff]:
    """Every pair of lanes work passes between, most frequent first.

    A missing lane value on either side is not a handoff: the evidence does not say who
    did the step, so we cannot claim the work changed hands.
    """
    rows = con.execute(f"""
        SELECT prev_lane, lane, count(*), count(DISTINCT case_id), {stats_columns('(t - prev_t)')}
        FROM steps
        WHERE prev_lane IS NOT NULL AND lane IS NOT NULL AND prev_lane <> lane
        GROUP BY prev_lane, lane ORDER BY count(*) DESC, prev_lane, lane""").fetchall()
    return [Handoff(from_lane=row[0], to_lane=row[1], count=row[2], cases=row[3], wait=stats_of(row[4:10]))
            for row in rows]
