"""Exceptions: the reasons recorded on events, the cases they touch, and where they end."""

from __future__ import annotations

import duckdb

from backoffice.mapping.model import ExceptionReason, Exceptions, ResolutionStep

CASE_ENDED = "(case ended)"


def exceptions(con: duckdb.DuckDBPyConnection, *, column: str, top: int = 20) -> Exceptions:
    """Top reasons by cases touched, and the step that followed each reason's last event in a case."""
    reasons = con.execute("""
        SELECT reason, count(*), count(DISTINCT case_id) FROM steps WHERE reason IS NOT NULL
        GROUP BY reason ORDER BY 3 DESC, 2 DESC, 1 LIMIT $top""", {"top": top}).fetchall()
    # The step after the last event carrying the reason is where the case left the exception.
    resolutions = con.execute(f"""
        WITH last AS (SELECT reason, case_id, max(pos) AS pos FROM steps
                      WHERE reason IS NOT NULL GROUP BY reason, case_id)
        SELECT last.reason, coalesce(s.next_activity, '{CASE_ENDED}'), last.case_id
        FROM last JOIN steps s ON s.case_id = last.case_id AND s.pos = last.pos""").fetchall()
    resolved: dict[str, dict[str, int]] = {}
    for reason, step, _case in resolutions:
        counts = resolved.setdefault(reason, {})
        counts[step] = counts.get(step, 0) + 1
    cases = con.execute("SELECT count(DISTINCT case_id) FROM steps WHERE reason IS NOT NULL").fetchall()[0][0]
    return Exceptions(column=column, cases_with_exceptions=cases, reasons=[
        ExceptionReason(reason=reason, events=events, cases=touched, resolved_at=[
            ResolutionStep(activity=step, cases=n)
            for step, n in sorted(resolved.get(reason, {}).items(), key=lambda item: (-item[1], item[0]))[:5]])
        for reason, events, touched in reasons])
