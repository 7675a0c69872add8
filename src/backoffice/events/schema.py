"""The one event schema (DESIGN.md) and the event log that holds events in it.

An event log is an Arrow table with the schema's columns first, then one column per
attribute, sorted by case and time with ties kept in file order. Arrow keeps a
1.5-million-event log in a few hundred megabytes and lets DuckDB query it without a copy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import pyarrow as pa
import pyarrow.compute as pc


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
    """Events in the schema of DESIGN.md, sorted by case, time and file order.

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
        indices = pc.sort_indices(table, sort_keys=[(Column.CASE_ID, "ascending"),
                                                     (Column.TIMESTAMP, "ascending"),
                                                     (ORDER, "ascending")])
        return cls(table=table.take(indices), source=source, skipped_rows=skipped_rows, notes=notes)

    def __len__(self) -> int:
        return self.table.num_rows

    @property
    def attribute_columns(self) -> list[str]:
        """Names of the columns outside the event schema."""
        core = set(CORE_SCHEMA.names)
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


def conform(table: pa.Table) -> pa.Table:
    """Cast the schema's columns to their types, add the missing optional ones, order columns."""
    rows = table.num_rows
    columns: list[pa.Array | pa.ChunkedArray] = []
    names: list[str] = []
    for schema_field in CORE_SCHEMA:
        name = schema_field.name
        if name in table.column_names:
            column = table.column(name)
            if column.type != schema_field.type:
                column = column.cast(schema_field.type)
        elif name == ORDER:
            column = pa.array(range(rows), pa.int64())
        else:
            column = pa.nulls(rows, schema_field.type)
        columns.append(column)
        names.append(name)
    for name in table.column_names:
        if name not in CORE_SCHEMA.names:
            columns.append(table.column(name))
            names.append(name)
    return pa.Table.from_arrays(columns, names=names)
