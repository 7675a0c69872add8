"""Read an HRIS export (CSV or JSON) into people with their groups and roles, or name every bad row.

CSV columns: `id`, `name` (required), `email`, `os_user`, `active` (true/false, yes/no, 1/0;
true when empty), `groups` and `roles` (separated by `;`). A role written `role@workflow` is
granted in that workflow only. JSON: a list of objects with the same fields (or
`{"people": [...]}`), `groups` and `roles` as lists or `;`-separated text.

Nothing is half-read: every problem of the file is collected, named by line (CSV) or item
(JSON) and field, and raised together.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backoffice.definitions.model import REQUESTER
from backoffice.engine.identity import canonical_id
from backoffice.errors import ImportFileError

MAX_IMPORT_BYTES = 50 * 1024 * 1024
"""An HRIS export of a very large company is a few MB; past this, the file is not one."""

FIELDS = ("id", "name", "email", "os_user", "active", "groups", "roles")
_TRUE = {"true", "yes", "1", "y", "active"}
_FALSE = {"false", "no", "0", "n", "inactive"}


@dataclass(frozen=True)
class PersonRecord:
    """One person of an export, checked and canonical."""

    where: str
    id: str
    name: str
    email: str | None
    os_user: str | None
    active: bool
    groups: tuple[str, ...]
    roles: tuple[tuple[str, str | None], ...]


def read_export(path: Path | str) -> list[PersonRecord]:
    """Return the people of an export file (CSV, or JSON by its suffix or first character).

    Raises:
        ImportFileError: the file cannot be read, or has bad rows (all named).
    """
    path = Path(path)
    try:
        if path.stat().st_size > MAX_IMPORT_BYTES:
            raise ImportFileError(path, [("the file", "", f"is over {MAX_IMPORT_BYTES // 2**20} MB")])
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8"
        raise ImportFileError(path, [("the file", "", f"cannot be read ({reason})")]) from exc
    rows = _json_rows(path, text) if path.suffix.lower() == ".json" or text.lstrip()[:1] in ("[", "{") \
        else _csv_rows(path, text)
    records, problems, seen, os_users = [], [], {}, {}
    for where, row in rows:
        record, found = _record(where, row)
        if record is not None:
            if record.id in seen:
                found.append((where, "id", f"{record.id!r} is also at {seen[record.id]} (one row per person)"))
            seen.setdefault(record.id, where)
            if record.os_user is not None:
                if record.os_user in os_users:
                    found.append((where, "os_user", f"{record.os_user!r} is also at {os_users[record.os_user]}"))
                os_users.setdefault(record.os_user, where)
        problems.extend(found)
        if record is not None and not found:
            records.append(record)
    if problems:
        raise ImportFileError(path, problems)
    if not records:
        raise ImportFileError(path, [("the file", "", "holds no people; expected a header row (CSV) or a list of "
                                                      "objects (JSON) with at least id and name")])
    return records


def _csv_rows(path: Path, text: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in ("id", "name") if name not in header]
    if missing:
        raise ImportFileError(path, [("line 1", name, "is missing from the header") for name in missing])
    reader.fieldnames = header
    try:
        for row in reader:
            extra = row.pop(None, None)
            if extra:
                yield f"line {reader.line_num}", {"__extra__": extra}
            else:
                yield f"line {reader.line_num}", row
    except csv.Error as exc:
        raise ImportFileError(path, [(f"line {reader.line_num}", "", f"not CSV: {exc}")]) from exc


def _json_rows(path: Path, text: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        line = f"line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else "the file"
        raise ImportFileError(path, [(line, "", f"not JSON: {exc}")]) from exc
    if isinstance(value, dict) and isinstance(value.get("people"), list):
        value = value["people"]
    if not isinstance(value, list):
        raise ImportFileError(path, [("the file", "", "expected a list of people, or an object with a list "
                                                      "\"people\"")])
    for index, item in enumerate(value, start=1):
        yield f"item {index}", item if isinstance(item, dict) else {"__not_object__": item}


def _record(where: str, row: Mapping[str, Any]) -> tuple[PersonRecord | None, list[tuple[str, str, str]]]:
    if "__extra__" in row:
        return None, [(where, "", "has more values than the header has columns")]
    if "__not_object__" in row:
        return None, [(where, "", "expected an object with id and name")]
    problems: list[tuple[str, str, str]] = []
    unknown = sorted(set(row) - set(FIELDS))
    if unknown and where.startswith("item"):
        problems.append((where, unknown[0], f"is not a field; expected one of {', '.join(FIELDS)}"))
    person_id = _text(row.get("id"))
    try:
        person_id = canonical_id(person_id or "")
    except ValueError as exc:
        problems.append((where, "id", str(exc)))
        person_id = None
    name = _text(row.get("name"))
    if not name:
        problems.append((where, "name", "is empty; expected the person's name"))
    email = _text(row.get("email")) or None
    if email is not None and ("@" not in email or any(c.isspace() for c in email)):
        problems.append((where, "email", f"{email!r} is not an email address"))
    os_user = _text(row.get("os_user")) or None
    active_text = _text(row.get("active")).lower()
    if active_text not in _TRUE | _FALSE | {""}:
        problems.append((where, "active", f"{active_text!r} is not true or false"))
    groups, roles = [], []
    for group in _items(row.get("groups")):
        try:
            groups.append(canonical_id(group))
        except ValueError as exc:
            problems.append((where, "groups", str(exc)))
    for item in _items(row.get("roles")):
        role, _, workflow = item.partition("@")
        role, workflow = role.strip(), workflow.strip() or None
        if not role or role == REQUESTER or any(ord(c) < 32 for c in item):
            problems.append((where, "roles", f"{item!r} is not a role one can grant (requester is built in)"))
        else:
            roles.append((role, workflow))
    if problems or person_id is None:
        return None, problems
    return PersonRecord(where=where, id=person_id, name=name, email=email, os_user=os_user,
                        active=active_text not in _FALSE, groups=tuple(dict.fromkeys(groups)),
                        roles=tuple(dict.fromkeys(roles))), []


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def _items(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(item).strip() for item in value if str(item).strip()]
    return [item.strip() for item in str(value).split(";") if item.strip()]
