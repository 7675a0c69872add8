"""Handoffs: the next step is done by another lane (role, resource, system or group)."""

from __future__ import annotations

from backoffice.mapping.model import Handoff
from backoffice.mapping.workspace import Workspace, stats_columns, stats_of


def handoffs(ws: Workspace) -> list[Handoff]:
    """Every pair of lanes work passes between, most frequent first.

    A missing lane value on either side is not a handoff: the evidence does not say who
    did the step, so we cannot claim the work changed hands.
    """
    rows = ws.con.execute(f"""
        SELECT prev_lane, lane, count(*), count(*) FILTER (WHERE first_handoff), {stats_columns('wait')}
        FROM steps
        WHERE prev_lane >= 0 AND lane >= 0 AND prev_lane <> lane
        GROUP BY prev_lane, lane""").fetchall()
    found = [Handoff(from_lane=ws.lanes[row[0]], to_lane=ws.lanes[row[1]], count=row[2], cases=row[3],
                     wait=stats_of(row[4:10])) for row in rows]
    return sorted(found, key=lambda handoff: (-handoff.count, handoff.from_lane, handoff.to_lane))
