"""What an XES parser collects, and how it becomes one column per attribute key.

Both parsers (the scan in `xes_scan`, the full parser in `xes_parse`) hand over the same
`Found`: each event's trace, and the valued attributes as (row, type code, key, value).
`Found.to_table` pivots them into columns (see `xes_reader` for the rules).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from backoffice.errors import EmptyLog, LogFileError
from backoffice.events import arrow_numpy

# What an element is. The value types are the XES attributes that carry a key and a value.
OTHER, STRING, DATE, INT, FLOAT, BOOLEAN, ID, EVENT, TRACE = range(9)
CODES = {"string": STRING, "date": DATE, "int": INT, "float": FLOAT, "boolean": BOOLEAN,
          "id": ID, "event": EVENT, "trace": TRACE}
ARROW_TYPES = {INT: pa.int64(), FLOAT: pa.float64(), BOOLEAN: pa.bool_()}


# The case id column of the standard, and the one standing in for it when no trace is named.
TRACE_NAME, TRACE_NUMBER = "case:concept:name", "case:trace"

# Attribute values as a parser finds them: (event or trace number, type code, key, value).
Values = tuple[np.ndarray, np.ndarray, pa.Array, pa.Array]


@dataclass(frozen=True)
class Found:
    """What a parser collected: the root's name, traces, each event's trace, attribute values."""

    root: str | None
    traces: int
    event_traces: np.ndarray
    event_attributes: Values
    trace_attributes: Values

    def to_table(self, path: Path) -> pa.Table:
        """Pivot the attribute values into columns; refuse a log without events."""
        if self.root != "log":
            raise LogFileError(path, f"the root element is <{self.root}>, not <log>",
                               expected="an XES (IEEE 1849) document")
        if not self.traces:
            raise EmptyLog(path, "the XES log has no traces")
        events = len(self.event_traces)
        if not events:
            raise EmptyLog(path, "the XES log has traces but no events")
        columns = _columns(*self.event_attributes, rows=events)
        for key, values in _columns(*self.trace_attributes, rows=self.traces).items():
            # An event attribute that already bears the name is the more specific one.
            columns.setdefault(f"case:{key}", values.take(arrow_numpy.arrow(np.asarray(self.event_traces, np.int64))))
        if TRACE_NAME not in columns and TRACE_NUMBER not in columns:
            # The standard leaves a trace's name optional: without any, each trace is still one
            # case, numbered from 1 in file order (no column would be there to name with --case).
            numbers = pa.array(np.asarray(self.event_traces, np.int64) + 1)
            columns[TRACE_NUMBER] = pc.cast(numbers, pa.string())
        return pa.Table.from_arrays(list(columns.values()), names=list(columns))


def _columns(row_of: np.ndarray, types: np.ndarray, keys: pa.Array, values: pa.Array, *,
             rows: int) -> dict[str, pa.Array]:
    """Spread (row, key, value) triples into one column per key, in order of first use."""
    if not len(row_of):
        return {}
    encoded = pc.dictionary_encode(keys)
    indices = encoded.indices  # read through the buffer: to_numpy() would import pandas
    codes = np.frombuffer(indices.buffers()[1], dtype=np.int32, count=len(indices) + indices.offset)[indices.offset:]
    by_key = np.argsort(codes, kind="stable")  # stable: each key's values stay in file order
    starts = np.flatnonzero(np.diff(codes[by_key])) + 1
    columns: dict[str, pa.Array] = {}
    for members in np.split(by_key, starts):
        at = row_of[members]
        last = np.append(at[1:] != at[:-1], True)  # a key given twice in one element: the last wins
        members, at = members[last], at[last]
        column = _typed(values.take(arrow_numpy.arrow(np.asarray(members, np.int64))), np.unique(types[members]))
        position = np.full(rows, -1, dtype=np.int64)
        position[at] = np.arange(len(at))
        name = encoded.dictionary[codes[members[0]]].as_py()
        columns[name] = column.take(arrow_numpy.arrow(np.asarray(position, np.int64), mask=position < 0))
    return columns


def _typed(values: pa.Array, types: np.ndarray) -> pa.Array:
    """Cast a key's text to its XES type when all its values share one that reads cleanly."""
    target = ARROW_TYPES.get(int(types[0])) if len(types) == 1 else None
    if target is None:
        return values
    try:
        return values.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return values  # "1.5" in an int attribute: keep what the file says rather than guess
