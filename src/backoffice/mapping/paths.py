"""Activities and directly-follows paths, with the waiting between steps."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from backoffice.mapping.grouped import (DurationColumns, KeyCounts, KeyedWaits, compact, distinct_cases,
                                        duration_stats)
from backoffice.events.instances import NOT_MEASURED
from backoffice.mapping.model import (Activity, ActivityCount, DurationStats, Edge, LaneShare, ReasonCount, StepKind,
                                      TimeSink)
from backoffice.mapping.workspace import NONE, Workspace
from backoffice.side_by_side import side_by_side

# Up to this many pairs (64 activities), a pair's key is its number.
DIRECT_PAIRS = 1 << 12
# An activity sits in a lane when that lane does at least this share of it; else it is shared.
LANE_MAJORITY = 0.6
MAX_LANE_SPLIT = 20


def edges(ws: Workspace) -> list[Edge]:
    """Every directly-follows path, most frequent first."""
    return edges_and_waits(ws)[0]


def edges_and_waits(ws: Workspace) -> tuple[list[Edge], DurationColumns]:
    """Every directly-follows path, most frequent first, and the statistics of the waits before each activity.

    The waits before an activity are those of the paths into it: sorted by path here, they
    are sorted by activity by merging runs, not sorted again (for `activity_facts`).
    """
    width = max(len(ws.activities), 1)
    # The log is read a slice at a time (see KeyedWaits): no temporary of the log's length
    # but the waits' (15M events: 103 MiB).
    walk, handed = KeyedWaits(width * width, ws.events - ws.cases), KeyCounts(width * width)
    for start, end, _, _ in ws.slices():
        key, closes = _paths_closed(ws, start, end, width)
        walk.add(key, ws.waits(start, end)[closes])
        handed.count(key[ws.handoff[start:end][closes]])
    keys, count, by_path = walk.sorted(lambda: (_paths_closed(ws, start, end, width)[0]
                                                for start, end, _, _ in ws.slices()))
    followed = walk.counts
    found = len(keys)
    del walk
    handoffs = np.zeros(found, dtype=np.int64)
    handoffs[followed.numbers(handed.found()[0])] = handed.found()[1]
    # How many cases take each path depends on the variant alone: counted on the variants'
    # rows, where each case's first row closes no path (number `found`, counted for none).
    rows = ws.trace_rows
    trace_key = ws.activity[np.maximum(rows - 1, 0)].astype(np.int64) * width + ws.activity[rows]
    opens = ws.first[rows]
    trace_pair = np.full(len(rows), found, dtype=np.int64)
    trace_pair[~opens] = followed.numbers(trace_key[~opens])
    cases = distinct_cases(ws.trace_starts, trace_pair, found, weights=ws.variant_cases)
    # Both read the sorted waits; the merge by activity holds a copy of one activity's.
    wait, waits_before = side_by_side([by_path.stats, lambda: by_path.regrouped_stats(keys % width, width)])
    del by_path
    names = ws.activities
    edges_found = [Edge(source=names[key // width], target=names[key % width], count=int(count[index]),
                        cases=int(cases[index]), wait=wait.fields(index), handoffs=int(handoffs[index]))
                   for index, key in enumerate(keys.tolist())]
    return sorted(edges_found, key=lambda edge: (-edge.count, edge.source, edge.target)), waits_before


def _paths_closed(ws: Workspace, start: int, end: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The paths closed in rows [start, end): (each one's key, before * width + after; which rows close one).

    Each step but a case's first closes the path from the step before it, the row before.
    """
    closes = ~ws.first[start:end]
    key = np.empty(end - start, dtype=np.int64)
    if end > start:
        key[0] = ws.activity[start - 1] if start else 0
        key[1:] = ws.activity[start:end - 1]
    key *= width
    key += ws.activity[start:end]
    return key[closes], closes


def pair_codes(before: np.ndarray, after: np.ndarray, width: int, left_out: np.ndarray, *,
               in_place: bool = False) -> tuple[np.ndarray, np.ndarray, int]:
    """Number the (before, after) pairs of codes in [0, width) on the rows not left out.

    Args:
        in_place: `before` (int64) may become the keys, instead of a copy of the log's length.

    Returns:
        (the pair number of each row, the key before * width + after behind each pair
        number, how many pair numbers there are); left-out rows get the number just past
        the last. A pair number may have no rows: count before reporting one.
    """
    keys = before if in_place and before.dtype == np.int64 else before.astype(np.int64)
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
    shared: bool = False
    lane_split: tuple[LaneShare, ...] = ()
    processing: DurationStats | None = None
    rework_cases: int = 0
    exception_reasons: tuple[ReasonCount, ...] = ()


