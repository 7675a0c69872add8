"""Activities and directly-follows paths, with the waiting between steps."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from backoffice.mapping.grouped import compact, distinct_cases, duration_stats
from backoffice.mapping.model import Activity, ActivityCount, DurationStats, Edge, StepKind, TimeSink
from backoffice.mapping.workspace import NONE, Workspace

# Up to this many pairs (64 activities), a pair's key is its number.
DIRECT_PAIRS = 1 << 12


def edges(ws: Workspace) -> list[Edge]:
    """Every directly-follows path, most frequent first."""
    width = max(len(ws.activities), 1)
    # Each event but a case's first closes the path from the step before it; the first
    # events get a code past every path, which the counts below leave out.
    pair, pairs, found = pair_codes(ws.previous_activity, ws.activity, width, ws.first)
    count = np.bincount(pair, minlength=found)
    cases = distinct_cases(ws.trace_starts, pair[ws.trace_rows], found, weights=ws.variant_cases)
    wait = duration_stats(pair, ws.wait, found)
    handoffs = np.bincount(pair[ws.handoff], minlength=found)
    names = ws.activities
    edges_found = [Edge(source=names[pairs[index] // width], target=names[pairs[index] % width],
                        count=int(count[index]), cases=int(cases[index]), wait=wait.fields(index),
                        handoffs=int(handoffs[index]))
                   for index in np.flatnonzero(count[:found]).tolist()]
    return sorted(edges_found, key=lambda edge: (-edge.count, edge.source, edge.target))


def pair_codes(before: np.ndarray, after: np.ndarray, width: int, left_out: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Number the (before, after) pairs of codes in [0, width) on the rows not left out.

    Returns:
        (the pair number of each row, the key before * width + after behind each pair
        number, how many pair numbers there are); left-out rows get the number just past
        the last. A pair number may have no rows: count before reporting one.
    """
    keys = before.astype(np.int64)
    keys *= width
    keys += after
    keys[left_out] = width * width
    if width * width <= DIRECT_PAIRS:
        # Few activities: the key itself is the pair number, which spares renumbering.
        return keys, np.arange(width * width, dtype=np.int64), width * width
    pair, present = compact(keys, width * width + 1)
    found = len(present) - int(bool(len(present)) and present[-1] == width * width)
    return pair, present, found


@dataclass(frozen=True)
class ActivityFacts:
    """What the evidence says about one activity, before it is classified."""

    name: str
    events: int
    cases: int
    lane: str | None
    repeats: int
    wait_before: DurationStats | None


def activity_facts(ws: Workspace) -> list[ActivityFacts]:
    """Per activity: counts, the lane doing it most, and the waiting before it."""
    width = max(len(ws.activities), 1)
    events = np.bincount(ws.activity, minlength=width)
    cases = distinct_cases(ws.trace_starts, ws.activity[ws.trace_rows], width, weights=ws.variant_cases)
    # A case's first event waits for nothing: its code, width, is left out of the statistics.
    waited = np.where(ws.first, width, ws.activity)
    wait = duration_stats(waited, ws.wait, width)
    lanes = _main_lane(ws)
    facts = [ActivityFacts(name=ws.activities[code], events=int(events[code]), cases=int(cases[code]),
                           lane=ws.lane_name(lanes[code]), repeats=int(events[code] - cases[code]),
                           wait_before=DurationStats(**wait.fields(code)) if wait.count[code] else None)
             for code in np.flatnonzero(events).tolist()]
    return sorted(facts, key=lambda fact: (-fact.events, fact.name))


def _main_lane(ws: Workspace) -> np.ndarray:
    """Per activity code, the lane code that performs it most often (the first such lane on a tie), or NONE."""
    width = max(len(ws.activities), 1)
    lanes = max(len(ws.lanes), 1)
    pair, pairs, found = pair_codes(ws.activity, ws.lane, max(width, lanes), ws.lane == NONE)
    count = np.bincount(pair, minlength=found)[:found]
    occurs = count > 0
    count, activity, lane = count[occurs], pairs[:found][occurs] // max(width, lanes), pairs[:found][occurs] % max(width, lanes)
    # Most events first within each activity, then the lowest lane code: the first on a tie.
    order = np.lexsort((lane, -count, activity))
    first = np.ones(len(order), dtype=bool)
    first[1:] = activity[order][1:] != activity[order][:-1]
    main = np.full(width, NONE, dtype=np.int64)
    main[activity[order][first]] = lane[order][first]
    return main


def service_shares(ws: Workspace, is_service_account) -> dict[str, float]:
    """Per activity with named resources: the share of those events done by service accounts.

    Args:
        is_service_account: tells, from a resource name, whether it is a machine.
    """
    width = max(len(ws.activities), 1)
    # Per resource code: 0 no name (the last entry, which NONE indexes), 1 a person, 2 a machine.
    kind_of_resource = np.array([2 if is_service_account(name) else 1 for name in ws.resources] + [0], dtype=np.int64)
    by_kind = np.bincount(ws.activity.astype(np.int64) * 3 + kind_of_resource[ws.resource],
                          minlength=3 * width).reshape(width, 3)
    by_name = by_kind[:, 1] + by_kind[:, 2]
    return {ws.activities[code]: by_kind[code, 2] / by_name[code] for code in np.flatnonzero(by_name).tolist()}


def build_activities(facts: list[ActivityFacts], kinds: dict[str, StepKind]) -> list[Activity]:
    """Typed activities from their facts and kinds."""
    return [Activity(name=fact.name, events=fact.events, cases=fact.cases, lane=fact.lane,
                     kind=kinds[fact.name], wait_before=fact.wait_before, repeats=fact.repeats)
            for fact in facts]


def start_and_end(ws: Workspace, variant_cases: np.ndarray) -> tuple[list[ActivityCount], list[ActivityCount]]:
    """How many cases start and end with each activity."""
    starts: Counter[str] = Counter()
    ends: Counter[str] = Counter()
    for variant, cases in enumerate(variant_cases.tolist()):
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
