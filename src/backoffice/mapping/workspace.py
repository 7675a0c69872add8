"""The tables every section of the map reads: steps (events with their neighbours) and cases.

The event log is grouped by case and sorted by time, so each event's previous step is simply
the row before it when both belong to the same case. We compute that with numpy over
integer codes (one shift, no window function, no string comparison), hand DuckDB small
integer tables to aggregate, and turn codes back into names only in the final, small results.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from backoffice.events.schema import Column, EventLog
from backoffice.mapping.model import DurationStats

NONE = -1  # the code of a missing value (no lane, no resource, no reason, no previous step)


def stats_columns(expression: str) -> str:
    """SQL aggregates that fill a DurationStats, in its field order."""
    return (f"count({expression}), coalesce(sum({expression}), 0), coalesce(avg({expression}), 0), "
            f"coalesce(quantile_cont({expression}, 0.5), 0), coalesce(quantile_cont({expression}, 0.9), 0), "
            f"coalesce(max({expression}), 0)")


def stats_fields(values: tuple) -> dict[str, float]:
    """The fields of DurationStats from the six values `stats_columns` selects."""
    count, total, mean, median, p90, maximum = values
    return {"count": int(count), "total": float(total), "mean": float(mean), "median": float(median),
            "p90": float(p90), "max": float(maximum)}


def stats_of(values: tuple) -> DurationStats:
    """Build DurationStats from the six values `stats_columns` selects."""
    return DurationStats(**stats_fields(values))


@dataclass(frozen=True)
class Scope:
    """Which cases the map covers (filters applied before any counting)."""

    since: datetime | None = None
    until: datetime | None = None
    variant_coverage: float | None = None


@dataclass
class Workspace:
    """A DuckDB connection holding `steps` and `cases`, and the names behind their codes."""

    con: duckdb.DuckDBPyConnection
    activities: list[str]
    lanes: list[str]
    resources: list[str]
    reasons: list[str]
    case_ids: list[str]
    traces: list[tuple[int, ...]]
    notes: list[str]
    steps: pa.Table

    def activity(self, code: int | None) -> str | None:
        return None if code is None or code == NONE else self.activities[code]

    def lane(self, code: int | None) -> str | None:
        return None if code is None or code == NONE else self.lanes[code]


def codes(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, list[str]]:
    """Integer codes of a text column (NONE where missing) and the names they stand for."""
    if isinstance(column, pa.ChunkedArray) and not pa.types.is_dictionary(column.type):
        column = column.combine_chunks()
    encoded = column if pa.types.is_dictionary(column.type) else pc.dictionary_encode(column)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.unify_dictionaries().combine_chunks() if encoded.num_chunks > 1 else encoded.chunk(0)
    indices = encoded.indices.fill_null(NONE).to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
    return indices, encoded.dictionary.to_pylist()


def open_workspace(log: EventLog, *, lane_column: str | None, scope: Scope) -> Workspace:
    """Encode the log, apply the scope's filters, and register `steps` and `cases` with DuckDB."""
    table = log.table
    rows = table.num_rows
    case_codes, _ = codes(table.column(Column.CASE_ID))
    activity, activity_names = codes(table.column(Column.ACTIVITY))
    lane, lane_names = codes(table.column(lane_column)) if lane_column else (np.full(rows, NONE, np.int32), [])
    resource, resource_names = codes(table.column(Column.RESOURCE))
    reason, reason_names = codes(table.column(Column.REASON))
    seconds = table.column(Column.TIMESTAMP).combine_chunks().cast(pa.int64()).to_numpy() / 1e6
    case_ids_all = table.column(Column.CASE_ID).combine_chunks()

    starts = np.flatnonzero(np.r_[True, case_codes[1:] != case_codes[:-1]])
    ends = np.r_[starts[1:], rows]
    variant, traces = _variants(activity, starts, ends)
    notes: list[str] = []

    keep = np.ones(len(starts), dtype=bool)
    if scope.since is not None:
        keep &= seconds[starts] >= scope.since.timestamp()
    if scope.until is not None:
        keep &= seconds[starts] < scope.until.timestamp()
    if not keep.all():
        notes.append(f"date range kept {int(keep.sum()):,} of {len(starts):,} cases (cases that started in the range)")
    if scope.variant_coverage is not None and keep.any():
        before = int(keep.sum())
        keep &= _covering(variant, keep, scope.variant_coverage)
        notes.append(f"variant coverage {scope.variant_coverage:.0%} kept {int(keep.sum()):,} of {before:,} cases")
    if not keep.all():
        event_keep = np.repeat(keep, ends - starts)
        activity, lane, resource, reason, seconds = (array[event_keep] for array in
                                                     (activity, lane, resource, reason, seconds))
        case_ids_all = case_ids_all.filter(pa.array(event_keep))
        lengths = (ends - starts)[keep]
        starts = np.r_[0, np.cumsum(lengths)[:-1]].astype(np.int64) if len(lengths) else np.array([], np.int64)
        ends = starts + lengths
        variant = variant[keep]

    count = len(activity)
    case = np.repeat(np.arange(len(starts), dtype=np.int32), ends - starts)
    first = np.zeros(count, dtype=bool)
    first[starts] = True
    last = np.zeros(count, dtype=bool)
    last[ends - 1] = True
    previous = np.roll(activity, 1)
    previous[first] = NONE
    previous_lane = np.roll(lane, 1)
    previous_lane[first] = NONE
    following = np.roll(activity, -1)
    following[last] = NONE
    wait = np.subtract(seconds, np.roll(seconds, 1))
    position = (np.arange(count, dtype=np.int64) - np.repeat(starts, ends - starts) + 1).astype(np.int32)
    started, ended = seconds[starts], seconds[ends - 1]
    del seconds, last

    # "In how many cases" as a flag on the first row of each case that has the thing, so
    # DuckDB counts flags instead of running COUNT(DISTINCT case) over every row.
    activities_wide = max(len(activity_names), 1)
    first_activity = first_in_case(case, activity, activities_wide)
    edge = np.where(previous == NONE, NONE, previous.astype(np.int64) * activities_wide + activity)
    first_edge = first_in_case(case, edge, activities_wide * activities_wide)
    del edge
    lanes_wide = max(len(lane_names), 1) + 1
    handoff = np.where((previous_lane == NONE) | (lane == NONE) | (previous_lane == lane), NONE,
                       previous_lane.astype(np.int64) * lanes_wide + lane)
    first_handoff = first_in_case(case, handoff, lanes_wide * lanes_wide)
    del handoff

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    # Numeric numpy arrays become Arrow columns without a copy; the wait's mask marks the
    # first event of each case, which has no previous step to wait for.
    steps = pa.table({"first_activity": first_activity, "first_edge": first_edge, "first_handoff": first_handoff,
                      "case_id": case, "activity": activity, "lane": lane, "resource": resource,
                      "reason": reason, "prev_activity": previous, "prev_lane": previous_lane,
                      "next_activity": following, "wait": pa.array(wait, mask=first), "pos": position})
    con.register("steps", steps)
    cases = pa.table({"case_id": np.arange(len(starts), dtype=np.int32), "variant": variant,
                      "started": started, "ended": ended, "cycle": ended - started,
                      "events": (ends - starts).astype(np.int64)})
    con.register("cases", cases)
    case_ids = case_ids_all.take(pa.array(starts)).cast(pa.string()).to_pylist() if len(starts) else []
    return Workspace(con=con, activities=activity_names, lanes=lane_names, resources=resource_names,
                     reasons=reason_names, case_ids=case_ids, traces=traces, notes=notes, steps=steps)


