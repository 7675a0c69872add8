"""Read an OCEL 2.0 JSON log, flattened onto one object type, into RawEvents.

An object-centric log relates each event to many objects (an order, its items, an invoice).
Mapping needs cases, so the user picks one object type and each object of that type becomes a
case: every event related to it gives one row, as classic process mining tools flatten OCEL.
An event related to two orders appears in both cases; an event related to none is left out.

Columns: `case:concept:name` (the object id), `concept:name` (the event type), `time:timestamp`
(the event time, as written), the event's attributes by name, and the object's attributes
prefixed `case:`.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa

from backoffice.errors import EmptyLog, LogFileError, LogFileNotFound, NotUtf8, suggest
from backoffice.events.raw import RawEvents

EXPECTED = "OCEL 2.0 JSON"
CASE, ACTIVITY, TIMESTAMP = "case:concept:name", "concept:name", "time:timestamp"


def read_ocel(path: Path, *, object_type: str | None) -> RawEvents:
    """Read an OCEL 2.0 JSON file as one row per (event, related object of object_type).

    Args:
        path: the .jsonocel or .json file.
        object_type: the object type whose objects become cases; None asks the user to choose.

    Returns:
        The rows in file order of the events (an event's objects in the order it lists them).

    Raises:
        LogFileNotFound: the file does not exist or cannot be opened.
        LogFileError: the file is not JSON (with line and column), is not OCEL 2.0, or the
            object type is missing or unknown (the message lists the types found).
        NotUtf8: the file is not in a Unicode encoding.
        EmptyLog: no event relates to an object of that type.
    """
    path = Path(path)
    document = _load(path)
    events = _list(document, "events", path)
    objects = _list(document, "objects", path)
    types = _object_types(document, objects, path)
    if object_type is None or object_type not in types:
        raise _choose_type(path, object_type, types)

    cases = {obj["id"]: _latest_attributes(obj, path, index)
             for index, obj in enumerate(objects) if obj.get("type") == object_type}
    rows: list[tuple[str, dict[str, Any], dict[str, Any]]] = []  # (object id, event, its attributes)
    for index, event in enumerate(events):
        related = _related_ids(event, path, index)
        attributes = {attribute["name"]: attribute.get("value")
                      for attribute in _attributes(event, path, f"event {event.get('id', index)!r}")}
        # An event that names one object twice (two qualifiers) still happened once to it.
        for object_id in dict.fromkeys(related):
            if object_id in cases:
                rows.append((object_id, event, attributes))
    if not rows:
        detail = "the OCEL log has no events" if not events else \
            f"no event relates to an object of type {object_type!r}"
        raise EmptyLog(path, detail)
    return RawEvents(table=_table(rows, cases), lines=None)


def _load(path: Path) -> Any:
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise LogFileNotFound(path) from exc
    except IsADirectoryError as exc:
        raise LogFileNotFound(path, "it is a directory") from exc
    except OSError as exc:
        raise LogFileNotFound(path, exc.strerror or str(exc)) from exc
    try:
        return json.loads(data)  # bytes: json detects UTF-8, UTF-16 and UTF-32 itself
    except UnicodeDecodeError as exc:
        raise NotUtf8(path, byte_offset=exc.start) from exc
    except json.JSONDecodeError as exc:
        raise LogFileError(path, f"not valid JSON: {exc.msg}", line=exc.lineno, column=exc.colno,
                           expected=EXPECTED) from exc


def _list(document: Any, key: str, path: Path) -> list[dict[str, Any]]:
    if isinstance(document, dict) and "ocel:events" in document:
        raise LogFileError(path, "this is an OCEL 1.0 log", expected=f"{EXPECTED} (convert it with pm4py)")
    items = document.get(key) if isinstance(document, dict) else None
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise LogFileError(path, f"no list of {key} at the top level", expected=EXPECTED)
    return items


def _object_types(document: dict[str, Any], objects: list[dict[str, Any]], path: Path) -> list[str]:
    """Return the declared object types, then any type only seen on objects, in order."""
    declared = document.get("objectTypes", [])
    if not isinstance(declared, list):
        raise LogFileError(path, "objectTypes is not a list", expected=EXPECTED)
    names = [kind.get("name") for kind in declared if isinstance(kind, dict)]
    names += [obj.get("type") for obj in objects]
    return [name for name in dict.fromkeys(names) if isinstance(name, str)]


def _choose_type(path: Path, given: str | None, types: list[str]) -> LogFileError:
    choices = ", ".join(types) or "(none)"
    if given is None:
        problem = "an object-centric log needs an object type to follow as the case"
    else:
        close = suggest(given, types)
        problem = f"no object type {given!r}" + (f" (did you mean {close!r}?)" if close else "")
    return LogFileError(path, problem, expected=f"--object-type, one of: {choices}")


def _latest_attributes(obj: dict[str, Any], path: Path, index: int) -> dict[str, Any]:
    """Return each attribute's value at its latest time.

    OCEL 2.0 attributes change over time ({name, time, value}); a case gets one value per
    attribute, so we keep the latest, the object's state at the end of the log. Equal or
    unreadable times keep the later entry in the file.
    """
    if "id" not in obj:
        raise LogFileError(path, f"object {index} has no id", expected=EXPECTED)
    latest: dict[str, tuple[datetime | None, Any]] = {}
    for attribute in _attributes(obj, path, f"object {obj['id']!r}"):
        when = _instant(attribute.get("time"))
        name = attribute["name"]
        before = latest.get(name)
        if before is None or when is None or before[0] is None or when >= before[0]:
            latest[name] = (when, attribute.get("value"))
    return {name: value for name, (_, value) in latest.items()}


def _instant(text: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _attributes(item: dict[str, Any], path: Path, what: str) -> list[dict[str, Any]]:
    attributes = item.get("attributes") or []
    if not isinstance(attributes, list) or not all(
            isinstance(attribute, dict) and isinstance(attribute.get("name"), str) for attribute in attributes):
        raise LogFileError(path, f"{what}: attributes are not a list of {{name, value}}", expected=EXPECTED)
    return attributes


def _related_ids(event: dict[str, Any], path: Path, index: int) -> list[str]:
    for field, kind in (("type", "the event type's name"), ("time", "an ISO 8601 timestamp")):
        if field not in event or event[field] is None:
            raise LogFileError(path, f"event {event.get('id', index)!r} has no {field}", expected=EXPECTED)
        if not isinstance(event[field], str):
            raise LogFileError(path, f"event {event.get('id', index)!r}: {field} is {json.dumps(event[field])}, "
                                     f"not text", expected=f"{EXPECTED}, whose {field} is text: {kind}")
    relationships = event.get("relationships") or []
    if not isinstance(relationships, list):
        raise LogFileError(path, f"event {event.get('id', index)!r}: relationships are not a list",
                           expected=EXPECTED)
    return [link["objectId"] for link in relationships if isinstance(link, dict) and "objectId" in link]


def _table(rows: list[tuple[str, dict[str, Any], dict[str, Any]]],
           cases: dict[str, dict[str, Any]]) -> pa.Table:
    columns: dict[str, list[Any]] = {CASE: [], ACTIVITY: [], TIMESTAMP: []}
    for number, (object_id, event, attributes) in enumerate(rows):
        values = {CASE: object_id, ACTIVITY: event["type"], TIMESTAMP: event["time"]}
        # An attribute named like one of these three columns cannot replace it.
        for name, value in attributes.items():
            values.setdefault(name, value)
        for name, value in cases[object_id].items():
            values.setdefault(f"case:{name}", value)
        for name, value in values.items():
            column = columns.setdefault(name, [None] * number)
            column.append(value)
        for column in columns.values():
            if len(column) <= number:
                column.append(None)
    return pa.Table.from_arrays([_array(values) for values in columns.values()], names=list(columns))


def _array(values: list[Any]) -> pa.Array:
    """Let Arrow type a column; one that mixes types, or holds JSON objects, becomes text."""
    if all(value is None for value in values):
        return pa.nulls(len(values), pa.string())
    if not any(isinstance(value, (dict, list)) for value in values):
        try:
            return pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass
    return pa.array([value if value is None or isinstance(value, str) else json.dumps(value)
                     for value in values], pa.string())
