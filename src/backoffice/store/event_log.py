"""Read the engine's own events back as an event log, so live work maps like any exported log.

    from backoffice.mapping import analyze
    process_map = analyze(read_engine_log("backoffice.db"))

The schema's columns come first; `workflow` and `version` follow, then each attribute the
engine wrote (from_state, to_state, queue, priority ...) as a text column of its own.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import sqlalchemy as sa

from backoffice.events.schema import TIMESTAMP_TYPE, Column, EventLog, ORDER
from backoffice.store.sql_store import SqlStore
from backoffice.store.tables import events

_TEXT_COLUMNS = (Column.CASE_ID, Column.ACTIVITY, Column.RESOURCE, Column.ROLE, Column.SYSTEM, Column.LIFECYCLE,
                 Column.REASON, "workflow")


def read_engine_log(source: SqlStore | str | Path, *, workflow: str | None = None) -> EventLog:
    """Return the events the engine wrote (of one workflow, or all) as an EventLog.

    Args:
        source: an open store, or a database file path or URL (opened, read and closed here).
        workflow: keep the events of this workflow only.

    Raises:
        DatabaseUnavailable: the database cannot be opened.
    """
    store = source if isinstance(source, SqlStore) else SqlStore.open(source)
    try:
        query = sa.select(events).order_by(events.c.id)
        if workflow is not None:
            query = query.where(events.c.workflow == workflow)
        columns: dict[str, list[Any]] = {name: [] for name in (*_TEXT_COLUMNS, Column.TIMESTAMP, "version", ORDER)}
        attributes: dict[str, list[Any]] = {}
        with store.engine.connect() as connection:
            for position, row in enumerate(connection.execute(query)):
                columns[Column.CASE_ID].append(str(row.case_id))
                for name in _TEXT_COLUMNS[1:]:
                    columns[name].append(getattr(row, name))
                columns[Column.TIMESTAMP].append(row.timestamp)
                columns["version"].append(row.version)
                columns[ORDER].append(position)
                for name, value in (row.attributes or {}).items():
                    # An attribute first seen on a later event is null on the events before it.
                    attributes.setdefault(name, [None] * position).append(_text(value))
                for values in attributes.values():
                    values.extend([None] * (position + 1 - len(values)))
    finally:
        if store is not source:
            store.close()
    arrays = {name: pa.array(values, pa.string()) for name, values in columns.items() if name in _TEXT_COLUMNS}
    arrays[Column.TIMESTAMP] = pa.array(columns[Column.TIMESTAMP], TIMESTAMP_TYPE)
    arrays["version"] = pa.array(columns["version"], pa.int64())
    arrays[ORDER] = pa.array(columns[ORDER], pa.int64())
    for name, values in attributes.items():
        if name not in arrays:
            arrays[name] = pa.array(values, pa.string())
    return EventLog.from_table(pa.table(arrays), source=f"engine events in {store.url}")


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)
