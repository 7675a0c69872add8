"""Rework: activities repeated within a case, and loops back to an earlier step."""

from __future__ import annotations

import numpy as np

from backoffice.mapping.grouped import distinct_cases, first_in_case, quantile_of
from backoffice.mapping.model import Rework, ReworkActivity, ReworkLoop
from backoffice.mapping.paths import pair_codes
from backoffice.mapping.workspace import NONE, Workspace


def repeat_cases(ws: Workspace) -> np.ndarray:
    """Per activity code: the cases in which the activity happens more than once."""
    width = max(len(ws.activities), 1)
    activity = ws.activity[ws.trace_rows]
    variant = np.repeat(np.arange(len(ws.traces), dtype=np.int64), ws.trace_lengths)
    repeated = ~first_in_case(variant, activity, width)
    return distinct_cases(ws.trace_starts, np.where(repeated, activity, width), width, weights=ws.variant_cases)


def rework(ws: Workspace, *, top: int = 20) -> Rework:
    """Measure rework, and the time it adds to the median case."""
    total = ws.cases
    width = max(len(ws.activities), 1)
    # Rework depends on the sequence of activities alone: count it once per variant, on the
    # events of its first case, and weigh by the variant's cases.
    activity = ws.activity[ws.trace_rows]
    variant = np.repeat(np.arange(len(ws.traces), dtype=np.int64), ws.trace_lengths)
    repeated = ~first_in_case(variant, activity, width)  # the activity already happened earlier in the case
    weights = ws.trace_weights
    affected_variants = np.logical_or.reduceat(repeated, ws.trace_starts) if len(activity) else np.zeros(0, bool)
    affected_flags = affected_variants[ws.variant]
    affected = int(ws.variant_cases[affected_variants].sum())
    repeats = np.rint(np.bincount(activity[repeated], weights=weights[repeated], minlength=width)).astype(np.int64)
    repeat_cases = distinct_cases(ws.trace_starts, np.where(repeated, activity, width), width,
                                  weights=ws.variant_cases)
    # A repeated event is never a case's first, so it always has a step before it.
    rows = ws.trace_rows
    previous = np.where(ws.first[rows], NONE, ws.activity[np.maximum(rows - 1, 0)])
    pair, pairs, found = pair_codes(previous, activity, width, ~repeated)
    loop_count = np.rint(np.bincount(pair, weights=weights, minlength=found + 1)).astype(np.int64)
    loop_cases = distinct_cases(ws.trace_starts, pair, found, weights=ws.variant_cases)
    with_rework = quantile_of(ws.cycle[affected_flags], 0.5)
    without = quantile_of(ws.cycle[~affected_flags], 0.5)
    added = with_rework - without if with_rework is not None and without is not None else None
    name = ws.activities
    repeated_activities = sorted((ReworkActivity(activity=name[code], cases=int(repeat_cases[code]),
                                                 repeats=int(repeats[code]))
                                  for code in np.flatnonzero(repeats).tolist()),
                                 key=lambda r: (-r.cases, -r.repeats, r.activity))[:top]
    loop_list = sorted((ReworkLoop(source=name[pairs[index] // width], target=name[pairs[index] % width],
                                   count=int(loop_count[index]), cases=int(loop_cases[index]))
                        for index in np.flatnonzero(loop_count[:found]).tolist()),
                       key=lambda loop: (-loop.count, loop.source, loop.target))[:top]
    return Rework(cases_affected=affected, share_of_cases=affected / total if total else 0.0,
                  repeated_activities=repeated_activities, loops=loop_list,
                  median_cycle_time_with=with_rework, median_cycle_time_without=without, added_time=added)