def activity_facts(ws: Workspace, *, repeat_cases: np.ndarray | None = None,
                   reasons: dict[int, list[ReasonCount]] | None = None,
                   waits_before: DurationColumns | None = None) -> list[ActivityFacts]:
    """Per activity: counts, its lane (or how lanes share it), processing time and the waiting before it.

    Args:
        repeat_cases: per activity code, the cases where it repeats (see `rework.repeat_cases`).
        reasons: per activity code, the exception reasons recorded on it.
        waits_before: the statistics of the waits before each activity (`edges_and_waits`);
            None computes them here.
    """
    width = max(len(ws.activities), 1)
    events = ws.activity_events
    cases = distinct_cases(ws.trace_starts, ws.activity[ws.trace_rows], width, weights=ws.variant_cases)
    # A case's first event waits for nothing: its code, width, is left out of the statistics.
    wait = waits_before
    if wait is None:
        waited = ws.activity.astype(np.int64)
        waited[ws.first] = width
        wait = duration_stats(waited, ws.wait, width, consume=True)
        del waited
    processing = None
    if ws.processing is not None:
        measured = ws.processing != NOT_MEASURED
        processing = duration_stats(np.where(measured, ws.activity, width), np.maximum(ws.processing, 0), width)
    splits = lane_splits(ws)
    facts = []
    for code in np.flatnonzero(events).tolist():
        split = splits.get(code, ())
        main = split[0] if split and split[0].share >= LANE_MAJORITY else None
        facts.append(ActivityFacts(
            name=ws.activities[code], events=int(events[code]), cases=int(cases[code]),
            lane=main.lane if main else None, repeats=int(events[code] - cases[code]),
            wait_before=DurationStats(**wait.fields(code)) if wait.count[code] else None,
            shared=bool(split) and main is None, lane_split=tuple(split[:MAX_LANE_SPLIT]),
            processing=(DurationStats(**processing.fields(code))
                        if processing is not None and processing.count[code] else None),
            rework_cases=int(repeat_cases[code]) if repeat_cases is not None else 0,
            exception_reasons=tuple((reasons or {}).get(code, ()))))
    return sorted(facts, key=lambda fact: (-fact.events, fact.name))


def lane_splits(ws: Workspace) -> dict[int, list[LaneShare]]:
    """Per activity code, the lanes doing its steps (known lanes only), most steps first, ties by name."""
    width = max(len(ws.activities), 1)
    lanes = max(len(ws.lanes), 1)
    done = KeyCounts(width * lanes)  # activity * lanes + lane, a slice of the log at a time
    for start, end, _, _ in ws.slices():
        lane = ws.lane[start:end]
        known = lane != NONE
        key = ws.activity[start:end][known].astype(np.int64)
        key *= lanes
        key += lane[known]
        done.count(key)
    keys, count = done.found()
    activity, lane = keys // lanes, keys % lanes
    known = np.bincount(activity, weights=count, minlength=width)
    splits: dict[int, list[LaneShare]] = {}
    for code, lane_code, n in zip(activity.tolist(), lane.tolist(), count.tolist()):
        splits.setdefault(code, []).append(LaneShare(lane=ws.lanes[lane_code], events=n, share=n / known[code]))
    for split in splits.values():
        split.sort(key=lambda share: (-share.events, share.lane))
    return splits


def service_shares(ws: Workspace, is_service_account) -> dict[str, float]:
    """Per activity with named resources: the share of those events done by service accounts.

    Args:
        is_service_account: tells, from a resource name, whether it is a machine.
    """
    width = max(len(ws.activities), 1)
    # Per resource code: 0 no name (the last entry, which NONE indexes), 1 a person, 2 a machine.
    kind_of_resource = np.array([2 if is_service_account(name) else 1 for name in ws.resources] + [0], dtype=np.int8)
    # A slice of the log at a time, in int32 with one-byte kinds: no temporaries of the log's
    # length (np.bincount would copy int32 keys to int64). A missing resource's code may
    # be anything: clipped, then its kind set to 0.
    by_kind = np.zeros(3 * width, dtype=np.int64)
    for start, end, _, _ in ws.slices():
        key = np.multiply(ws.activity[start:end], 3, dtype=np.int32)
        kind = kind_of_resource.take(ws.resource_codes[start:end], mode="clip")
        if ws.resource_known is not None:
            kind[~ws.resource_known[start:end]] = 0
        key += kind
        by_kind += np.bincount(key, minlength=3 * width)
    by_kind = by_kind.reshape(width, 3)
    by_name = by_kind[:, 1] + by_kind[:, 2]
    return {ws.activities[code]: by_kind[code, 2] / by_name[code] for code in np.flatnonzero(by_name).tolist()}


def build_activities(facts: list[ActivityFacts], kinds: dict[str, StepKind]) -> list[Activity]:
    """Typed activities from their facts and kinds."""
    return [Activity(name=fact.name, events=fact.events, cases=fact.cases, lane=fact.lane, shared=fact.shared,
                     lane_split=list(fact.lane_split), kind=kinds[fact.name], wait_before=fact.wait_before,
                     processing=fact.processing, repeats=fact.repeats, rework_cases=fact.rework_cases,
                     exception_reasons=list(fact.exception_reasons))
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
