"""The one event schema (DESIGN.md) and the event log that holds events in it.

An event log is an Arrow table with the schema's columns first, then one column per
attribute, grouped by case (cases in order of first appearance) and sorted by time within
a case, ties kept in file order. Text columns may be dictionary-encoded: a 1.5-million-event
log then takes tens of megabytes, and DuckDB and numpy read it without a copy.

Parallel work: an event the engine writes inside a branch of a case carries the branch's name
(`branch`, null outside branches). The engine's log reads each branch as a trace of its own,
`CASE/BRANCH`, with `branch` and `parent_case` as columns beside the schema's (see
store/event_log.py), so the directly-follows relation never joins two branches' steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import partial

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from backoffice.events import arrow_numpy
from backoffice.side_by_side import side_by_side


class Column(StrEnum):
    """The columns of the event schema, by their names in an event log."""

    CASE_ID = "case_id"
    ACTIVITY = "activity"
    TIMESTAMP = "timestamp"
    RESOURCE = "resource"
    ROLE = "role"
    SYSTEM = "system"
    LIFECYCLE = "lifecycle"
    REASON = "reason"
    GROUP = "group"


REQUIRED = (Column.CASE_ID, Column.ACTIVITY, Column.TIMESTAMP)
OPTIONAL = (Column.RESOURCE, Column.ROLE, Column.SYSTEM, Column.LIFECYCLE, Column.REASON, Column.GROUP)

# The position of an event in its source (file order). Sorting on it after case and time
# keeps ties in arrival order, which the counts of paths and variants depend on.
ORDER = "event_index"

# When a source gives each row a start as well as its (end) timestamp, the start is kept in
# this column, after the schema's own: each such row is one step with a processing time.
START_TIMESTAMP = "start_timestamp"

TIMESTAMP_TYPE = pa.timestamp("us", tz="UTC")

CORE_SCHEMA = pa.schema(
    [pa.field(Column.CASE_ID, pa.string(), nullable=False),
     pa.field(Column.ACTIVITY, pa.string(), nullable=False),
     pa.field(Column.TIMESTAMP, TIMESTAMP_TYPE, nullable=False)]
    + [pa.field(column, pa.string()) for column in OPTIONAL]
    + [pa.field(ORDER, pa.int64(), nullable=False)]
)


@dataclass(frozen=True)
class EventLog:
    """Events in the schema of DESIGN.md, grouped by case and sorted by time, ties in file order.

    Attributes:
        table: the events; the schema's columns, `event_index`, then attribute columns.
        source: where the events came from (a file path or a description).
        skipped_rows: rows of the source left out because they could not be read
            (only with `on_bad_rows="skip"`).
    """

    table: pa.Table
    source: str = ""
    skipped_rows: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def from_table(cls, table: pa.Table, *, source: str = "", skipped_rows: int = 0,
                   notes: tuple[str, ...] = ()) -> EventLog:
        """Build a log from a table holding at least the required columns; sort it stably."""
        table = conform(table)
        order = case_time_order(table)
        if order is not None:
            # Columns without a single value need no reordering: only the others are moved.
            empty = [index for index, column in enumerate(table.columns) if column.null_count == len(column)]
            moved = table.drop_columns([table.column_names[index] for index in empty]).take(arrow_numpy.arrow(order))
            for index in empty:
                moved = moved.add_column(index, table.field(index), table.column(index))
            table = moved
        return cls(table=table, source=source, skipped_rows=skipped_rows, notes=notes)

    @classmethod
    def from_columns(cls, columns: dict[str, pa.ChunkedArray], *, source: str = "", skipped_rows: int = 0,
                     notes: tuple[str, ...] = ()) -> EventLog:
        """As from_table, on columns it may consume: the dict is emptied as they are sorted.

        Each column is replaced by its sorted copy in turn, so that a caller holding no other
        reference to them needs memory for the log plus one column, not for two logs.
        Without an `event_index` column the rows are in file order: their positions are
        added after the sort, which is the sort's own row order (no column of 8 bytes an
        event beside the sort's temporaries).
        """
        in_file_order = ORDER not in columns
        table = conform(pa.table(columns), positions=not in_file_order)
        columns.clear()
        columns.update(zip(table.column_names, table.columns))
        fields = list(table.schema)
        rows = table.num_rows
        sorted_log = _case_time_sort(table)
        del table
        if in_file_order:
            fields.insert(len(CORE_SCHEMA) - 1, pa.field(ORDER, pa.int64()))
            positions = arrow_numpy.arrow(sorted_log.order if sorted_log is not None
                                          else np.arange(rows, dtype=np.int64))
            items = list(columns.items())
            columns.clear()
            columns.update([*items[:len(CORE_SCHEMA) - 1], (ORDER, positions), *items[len(CORE_SCHEMA) - 1:]])
            del items
        if sorted_log is not None:
            # The sort has already moved the case codes and the times, and the file positions
            # of rows in file order are the order itself: those columns are rebuilt from what
            # it holds rather than moved again.
            ready = sorted_log.ready_columns(columns)
            order = sorted_log.order
            indices = arrow_numpy.arrow(order)
            del sorted_log
            # Columns without a single value need no reordering. The others are moved two at
            # a time (numpy and Arrow gather without the GIL); each job puts its copy in the
            # source column's place, letting go of the source as soon as the copy is made.
            to_move = [name for name in columns
                       if name not in ready and columns[name].null_count != len(columns[name])]
            for name in list(columns):
                if name in ready:
                    columns[name] = ready.pop(name)
            side_by_side([partial(_move_in_place, columns, name, order, indices) for name in to_move])
        table = pa.Table.from_arrays(list(columns.values()), schema=pa.schema(fields))
        columns.clear()
        return cls(table=table, source=source, skipped_rows=skipped_rows, notes=notes)

    def __len__(self) -> int:
        return self.table.num_rows

    @property
    def attribute_columns(self) -> list[str]:
        """Names of the columns outside the event schema."""
        core = set(CORE_SCHEMA.names) | {START_TIMESTAMP}
        return [name for name in self.table.column_names if name not in core]

    def has_values(self, column: str) -> bool:
        """Tell whether a column exists and holds at least one value."""
        if column not in self.table.column_names:
            return False
        return self.table.column(column).null_count < self.table.num_rows

    @property
    def time_span(self) -> tuple[datetime, datetime] | None:
        """First and last timestamp, or None for an empty log."""
        if not self.table.num_rows:
            return None
        bounds = pc.min_max(self.table.column(Column.TIMESTAMP))
        return bounds["min"].as_py(), bounds["max"].as_py()

    def with_table(self, table: pa.Table, *, note: str | None = None) -> EventLog:
        """Return a log over a filtered or transformed table that keeps the sort order."""
        notes = self.notes + ((note,) if note else ())
        return EventLog(table=table, source=self.source, skipped_rows=self.skipped_rows, notes=notes)


def _move_in_place(columns: dict[str, pa.ChunkedArray], name: str, order: np.ndarray, indices: pa.Array) -> None:
    """Replace columns[name] by its rows in `order` (jobs on two threads each set their own key)."""
    columns[name] = _moved(columns[name], order, indices)


def _moved(column: pa.ChunkedArray, order: np.ndarray, indices: pa.Array) -> pa.ChunkedArray:
    """The column's rows in `order` (`indices` is the same order as an Arrow array).

    A single chunk of fixed-width values or dictionary codes without a missing value is
    gathered by numpy, whose large arrays are backed by transparent huge pages (one page
    fault per 2 MiB, not per 4 KiB); any other column by Arrow's take.
    """
    if column.num_chunks == 1 and column.null_count == 0:
        chunk = column.chunk(0)
        moved = None
        if pa.types.is_dictionary(chunk.type) and pa.types.is_integer(chunk.type.index_type):
            codes = np.take(arrow_numpy.values(chunk.indices), order)
            moved = pa.DictionaryArray.from_arrays(arrow_numpy.arrow(codes, chunk.type.index_type), chunk.dictionary)
        elif pa.types.is_integer(chunk.type) or pa.types.is_floating(chunk.type) or pa.types.is_timestamp(chunk.type):
            moved = arrow_numpy.arrow(np.take(arrow_numpy.values(chunk), order), chunk.type)
        if moved is not None and moved.type == column.type:
            return pa.chunked_array([moved])
    return column.take(indices)


def case_time_order(table: pa.Table) -> np.ndarray | None:
    """Return the row order that groups cases and sorts time stably, or None when rows are in it.

    Cases come in order of first appearance, each case's events in time, ties in file order.
    Exports usually list each case's events in time order, together or interleaved with
    other cases: then one stable sort by case is enough, in linear time (a radix sort on
    16-bit halves of the case number), and a case whose events are out of time order costs
    a full sort by time first.
    """
    sorted_log = _case_time_sort(table)
    return None if sorted_log is None else sorted_log.order


@dataclass
class _CaseTimeSort:
    """The row order of case_time_order, with what computing it moved already.

    Attributes:
        order: the rows, grouped by case and in time order within each.
        case_column: the case column the codes index, as one dictionary chunk.
        case_column_as_is: that chunk is the table's case column itself (not re-encoded).
        cases, times: the case codes and the timestamps (int64 microseconds) in that order.
        in_file_order: the positions column (ORDER) numbered the rows 0..n-1 in table order.
    """

    order: np.ndarray
    case_column: pa.DictionaryArray
    case_column_as_is: bool
    cases: np.ndarray
    times: np.ndarray
    in_file_order: bool

    def ready_columns(self, columns: dict[str, pa.ChunkedArray]) -> dict[str, pa.ChunkedArray]:
        """The sorted columns this sort can give without moving rows again: case ids, times and positions."""
        ready: dict[str, pa.ChunkedArray] = {}
        case = columns.get(Column.CASE_ID)
        if case is not None and self.case_column_as_is:
            moved = arrow_numpy.dictionary_array(self.cases, self.case_column.dictionary)
            if moved.type == case.type:
                ready[Column.CASE_ID] = pa.chunked_array([moved])
        timestamp = columns.get(Column.TIMESTAMP)
        if timestamp is not None and timestamp.type == TIMESTAMP_TYPE and timestamp.null_count == 0:
            ready[Column.TIMESTAMP] = pa.chunked_array([arrow_numpy.arrow(self.times, TIMESTAMP_TYPE)])
        if self.in_file_order and ORDER in columns:
            ready[ORDER] = pa.chunked_array([arrow_numpy.arrow(self.order)])
        return ready


def _case_time_sort(table: pa.Table) -> _CaseTimeSort | None:
    """case_time_order, keeping the sorted case codes and times it computes on the way."""
    if table.num_rows < 2:
        return None
    case_column = table.column(Column.CASE_ID)
    as_is = pa.types.is_dictionary(case_column.type) and case_column.num_chunks == 1
    if not pa.types.is_dictionary(case_column.type):
        case_column = pc.dictionary_encode(case_column.combine_chunks())
    elif case_column.num_chunks == 1:
        case_column = case_column.chunk(0)
    else:
        case_column = case_column.unify_dictionaries().combine_chunks()
    # Dictionary codes number the cases in order of first appearance (in table order).
    cases = arrow_numpy.dictionary_codes(case_column)
    times = arrow_numpy.values(table.column(Column.TIMESTAMP).cast(TIMESTAMP_TYPE))
    # No positions column: the rows are in file order (see EventLog.from_columns).
    positions = arrow_numpy.values(table.column(ORDER)) if ORDER in table.column_names else None
    rows = table.num_rows
    in_file_order = positions is None or bool(positions[0] == 0 and positions[-1] == rows - 1
                                              and np.all(positions[1:] > positions[:-1]))
    order = None
    if not in_file_order and not np.all(positions[1:] > positions[:-1]):
        # Rows are not in file order: put them back in it first, so that ties keep it.
        order = np.argsort(positions, kind="stable")
        cases, times = cases[order], times[order]
    if order is None:
        # Each case's rows are contiguous when there are as many runs as cases; then the
        # rows are in order if time never goes back within a run.
        same_case = cases[1:] == cases[:-1]
        if np.count_nonzero(~same_case) + 1 == len(case_column.dictionary) \
                and not np.any(same_case & (times[1:] < times[:-1])):
            return None
    by_case = _stable_order(cases)
    sorted_times, sorted_cases = _gathered(by_case, times, cases)
    same_case = sorted_cases[1:] == sorted_cases[:-1]
    same_case &= sorted_times[1:] < sorted_times[:-1]
    if np.any(same_case):
        # Some case's events are out of time order in the file: sort by time, then by case.
        by_time = np.argsort(times, kind="stable")
        by_case = by_time[_stable_order(cases[by_time])]
        sorted_times, sorted_cases = _gathered(by_case, times, cases)
    del same_case
    if order is not None:
        by_case = order[by_case]
    return _CaseTimeSort(order=by_case, case_column=case_column, case_column_as_is=as_is,
                         cases=sorted_cases, times=sorted_times,
                         in_file_order=in_file_order)


def _gathered(order: np.ndarray, *arrays: np.ndarray) -> list[np.ndarray]:
    """Each array's values in `order`, two arrays gathered at a time."""
    return side_by_side([partial(np.take, array, order) for array in arrays])


