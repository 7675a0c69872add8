"""The arrays every section of the map reads: one integer code per event and column, and the cases.

The event log is grouped by case and sorted by time, so each event's previous step is simply
the row before it when both belong to the same case. Everything is computed with numpy over
integer codes (one shift, no window function, no string comparison), and codes become names
only in the final, small results. Times are int64 microseconds, so waits are exact.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cached_property

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from backoffice.bulk import reading_in_bulk
from backoffice.events import arrow_numpy
from backoffice.events.schema import Column, EventLog
from backoffice.mapping.sequences import number_sequences, traces
from backoffice.wording import plural

# Rows a section reads at a time when it walks the log in slices (`Workspace.slices`): its
# temporaries stay a few MB whatever the log, each (an int64 a row: 2 MiB) under the size
# that `reading_in_bulk` lets malloc reuse from the heap.
SLICE_ROWS = 1 << 18
NONE = -1  # the code of a missing value (no lane, no resource, no reason, no previous step)
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Scope:
    """Which cases the map covers (filters applied before any counting)."""

    since: datetime | None = None
    until: datetime | None = None
    variant_coverage: float | None = None


@dataclass
class Workspace:
    """The events of the cases in scope as integer codes, grouped by case, and the names behind the codes.

    Attributes:
        activities, lanes, resources, reasons: the names behind each column's codes.
        activity, lane: per event, the code (NONE where missing).
        resource_codes, reason_codes: per event, the code, any value where missing: a view
            of the log's own codes, where a copy marking the missing ones would take 4 bytes
            an event (see `resource` and `reason` for that copy).
        resource_known, reason_known: per event, whether it has a value; None when all do.
        times: per event, microseconds since the epoch (UTC).
        starts, ends: per case, its events' rows [start, end).
        variant: per case, its variant number (variants numbered by their first case).
        variant_first_case: per variant, its first case.
        traces: per variant, its sequence of activity codes.
        source_rows: per case, the row of its first event in the event log's table.
        case_column: the log's case ids, to name cases in results.
        step_start: per event (step), microseconds when it started; None when the log has
            one timestamp per step (a step then starts when it happens).
        processing: per step, active microseconds, NOT_MEASURED (-1) where unknown; None
            when the log has one timestamp per step.
    """

    activities: list[str]
    lanes: list[str]
    resources: list[str]
    reasons: list[str]
    activity: np.ndarray
    lane: np.ndarray
    resource_codes: np.ndarray
    reason_codes: np.ndarray
    times: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    variant: np.ndarray
    variant_first_case: np.ndarray
    traces: list[tuple[int, ...]]
    source_rows: np.ndarray
    case_column: pa.ChunkedArray
    notes: list[str] = field(default_factory=list)
    step_start: np.ndarray | None = None
    processing: np.ndarray | None = None
    resource_known: np.ndarray | None = None
    reason_known: np.ndarray | None = None

    @property
    def cases(self) -> int:
        return len(self.starts)

    @property
    def events(self) -> int:
        return len(self.activity)

    def prepare(self) -> None:
        """Compute the per-event arrays the sections share, so sections can then run side by side."""
        # Not the previous steps' codes (`previous_activity`, `previous_lane`): the sections
        # read the row before instead, and two int32 per event are 120 MB of a 15M-event peak.
        # Nor the waits: the sections compute them a slice of rows at a time (`waits`).
        for name in ("first", "handoff", "activity_events",
                     "reason_rows", "variant_cases",
                     "trace_lengths", "trace_rows", "trace_starts", "trace_weights", "started", "ended", "cycle"):
            getattr(self, name)

    @cached_property
    def resource(self) -> np.ndarray:
        """Per event: the resource code, NONE where missing (a copy; the sections read `resource_codes`)."""
        return _marked(self.resource_codes, self.resource_known)

    @cached_property
    def reason(self) -> np.ndarray:
        """Per event: the reason code, NONE where missing (a copy; the sections read `reason_codes`)."""
        return _marked(self.reason_codes, self.reason_known)

    @cached_property
    def case(self) -> np.ndarray:
        """Per event: its case's number, the cases in scope numbered 0..n-1 in log order.

        Made only when asked: the sections need the cases of a few rows (`case_of`), and an
        int32 per event is 60 MB of a 15M-event map's peak.
        """
        return np.repeat(np.arange(self.cases, dtype=np.int32), self.ends - self.starts)

    def case_of(self, rows: np.ndarray) -> np.ndarray:
        """The case numbers (int32) of these rows: the last case starting at or before each."""
        found = np.searchsorted(self.starts, rows, side="right")
        found -= 1
        return found.astype(np.int32)

    def lane_name(self, code: int | None) -> str | None:
        """The lane behind a code, or None for a missing one."""
        return None if code is None or code == NONE else self.lanes[code]

    def case_names(self, cases: np.ndarray | list[int]) -> list[str]:
        """The case ids of cases in scope, by their numbers."""
        rows = self.source_rows[np.asarray(cases, dtype=np.int64)]
        return self.case_column.take(arrow_numpy.arrow(rows)).cast(pa.string()).to_pylist()

    @cached_property
    def first(self) -> np.ndarray:
        """Per event: is it the first of its case."""
        flags = np.zeros(self.events, dtype=bool)
        flags[self.starts] = True
        return flags

    @cached_property
    def previous_activity(self) -> np.ndarray:
        """Per event: the activity code of the step before it in its case, NONE for the first."""
        return _shifted(self.activity, self.first, 1)

    @cached_property
    def previous_lane(self) -> np.ndarray:
        """Per event: the lane code of the step before it in its case, NONE for the first."""
        return _shifted(self.lane, self.first, 1)

    @cached_property
    def wait(self) -> np.ndarray:
        """Per step: microseconds from the previous step's completion to its start (0 for a case's first).

        With one timestamp per step, a step starts when it happens. A step that started before
        the previous one completed (work in parallel) waited for nothing: 0. An int64 per
        event (15M events: 114 MiB): the sections take the waits of a slice (`waits`) or of
        a few rows (`waits_at`) instead.
        """
        return self.waits(0, self.events)

    def waits(self, start: int, end: int) -> np.ndarray:
        """The waits (see `wait`) of the rows [start, end)."""
        begin = self.times if self.step_start is None else self.step_start
        wait = np.array(begin[start:end], dtype=np.int64)
        if start:
            wait -= self.times[start - 1:end - 1]
        elif end > 1:
            wait[1:] -= self.times[:end - 1]
        if self.step_start is not None:
            np.maximum(wait, 0, out=wait)
        wait[self.first[start:end]] = 0
        return wait

    def waits_at(self, rows: np.ndarray) -> np.ndarray:
        """The waits (see `wait`) of these rows."""
        begin = self.times if self.step_start is None else self.step_start
        wait = begin[rows].astype(np.int64)
        wait -= self.times[np.maximum(rows - 1, 0)]
        if self.step_start is not None:
            np.maximum(wait, 0, out=wait)
        wait[self.first[rows]] = 0
        return wait

    def slices(self, size: int | None = None) -> Iterator[tuple[int, int, int, int]]:
        """Runs of whole cases of about `size` rows (SLICE_ROWS), in order: (start row, end row, first case, end case).

        A section that walks the log a slice at a time holds temporaries of a slice, not
        of the log; and a case never straddles two slices, so what is counted once per
        case in each slice adds up. While the slices are walked, freed blocks of a few MiB
        are reused from the heap (as when a file is read), so each slice's temporaries take
        the pages of the one before instead of faulting in fresh ones (15M events: 100,000
        page faults fewer).
        """
        size = size or SLICE_ROWS
        start, case = 0, 0
        with reading_in_bulk():
            while start < self.events:
                end_case = max(int(np.searchsorted(self.starts, start + size, side="left")), case + 1)
                end = int(self.starts[end_case]) if end_case < self.cases else self.events
                yield start, end, case, end_case
                start, case = end, end_case

    @cached_property
    def variant_cases(self) -> np.ndarray:
        """Per variant: how many cases followed it."""
        return np.bincount(self.variant, minlength=len(self.traces))

    @cached_property
    def trace_lengths(self) -> np.ndarray:
        """Per variant: how many events its sequence has."""
        return self.ends[self.variant_first_case] - self.starts[self.variant_first_case]

    @cached_property
    def trace_rows(self) -> np.ndarray:
        """The events of each variant's first case, variant after variant.

        Whatever depends on the sequence of activities alone (how many cases take a path,
        repeat a step, start or end somewhere) is the same for every case of a variant, so
        it is counted once on these rows and weighted by the variant's cases.
        """
        offsets = self.starts[self.variant_first_case] - self.trace_starts
        return np.repeat(offsets, self.trace_lengths) + np.arange(int(self.trace_lengths.sum()), dtype=np.int64)

    @cached_property
    def trace_starts(self) -> np.ndarray:
        """Per variant: the position of its first event in `trace_rows`."""
        lengths = self.trace_lengths
        return np.r_[0, np.cumsum(lengths)[:-1]].astype(np.int64) if len(lengths) else np.zeros(0, np.int64)

    @cached_property
    def trace_weights(self) -> np.ndarray:
        """Per row of `trace_rows`: the cases of its variant."""
        return np.repeat(self.variant_cases, self.trace_lengths)

    @cached_property
    def activity_events(self) -> np.ndarray:
        """Per activity code: how many steps it has."""
        return np.bincount(self.activity, minlength=max(len(self.activities), 1))

    @cached_property
    def reason_rows(self) -> np.ndarray:
        """The rows of the steps that carry an exception reason."""
        if self.reason_known is None:
            return np.arange(self.events, dtype=np.int64)
        return np.flatnonzero(self.reason_known)

    @cached_property
    def handoff(self) -> np.ndarray:
        """Per event: did the work change lane from the previous step (both lanes known).

        A case's first step has no previous step; every other's is the row before it.
        """
        flags = np.zeros(self.events, dtype=bool)
        if self.events > 1:
            before, after = self.lane[:-1], self.lane[1:]
            np.not_equal(before, after, out=flags[1:])
            flags[1:] &= before != NONE
            flags[1:] &= after != NONE
            flags[self.starts] = False
        return flags

    @cached_property
    def started(self) -> np.ndarray:
        """Per case: microseconds of its first event (the earliest start of its steps, when starts are known)."""
        if self.step_start is None or not self.cases:
            return self.times[self.starts]
        return np.minimum.reduceat(self.step_start, self.starts)

    @cached_property
    def ended(self) -> np.ndarray:
        """Per case: microseconds of its last event."""
        return self.times[self.ends - 1]

    @cached_property
    def cycle(self) -> np.ndarray:
        """Per case: microseconds from its first to its last event."""
        return self.ended - self.started


def case_starts(case: np.ndarray) -> np.ndarray:
    """The first row of each case among rows grouped by case (each case present has a row)."""
    if not len(case):
        return np.zeros(0, np.int64)
    changes = np.flatnonzero(case[1:] != case[:-1])
    changes += 1
    return np.r_[0, changes].astype(np.int64, copy=False)


def instant(micros: int) -> datetime:
    """The UTC datetime of microseconds since the epoch."""
    return EPOCH + timedelta(microseconds=int(micros))


def _marked(codes: np.ndarray, known: np.ndarray | None) -> np.ndarray:
    return codes.copy() if known is None else np.where(known, codes, NONE).astype(np.int32)


def _shifted(codes: np.ndarray, edge: np.ndarray, step: int) -> np.ndarray:
    shifted = np.roll(codes, step)
    shifted[edge] = NONE
    return shifted


def codes(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, list[str]]:
    """Integer codes of a text column (NONE where missing) and the names they stand for."""
    encoded = _encoded(column)
    if encoded is None:
        return np.zeros(0, np.int32), []
    return arrow_numpy.dictionary_codes(encoded), encoded.dictionary.cast(pa.string()).to_pylist()


def known_codes(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """As `codes`, without marking the missing values in a copy.

    Returns:
        (the codes, any value where missing; where a value is present, None when
        everywhere; the names the codes stand for).
    """
    encoded = _encoded(column)
    if encoded is None:
        return np.zeros(0, np.int32), None, []
    names = encoded.dictionary.cast(pa.string()).to_pylist()
    indices = encoded.indices
    if indices.null_count and indices.type == pa.int32():
        return arrow_numpy.values(indices), arrow_numpy.valid(indices), names
    marked = arrow_numpy.dictionary_codes(encoded)
    return marked, (marked != NONE) if indices.null_count else None, names


def _encoded(column: pa.ChunkedArray | pa.Array) -> pa.DictionaryArray | None:
    """A text column as one dictionary array; None for a column of no chunks."""
    if isinstance(column, pa.ChunkedArray):
        if column.num_chunks == 0:
            return None
        if pa.types.is_dictionary(column.type):
            column = column.unify_dictionaries().combine_chunks() if column.num_chunks > 1 else column.chunk(0)
        else:
            column = column.combine_chunks()
    if not pa.types.is_dictionary(column.type):
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            column = column.cast(pa.string())
        column = pc.dictionary_encode(column)
    return column


def open_workspace(log: EventLog, *, lane_column: str | None, scope: Scope, step_start: np.ndarray | None = None,
                   processing: np.ndarray | None = None) -> Workspace:
    """Encode the log as codes, apply the scope's filters, and number the variants.

    Args:
        log: one row per step (see `backoffice.events.instances.read_steps`).
        step_start, processing: per row, its start and active microseconds, when known.
    """
    table = log.table
    rows = table.num_rows
    case_codes, _ = codes(table.column(Column.CASE_ID))
    activity, activity_names = codes(table.column(Column.ACTIVITY))
    lane, lane_names = codes(table.column(lane_column)) if lane_column else (np.full(rows, NONE, np.int32), [])
    resource, resource_known, resource_names = known_codes(table.column(Column.RESOURCE))
    reason, reason_known, reason_names = known_codes(table.column(Column.REASON))
    times = arrow_numpy.values(table.column(Column.TIMESTAMP).cast(pa.timestamp("us", tz="UTC")))

    starts = np.flatnonzero(np.r_[True, case_codes[1:] != case_codes[:-1]]) if rows else np.zeros(0, np.int64)
    ends = np.r_[starts[1:], rows].astype(np.int64)
    variant, variant_first_case = number_sequences(activity, starts, ends)
    source_rows = starts
    notes: list[str] = []

    keep = np.ones(len(starts), dtype=bool)
    if scope.since is not None or scope.until is not None:
        case_start = times[starts] if step_start is None or not rows else np.minimum.reduceat(step_start, starts)
        if scope.since is not None:
            keep &= case_start >= _micros(scope.since)
        if scope.until is not None:
            keep &= case_start < _micros(scope.until)
    if not keep.all():
        notes.append(f"date range kept {int(keep.sum()):,} of {plural(len(starts), 'case')} (cases that started in the "
                     f"range)")
    if scope.variant_coverage is not None and keep.any():
        before = int(keep.sum())
        keep &= _covering(variant, keep, scope.variant_coverage)
        notes.append(f"variant coverage {scope.variant_coverage:.0%} kept {int(keep.sum()):,} of "
                     f"{plural(before, 'case')}")
    if not keep.all():
        event_keep = np.repeat(keep, ends - starts)
        activity, lane, resource, reason, times = (array[event_keep] for array in
                                                   (activity, lane, resource, reason, times))
        if step_start is not None:
            step_start, processing = step_start[event_keep], processing[event_keep]
        if resource_known is not None:
            resource_known = resource_known[event_keep]
        if reason_known is not None:
            reason_known = reason_known[event_keep]
        lengths = (ends - starts)[keep]
        source_rows = starts[keep]
        starts = np.r_[0, np.cumsum(lengths)[:-1]].astype(np.int64) if len(lengths) else np.zeros(0, np.int64)
        ends = starts + lengths
        # Renumber the variants left, still in order of their first case.
        variant, variant_first_case = number_sequences(activity, starts, ends)

    return Workspace(activities=activity_names, lanes=lane_names, resources=resource_names, reasons=reason_names,
                     activity=activity, lane=lane, resource_codes=resource, reason_codes=reason, times=times,
                     starts=starts, ends=ends, variant=variant, variant_first_case=variant_first_case,
                     traces=traces(activity, starts, ends, variant_first_case), source_rows=source_rows,
                     case_column=table.column(Column.CASE_ID), notes=notes, step_start=step_start,
                     processing=processing, resource_known=resource_known, reason_known=reason_known)


def _micros(moment: datetime) -> int:
    """Microseconds since the epoch of a datetime (a naive one in local time, as datetime.timestamp())."""
    if moment.tzinfo is None:
        moment = moment.astimezone(timezone.utc)
    return (moment - EPOCH) // timedelta(microseconds=1)


def _covering(variant: np.ndarray, keep: np.ndarray, coverage: float) -> np.ndarray:
    """Mark the cases of the most frequent variants that together cover `coverage` of the cases."""
    counts = np.bincount(variant[keep], minlength=int(variant.max()) + 1)
    order = np.lexsort((np.arange(len(counts)), -counts))  # most cases first, ties by first seen
    covered_before = np.cumsum(counts[order]) - counts[order]
    chosen = order[(covered_before < coverage * keep.sum()) & (counts[order] > 0)]
    return np.isin(variant, chosen)
