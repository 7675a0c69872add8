"""Exceptions: the reasons recorded on events, the cases they touch, and where they end."""

from __future__ import annotations

from collections import Counter

import numpy as np

from backoffice.mapping.grouped import compact, distinct, distinct_cases
from backoffice.mapping.model import ExceptionReason, Exceptions, ProcessMap, ReasonCount, ResolutionStep
from backoffice.mapping.workspace import NONE, Workspace, case_starts

CASE_ENDED = "(case ended)"


def exceptions(ws: Workspace, *, column: str, top: int = 20) -> Exceptions:
    """Top reasons by cases touched, and the step that followed each reason's last event in a case."""
    width = max(len(ws.reasons), 1)
    rows = ws.reason_rows
    reason, case = ws.reason_codes[rows], ws.case_of(rows)
    events = np.bincount(reason, minlength=width)
    cases = distinct_cases(case_starts(case), reason, width, case=case)
    ranked = sorted(np.flatnonzero(events).tolist(),
                    key=lambda code: (-cases[code], -events[code], ws.reasons[code]))[:top]
    # The step after the last event carrying the reason is where the case left the exception.
    # Rows are in case and time order, so the last row of each (case, reason) pair is the
    # first one met when walking the rows backwards.
    pair = case.astype(np.int64) * width + reason
    _, last_from_end = np.unique(pair[::-1], return_index=True)
    last = rows[len(rows) - 1 - last_from_end]
    following = np.minimum(last + 1, max(ws.events - 1, 0))
    after = np.where(following < ws.ends[ws.case_of(last)], ws.activity[following], NONE)
    steps = len(ws.activities) + 1  # NONE (the case ended) becomes step 0
    outcome, outcomes = compact(ws.reason_codes[last].astype(np.int64) * steps + after + 1, width * steps)
    resolved: dict[int, Counter[str]] = {}
    for key, count in zip(outcomes.tolist(), np.bincount(outcome, minlength=len(outcomes)).tolist()):
        step = key % steps - 1
        resolved.setdefault(key // steps, Counter())[CASE_ENDED if step == NONE else ws.activities[step]] += count
    touched = int(np.count_nonzero(case[1:] != case[:-1])) + 1 if len(case) else 0
    return Exceptions(column=column, cases_with_exceptions=touched, reasons=[
        ExceptionReason(reason=ws.reasons[code], events=int(events[code]), cases=int(cases[code]), resolved_at=[
            ResolutionStep(activity=step, cases=n)
            for step, n in sorted(resolved.get(code, Counter()).items(), key=lambda item: (-item[1], item[0]))[:5]])
        for code in ranked])


def reasons_by_activity(ws: Workspace) -> dict[int, list[ReasonCount]]:
    """Per activity code: the exception reasons recorded on its steps, most cases first."""
    width = max(len(ws.reasons), 1)
    rows = ws.reason_rows
    if not len(rows):
        return {}
    pair = ws.activity[rows].astype(np.int64) * width + ws.reason_codes[rows]
    dense, keys = compact(pair, max(len(ws.activities), 1) * width)
    events = np.bincount(dense, minlength=len(keys))
    # Rows are grouped by case: a (case, pair) seen for the first time is one more case.
    seen = distinct(ws.case_of(rows).astype(np.int64) * len(keys) + dense)
    cases = np.bincount(seen % len(keys), minlength=len(keys))
    found: dict[int, list[ReasonCount]] = {}
    for index, key in enumerate(keys.tolist()):
        found.setdefault(key // width, []).append(ReasonCount(reason=ws.reasons[key % width], cases=int(cases[index]),
                                                             events=int(events[index])))
    for reasons in found.values():
        reasons.sort(key=lambda reason: (-reason.cases, -reason.events, reason.reason))
    return found


def raised_at(process_map: ProcessMap) -> dict[str, list[tuple[str, int]]]:
    """Per exception reason, the steps it is recorded on and in how many cases, most cases first."""
    found: dict[str, list[tuple[str, int]]] = {}
    for activity in process_map.activities:
        for reason in activity.exception_reasons:
            found.setdefault(reason.reason, []).append((activity.name, reason.cases))
    return {reason: sorted(steps, key=lambda step: (-step[1], step[0])) for reason, steps in found.items()}