def _stable_order(codes: np.ndarray) -> np.ndarray:
    """A stable argsort of int32 case codes, in linear time.

    numpy sorts 8- and 16-bit integers stably in linear time (a radix sort), and wider
    ones with a comparison sort. Where the rows split into runs such that every code of a
    run is below every code of the runs after it (an export in batches of cases, each
    batch in time order), each run sorts alone; runs of fewer than 65,536 codes then need
    one 16-bit pass. The rest takes two passes, over the low and the high half.
    """
    if not len(codes) or int(codes.max()) < 1 << 16 or int(codes.min()) < 0:
        return _two_halves(codes) if len(codes) else np.zeros(0, np.int64)
    # A run may start at row i when all codes before it are below all codes from it on.
    # The two scans (each some 0.2 s on 15M rows) run side by side.
    highest, lowest_after = side_by_side([partial(np.maximum.accumulate, codes),
                                          lambda: np.minimum.accumulate(codes[::-1])[::-1]])
    before, after = highest[:-1], lowest_after[1:]
    cuts = np.flatnonzero(before < after)
    del highest, lowest_after
    del before, after
    cuts += 1
    starts = np.r_[0, cuts].astype(np.int64)
    # Runs whose lowest codes fall in the same block of 32,768 are sorted together.
    lowest = np.minimum.reduceat(codes, starts)
    block = lowest >> 15
    starts = starts[np.r_[True, block[1:] != block[:-1]]]
    if len(starts) == 1:
        return _two_halves(codes)
    ends = np.r_[starts[1:], len(codes)]
    order = np.empty(len(codes), dtype=np.int64)
    # Each run sorts alone into its own slice of `order`: two at a time.
    side_by_side([partial(_sort_run, codes, order, start, end) for start, end in zip(starts.tolist(), ends.tolist())])
    return order


