"""Recognise which source column holds which field of the event schema."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from backoffice.errors import LogFileError, MissingColumn, suggest
from backoffice.events.schema import OPTIONAL, REQUIRED, Column

# Names other exporters use for the schema's fields, compared after folding case and
# dropping spaces, underscores, dashes and dots. The XES standard names come first.
ALIASES: dict[Column, tuple[str, ...]] = {
    Column.CASE_ID: ("case:concept:name", "case_id", "case", "caseid", "case id", "case number",
                     "ticket", "ticket id", "request id", "trace id", "case:id",
                     "case:trace"),  # the number an XES log without trace names gives each trace
    Column.ACTIVITY: ("concept:name", "activity", "activity name", "event", "event name", "task",
                      "step", "action", "operation"),
    Column.TIMESTAMP: ("time:timestamp", "timestamp", "time", "date", "datetime", "event time",
                       "complete timestamp", "end time", "completed at", "occurred at", "when"),
    Column.RESOURCE: ("org:resource", "resource", "user", "performer", "agent", "actor",
                      "executed by", "done by"),
    Column.ROLE: ("org:role", "role", "lane", "team"),
    Column.SYSTEM: ("system", "application", "source system", "channel system"),
    Column.LIFECYCLE: ("lifecycle:transition", "lifecycle", "transition", "event type"),
    Column.REASON: ("reason", "reason code", "exception", "exception reason", "rework reason"),
    Column.GROUP: ("org:group", "group", "workgroup", "department group"),
}

OPTION_OF: dict[Column, str] = {
    Column.CASE_ID: "--case", Column.ACTIVITY: "--activity", Column.TIMESTAMP: "--timestamp",
    Column.RESOURCE: "--resource", Column.ROLE: "--role", Column.SYSTEM: "--system",
    Column.REASON: "--reason", Column.LIFECYCLE: "--lifecycle-column", Column.GROUP: "--group",
}

# Names of a start timestamp beside the (end) timestamp: then each row is one step with a
# processing time. Only names that say "start" and "time": a bare "start date" is as often
# a case attribute.
START_ALIASES = ("start timestamp", "start time", "started at", "start datetime", "time:start")


def _fold(name: str) -> str:
    return re.sub(r"[\s_\-.]+", "", name).lower()


@dataclass(frozen=True)
class ColumnMapping:
    """Which source column feeds each schema column; attributes are the rest."""

    fields: dict[Column, str]
    attributes: tuple[str, ...]
    start: str | None = None  # the column holding each row's start, when rows are steps with a duration


def resolve_columns(found: Sequence[str], given: Mapping[Column, str | None], *,
                    path: Path | str, start_timestamp: str | None = None) -> ColumnMapping:
    """Map source column names onto the schema.

    Args:
        found: the source's column names, in order.
        given: names the user chose (--case, --activity ...); None means recognise.
        path: the file, for error messages.
        start_timestamp: the column holding each row's start (--start-timestamp); None
            recognises one by its name.

    Raises:
        MissingColumn: a required column is neither given nor recognised, or a given one
            does not exist; the message lists the columns found and the likely one.
    """
    folded = {}
    for name in found:
        folded.setdefault(_fold(name), name)
    fields: dict[Column, str] = {}
    for column in (*REQUIRED, *OPTIONAL):
        chosen = given.get(column)
        if chosen:
            if chosen not in found:
                raise MissingColumn(path, str(column), found, _likely_spelling(column, chosen, found, given),
                                    OPTION_OF[column], named=chosen)
            fields[column] = chosen
            continue
        for alias in ALIASES[column]:
            source = folded.get(_fold(alias))
            if source is not None and source not in fields.values():
                fields[column] = source
                break
    for column in REQUIRED:
        if column not in fields:
            if column is Column.CASE_ID and any(name.startswith("ocel:type:") for name in found):
                # Guessing would name the event id column (ocel:eid): every event a case.
                raise LogFileError(path, "the columns are those of an object-centric CSV (ocel:eid, ocel:type:...), "
                                         "whose events belong to many objects and to no one case",
                                   expected="OCEL 2.0 JSON with --object-type (pm4py converts OCEL 1.0), "
                                            "or a log with a case id column")
            raise MissingColumn(path, str(column).replace("_", " "), found,
                                _likely(column, found, fields.values()), OPTION_OF[column])
    used = set(fields.values())
    start = _start_column(found, folded, used, start_timestamp, path)
    if start:
        used.add(start)
    # A header may name two columns alike (spreadsheet exports do); readers select columns by
    # name and give the first of them, so each name is one attribute.
    return ColumnMapping(fields=fields, attributes=tuple(name for name in dict.fromkeys(found) if name not in used),
                         start=start)


def _start_column(found: Sequence[str], folded: Mapping[str, str], used: set[str], given: str | None,
                  path: Path | str) -> str | None:
    if given:
        if given not in found:
            raise MissingColumn(path, "start timestamp", found, suggest(given, found), "--start-timestamp",
                                named=given)
        return given
    for alias in START_ALIASES:
        source = folded.get(_fold(alias))
        if source is not None and source not in used:
            return source
    return None


def _likely_spelling(column: Column, chosen: str, found: Sequence[str],
                     given: Mapping[Column, str | None]) -> str | None:
    """The column a misspelt name most likely meant: a close spelling, else the column recognised for the field."""
    close = difflib.get_close_matches(chosen.lower(), [name.lower() for name in found], n=1, cutoff=0.75)
    if close:
        return next(name for name in found if name.lower() == close[0])
    taken = [name for other, name in given.items() if name and other is not column]
    folded = {_fold(name): name for name in found if name not in taken}
    for alias in ALIASES[column]:
        if _fold(alias) in folded:
            return folded[_fold(alias)]
    return suggest(chosen, found)


def _likely(column: Column, found: Sequence[str], taken) -> str | None:
    free = [name for name in found if name not in set(taken)]
    for alias in ALIASES[column]:
        hit = suggest(alias, free)
        if hit:
            return hit
    hints = {Column.CASE_ID: ("id", "number", "no", "key"), Column.ACTIVITY: ("name", "status", "state"),
             Column.TIMESTAMP: ("time", "date", "at", "ts", "start", "end", "created", "updated", "when")}[column]
    for name in free:
        if any(hint in _fold(name) for hint in hints):
            return name
    return None
