"""Exceptions: the reasons recorded on events, the cases they touch, and where they end."""

from __future__ import annotations

from collections import Counter

from backoffice.mapping.model import ExceptionReason, Exceptions, ResolutionStep
from backoffice.mapping.workspace import NONE, Workspace

CASE_ENDED = "(case ended)"


def exceptions(ws: Workspace, *, column: str, top: int = 20) -> Exceptions:
    """Top reasons by cases touched, and the step that followed each reason's last event in a case."""
    reasons = ws.con.execute("""
        SELECT reason, count(*), count(DISTINCT case_id) FROM steps WHERE reason >= 0
        GROUP BY reason""").fetchall()
    reasons = sorted(reasons, key=lambda row: (-row[2], -row[1], ws.reasons[row[0]]))[:top]
    # The step after the last event carrying the reason is where the case left the exception.
    resolutions = ws.con.execute("""
        WITH last AS (SELECT reason, case_id, max(pos) AS pos FROM steps WHERE reason >= 0 GROUP BY reason, case_id)
        SELECT last.reason, s.next_activity, count(*)
        FROM last JOIN steps s ON s.case_id = last.case_id AND s.pos = last.pos
        GROUP BY ALL""").fetchall()
    resolved: dict[int, Counter[str]] = {}
    for reason, step, cases in resolutions:
        resolved.setdefault(reason, Counter())[CASE_ENDED if step == NONE else ws.activities[step]] += cases
    touched = ws.con.execute("SELECT count(DISTINCT case_id) FROM steps WHERE reason >= 0").fetchall()[0][0]
    return Exceptions(column=column, cases_with_exceptions=touched, reasons=[
        ExceptionReason(reason=ws.reasons[reason], events=events, cases=cases, resolved_at=[
            ResolutionStep(activity=step, cases=n)
            for step, n in sorted(resolved.get(reason, Counter()).items(), key=lambda item: (-item[1], item[0]))[:5]])
        for reason, events, cases in reasons])