def _sort_run(codes: np.ndarray, order: np.ndarray, start: int, end: int) -> None:
    """Write into order[start:end] the stable order of codes[start:end] (as row numbers of `codes`)."""
    run = codes[start:end]
    low = int(run.min())
    if int(run.max()) - low < 1 << 16:
        part = np.argsort((run - low).astype(np.uint16), kind="stable")
    else:
        part = _two_halves(run)
    part += start
    order[start:end] = part


def _two_halves(codes: np.ndarray) -> np.ndarray:
    """A stable argsort of int32 codes (missing ones, -1, last), as an LSD radix sort on 16-bit halves.

    The high half is cut before it is gathered, so the gather moves one or two bytes a row.
    """
    low = np.argsort(codes.astype(np.uint16), kind="stable")
    highest = int(codes.max()) >> 16
    if highest == 0 and int(codes.min()) >= 0:
        return low
    high = np.right_shift(codes, 16).astype(np.uint8 if highest < 1 << 8 and int(codes.min()) >= 0 else np.uint16)
    return low[np.argsort(high[low], kind="stable")]


def _text_type(data_type: pa.DataType) -> bool:
    return pa.types.is_string(data_type) or (
        pa.types.is_dictionary(data_type) and pa.types.is_string(data_type.value_type))


def conform(table: pa.Table, *, positions: bool = True) -> pa.Table:
    """Cast the schema's columns to their types, add the missing optional ones, order columns.

    positions: add `event_index` (rows numbered in table order) when missing; False leaves
    a missing one out, for a caller that adds it itself.
    """
    rows = table.num_rows
    columns: list[pa.Array | pa.ChunkedArray] = []
    names: list[str] = []
    for schema_field in CORE_SCHEMA:
        name = schema_field.name
        if name == ORDER and not positions and name not in table.column_names:
            continue
        if name in table.column_names:
            column = table.column(name)
            if column.type != schema_field.type and not (schema_field.type == pa.string()
                                                         and _text_type(column.type)):
                column = column.cast(schema_field.type)
        elif name == ORDER:
            column = arrow_numpy.arrow(np.arange(rows, dtype=np.int64))
        elif schema_field.type == pa.string():
            column = arrow_numpy.missing_strings(rows)
        else:
            column = pa.nulls(rows, schema_field.type)
        columns.append(column)
        names.append(name)
    for name in table.column_names:
        if name not in CORE_SCHEMA.names:
            columns.append(table.column(name))
            names.append(name)
    return pa.Table.from_arrays(columns, names=names)