def first_in_case(case: np.ndarray, code: np.ndarray, width: int) -> np.ndarray:
    """Flag the first row of each case holding each code (codes in [0, width); NONE never flagged).

    Rows are grouped by case, so among the rows of one code the cases never decrease: a
    stable sort by code alone lines up each (code, case) pair, and a row is first when its
    case differs from the row before it. Codes that fit 16 bits sort in linear time.
    """
    if width <= np.iinfo(np.int16).max:
        order = np.argsort(code.astype(np.int16), kind="stable")
    else:
        order = np.argsort(code, kind="stable")
    sorted_code, sorted_case = code[order], case[order]
    starts_pair = np.ones(len(order), dtype=bool)
    starts_pair[1:] = (sorted_code[1:] != sorted_code[:-1]) | (sorted_case[1:] != sorted_case[:-1])
    flags = np.zeros(len(code), dtype=bool)
    flags[order[starts_pair]] = True
    flags[code == NONE] = False
    return flags


def _variants(activity: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    """Number each case's sequence of activities; equal sequences get equal numbers."""
    raw = activity.astype(np.int32, copy=False).tobytes()
    numbers: dict[bytes, int] = {}
    variant = np.empty(len(starts), dtype=np.int32)
    for index, (start, end) in enumerate(zip(starts.tolist(), ends.tolist())):
        variant[index] = numbers.setdefault(raw[4 * start:4 * end], len(numbers))
    traces = [tuple(np.frombuffer(key, dtype=np.int32).tolist()) for key in numbers]
    return variant, traces


def _covering(variant: np.ndarray, keep: np.ndarray, coverage: float) -> np.ndarray:
    """Mark the cases of the most frequent variants that together cover `coverage` of the cases."""
    counts = np.bincount(variant[keep], minlength=int(variant.max()) + 1)
    order = np.lexsort((np.arange(len(counts)), -counts))  # most cases first, ties by first seen
    covered_before = np.cumsum(counts[order]) - counts[order]
    chosen = order[(covered_before < coverage * keep.sum()) & (counts[order] > 0)]
    return np.isin(variant, chosen)
