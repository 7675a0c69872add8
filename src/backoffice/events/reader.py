"""read_log: any supported file to an event log in the schema, with bad rows named."""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Sequence
from enum import StrEnum
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from backoffice.bulk import no_cycle_collection, reading_in_bulk
from backoffice.errors import (BadOption, BadTimestamp, EmptyLog, LogFileError, LogFileNotFound, MissingColumn,
                               UnknownLogFormat, suggest)
from backoffice.events import arrow_numpy
from backoffice.events.columns import ColumnMapping, resolve_columns
from backoffice.events.normalize import load_synonyms, normalize_activities
from backoffice.events.raw import ProgressCallback, RawEvents
from backoffice.events.schema import OPTIONAL, ORDER, START_TIMESTAMP, Column, EventLog
from backoffice.events.epoch import UnreadableEpoch, unix_time_type
from backoffice.events.timestamps import ParsedTimestamps, check_timezone, iso_8601_type, parse_timestamps


class LogFormat(StrEnum):
    """The file formats read_log understands."""

    CSV = "csv"
    XES = "xes"
    PARQUET = "parquet"
    OCEL = "ocel"


class OnBadRows(StrEnum):
    """What to do with a row whose case, activity or timestamp cannot be read."""

    FAIL = "fail"
    SKIP = "skip"


def detect_format(path: Path) -> LogFormat:
    """Tell the format from the file name."""
    name = path.name.lower()
    for suffix, kind in ((".xes.gz", LogFormat.XES), (".xes", LogFormat.XES), (".parquet", LogFormat.PARQUET),
                         (".pq", LogFormat.PARQUET), (".jsonocel", LogFormat.OCEL), (".json", LogFormat.OCEL),
                         (".csv", LogFormat.CSV), (".csv.gz", LogFormat.CSV), (".tsv", LogFormat.CSV),
                         (".tsv.gz", LogFormat.CSV), (".txt", LogFormat.CSV)):
        if name.endswith(suffix):
            return kind
    raise UnknownLogFormat(path)


# How much of a file the guess reads: its first 256 KiB, as stored (compressed or not).
GUESS_SAMPLE = 1 << 18


def rough_event_count(path: Path, format: str | None = None) -> int | None:
    """Guess how many events a log file holds without reading it, or None where a guess costs a read.

    Parquet says in its footer; a CSV or XES file (gzipped or not) is its size over what its
    first 256 KiB hold: lines, or `<event` tags. Good enough to choose how memory is handed
    back while reading (`bulk.hold_blocks_for`), never for a result (bpic2012.xes.gz: 264,000
    guessed for 262,200). A file that cannot be opened is left to `read_log` to name.
    """
    try:
        kind = LogFormat(format) if format else detect_format(Path(path))
        if kind is LogFormat.PARQUET:
            import pyarrow.parquet as pq

            return pq.ParquetFile(path).metadata.num_rows
        if kind is LogFormat.CSV:
            return _scaled_count(Path(path), (b"\n",))
        if kind is LogFormat.XES:
            return _scaled_count(Path(path), (b"<event>", b"<event "))
    except (OSError, ValueError, EOFError, UnknownLogFormat, zlib.error):  # `read_log` names the damage
        pass
    return None


def _scaled_count(path: Path, marks: tuple[bytes, ...]) -> int | None:
    """How many `marks` the whole file holds, at their spacing in its first GUESS_SAMPLE bytes as stored.

    The spacing is taken from the first mark to the last, so that a header (XES logs can
    open with megabytes of statistics) does not count as events. A gzipped file's length
    is its trailer's, modulo 4 GiB: a length below three times the stored size has wrapped.
    """
    size = os.path.getsize(path)
    with open(path, "rb") as file:
        stored = file.read(GUESS_SAMPLE)
        if stored[:2] == b"\x1f\x8b":
            file.seek(-4, os.SEEK_END)
            length = int.from_bytes(file.read(4), "little")
            while length < 3 * size:
                length += 1 << 32
            text = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(stored, 64 * GUESS_SAMPLE)
        else:
            length, text = size, stored
    found = [position for mark in marks for position in (text.find(mark), text.rfind(mark)) if position >= 0]
    count = sum(text.count(mark) for mark in marks)
    if len(text) >= length:
        return count  # the whole file was read
    if count < 2:
        return None
    return int(length * (count - 1) / max(max(found) - min(found), 1))


@no_cycle_collection()
def read_log(path: Path | str, *, format: LogFormat | str | None = None,
             case: str | None = None, activity: str | None = None, timestamp: str | None = None,
             resource: str | None = None, role: str | None = None, system: str | None = None,
             reason: str | None = None, lifecycle: str | None = None, group: str | None = None,
             start_timestamp: str | None = None, timezone: str = "UTC", timestamp_format: str | None = None,
             encoding: str | None = None, delimiter: str | None = None,
             on_bad_rows: OnBadRows | str = OnBadRows.FAIL, object_type: str | None = None,
             synonyms: Path | str | dict[str, str] | None = None, attributes: bool | Sequence[str] = True,
             lane_columns: Sequence[str] | None = None, progress: ProgressCallback | None = None) -> EventLog:
    """Read an event log file into the event schema.

    Args:
        path: a CSV/TSV (optionally .gz), XES or XES.gz, Parquet, or OCEL 2.0 JSON file.
        format: the format, when the file name does not tell it.
        case, activity, timestamp, resource, role, system, reason, lifecycle, group: the
            source column for each schema field; None recognises the schema's own names and
            the XES standard names.
        start_timestamp: the column holding each row's start, beside its (end) timestamp;
            None recognises "start time", "start timestamp" and "started at".
        timezone: the zone of timestamps that carry no offset.
        timestamp_format: a strptime format, when timestamps are not ISO 8601.
        encoding, delimiter: for delimited text; detected when None (encoding: UTF-8).
        on_bad_rows: "fail" names the first bad row; "skip" leaves bad rows out and counts them.
        object_type: for OCEL, the object type whose objects become cases.
        synonyms: a YAML file (or a ready mapping of folded label to name) of activity synonyms.
        attributes: keep every other column (True), none (False), or the ones named; leaving
            out what an analysis does not use saves memory on large CSV and Parquet files.
        lane_columns: of the lane columns (role, group, system), the ones the caller may use,
            in its order of preference, for a caller that uses only the first holding a value;
            None: all of them. A CSV's other lane columns are left unread (they come back
            empty), and so are those after the first one seen with a value in the file's
            first lines (with on_bad_rows "fail": no row is left out). Each costs some 30 ms
            of CPU a million rows to read.
        progress: called with (bytes read, bytes in all) on long reads.

    Returns:
        The events, sorted by case and time, ties in file order.

    Raises:
        UserError subclasses naming the file and, where it applies, the row, line and value.
    """
    path = Path(path)
    if not path.exists():
        raise LogFileNotFound(path)
    if path.is_dir():
        raise LogFileNotFound(path, "it is a folder")
    if not os.access(path, os.R_OK):
        raise LogFileNotFound(path, "permission denied")
    try:
        kind = LogFormat(format) if format else detect_format(path)
    except ValueError as exc:
        raise BadOption("--format", format, "one of csv, xes, parquet, ocel") from exc
    try:
        policy = OnBadRows(on_bad_rows)
    except ValueError as exc:
        raise BadOption("--on-bad-rows", on_bad_rows, "fail or skip") from exc
    check_timezone(timezone)
    synonym_table = load_synonyms(synonyms) if isinstance(synonyms, (str, Path)) else synonyms
    given = {Column.CASE_ID: case, Column.ACTIVITY: activity, Column.TIMESTAMP: timestamp,
             Column.RESOURCE: resource, Column.ROLE: role, Column.SYSTEM: system,
             Column.REASON: reason, Column.LIFECYCLE: lifecycle, Column.GROUP: group}

    if kind is LogFormat.CSV:
        from backoffice.events.csv_reader import csv_columns, marked_encoding, read_csv, sample_values, sniff_delimiter
        encoding = marked_encoding(path, encoding)  # a UTF-16 export (Excel's "Unicode text") says so itself
        if path.stat().st_size:
            delimiter = delimiter or sniff_delimiter(path, encoding)  # once, for the three reads below
        mapping = _projected(resolve_columns(csv_columns(path, delimiter=delimiter, encoding=encoding), given,
                                             path=path, start_timestamp=start_timestamp), attributes, path)
        if lane_columns is not None:
            mapping = _without_unused_lanes(mapping, lane_columns, policy, lambda name: sample_values(
                path, name, delimiter=delimiter, encoding=encoding))
        time_column = mapping.fields[Column.TIMESTAMP]
        # ISO 8601 timestamps and Unix time are parsed by Arrow while it reads, in its threads,
        # and never held as text; other formats are read as text for parse_timestamps.
        samples = sample_values(path, time_column, delimiter=delimiter, encoding=encoding)
        time_type = None if timestamp_format else iso_8601_type(samples) or unix_time_type(samples)
        with reading_in_bulk():
            raw = read_csv(path, text_columns=[name for name in mapping.fields.values() if name != time_column]
                           + ([mapping.start] if mapping.start else []), time_columns=[time_column],
                           columns=[*mapping.fields.values(), *([mapping.start] if mapping.start else []),
                                    *mapping.attributes],
                           delimiter=delimiter, encoding=encoding, time_type=time_type,
                           verbatim_columns=[mapping.fields[Column.CASE_ID], mapping.fields[Column.ACTIVITY]])
    elif kind is LogFormat.PARQUET:
        from backoffice.events.parquet_reader import parquet_columns, read_parquet
        mapping = _projected(resolve_columns(parquet_columns(path), given, path=path,
                                                            start_timestamp=start_timestamp), attributes, path)
        with reading_in_bulk():
            raw = read_parquet(path, columns=[*mapping.fields.values(), *([mapping.start] if mapping.start else []),
                                              *mapping.attributes],
                               # Parquet's own per-row-group dictionaries, merged once, spare hashing
                               # every value again, case ids included.
                               dictionary_columns=[name for column, name in mapping.fields.items()
                                                   if column is not Column.TIMESTAMP])
    elif kind is LogFormat.XES:
        from backoffice.events.xes_reader import read_xes
        with reading_in_bulk():
            raw = read_xes(path, progress=progress)
        mapping = _projected(resolve_columns(raw.table.column_names, given, path=path,
                                                            start_timestamp=start_timestamp), attributes, path)
    else:
        from backoffice.events.ocel_reader import read_ocel
        raw = read_ocel(path, object_type=object_type)
        mapping = _projected(resolve_columns(raw.table.column_names, given, path=path,
                                                            start_timestamp=start_timestamp), attributes, path)
    # Handed over in a list that the conversion empties: this frame keeps no reference to the
    # file's columns, so they are freed as soon as the conversion no longer needs them.
    handed = [raw]
    del raw
    return _event_log(handed, mapping, path=path, timezone=timezone, timestamp_format=timestamp_format,
                      on_bad_rows=policy, synonyms=synonym_table)


def _projected(mapping: ColumnMapping, attributes: bool | Sequence[str], path: Path) -> ColumnMapping:
    """Keep the attribute columns asked for; a named one that is missing is an error."""
    if attributes is True:
        return mapping
    wanted = [] if attributes is False else list(attributes)
    for name in wanted:
        if name not in mapping.attributes and name not in mapping.fields.values():
            raise MissingColumn(path, f"attribute column {name!r}", list(mapping.fields.values()) + list(mapping.attributes),
                                suggest(name, mapping.attributes), "--sla-from")
    return ColumnMapping(fields=mapping.fields, attributes=tuple(name for name in mapping.attributes if name in wanted),
                         start=mapping.start)


# The lane columns lane_columns chooses among.
LANE_COLUMNS = (Column.ROLE, Column.GROUP, Column.SYSTEM)


def _without_unused_lanes(mapping: ColumnMapping, wanted: Sequence[str], policy: OnBadRows,
                          first_values: Callable[[str], list[str]]) -> ColumnMapping:
    """The mapping without the lane columns read_log's `lane_columns` leaves unread."""
    import pyarrow.csv as pacsv

    # Text the reader reads as missing (Arrow's null spellings, blanks) is no value.
    missing = set(pacsv.ConvertOptions().null_values)
    keep: set[Column] = set()
    for name in wanted:
        column = Column(name)
        if column not in mapping.fields:
            continue
        keep.add(column)
        values = first_values(mapping.fields[column])
        if policy is OnBadRows.FAIL and any(value not in missing and any(character.isascii() and
                                                                         character.isalnum() for character in value)
                                            for value in values):
            break  # this one holds a value: the caller uses it, and none after it
    fields = {column: name for column, name in mapping.fields.items()
              if column not in LANE_COLUMNS or column in keep}
    return ColumnMapping(fields=fields, attributes=mapping.attributes, start=mapping.start)


def to_event_log(raw: RawEvents, mapping: ColumnMapping, *, path: Path, timezone: str = "UTC",
                 timestamp_format: str | None = None, on_bad_rows: OnBadRows = OnBadRows.FAIL,
                 synonyms: dict[str, str] | None = None) -> EventLog:
    """Map a reader's columns onto the schema, parse timestamps and drop or refuse bad rows."""
    return _event_log([raw], mapping, path=path, timezone=timezone, timestamp_format=timestamp_format,
                      on_bad_rows=on_bad_rows, synonyms=synonyms)


def _event_log(handed: list[RawEvents], mapping: ColumnMapping, *, path: Path, timezone: str,
               timestamp_format: str | None, on_bad_rows: OnBadRows,
               synonyms: dict[str, str] | None) -> EventLog:
    """to_event_log on a reader's output handed over in a list, which it empties."""
    raw = handed.pop()
    table = raw.table
    rows = table.num_rows
    source_ts = mapping.fields[Column.TIMESTAMP]
    parsed = _timestamps(raw, source_ts, path=path, timezone=timezone, timestamp_format=timestamp_format)
    readings = [_unix_time_note(source_ts, parsed)] if parsed.unix_time_unit else []
    columns: dict[str, pa.Array | pa.ChunkedArray] = {
        Column.CASE_ID: _text(table.column(mapping.fields[Column.CASE_ID])),
        Column.ACTIVITY: _text(table.column(mapping.fields[Column.ACTIVITY])),
        Column.TIMESTAMP: parsed.values,
    }
    for column in OPTIONAL:
        if column in mapping.fields:
            columns[column] = _text(table.column(mapping.fields[column]))
    if mapping.start:
        # A start that cannot be read is no start: the step keeps its end, without a processing time.
        started = _timestamps(raw, mapping.start, path=path, timezone=timezone, timestamp_format=timestamp_format)
        columns[START_TIMESTAMP] = started.values
        readings += [_unix_time_note(mapping.start, started)] if started.unix_time_unit else []
    for name in mapping.attributes:
        if name not in columns:
            columns[name] = table.column(name)
    events = pa.table(columns)

    if any(events.column(column).null_count for column in (Column.CASE_ID, Column.ACTIVITY, Column.TIMESTAMP)):
        bad = pc.or_(pc.or_(pc.is_null(events.column(Column.CASE_ID)), pc.is_null(events.column(Column.ACTIVITY))),
                     pc.is_null(events.column(Column.TIMESTAMP)))
        bad_count = pc.sum(bad.cast(pa.int64())).as_py() or 0
    else:
        bad, bad_count = None, 0  # no value missing: no row to look for
    if bad_count and on_bad_rows is OnBadRows.FAIL:
        raise _first_bad_row(raw, mapping, events, bad, path)
    if bad_count:
        # The rows kept keep their places in the file; without a skipped row, the sort
        # numbers them itself (EventLog.from_columns), sparing a column while it sorts.
        events = events.append_column(ORDER, arrow_numpy.arrow(np.arange(rows, dtype=np.int64)))
        events = events.filter(pc.invert(bad))
        if events.num_rows == 0:
            raise EmptyLog(path, f"every one of the {rows} rows was skipped as unreadable")
    events = events.set_column(events.column_names.index(Column.ACTIVITY), Column.ACTIVITY,
                               normalize_activities(events.column(Column.ACTIVITY), synonyms))
    notes = (*readings, *((f"{bad_count} unreadable rows skipped",) if bad_count else ()))
    # From here on only `columns` holds the events: sorting moves them one column at a time
    # and frees each source column as its sorted copy is made.
    columns = dict(zip(events.column_names, events.columns))
    del raw, table, events, bad, parsed
    return EventLog.from_columns(columns, source=str(path), skipped_rows=bad_count, notes=notes)


def _timestamps(raw: RawEvents, name: str, *, path: Path, timezone: str,
                timestamp_format: str | None) -> ParsedTimestamps:
    """Parse a timestamp column of the file, numbers as Unix time; a column that cannot be is named."""
    try:
        return parse_timestamps(raw.table.column(name), timezone=timezone, timestamp_format=timestamp_format,
                                unix_time=True)
    except UnreadableEpoch as exc:
        written = raw.table.column(name)[exc.position].as_py()  # as the file has it, not as a number
        written = written.strip() if isinstance(written, str) else exc.value
        raise LogFileError(path, f"row {exc.position + 1}: the value {written} in column {name!r} {exc.problem}",
                           line=raw.line(exc.position), expected=exc.expected) from exc


def _unix_time_note(name: str, parsed: ParsedTimestamps) -> str:
    """Say which unit numbers were read in, and the span that gave, for a person to check."""
    extremes = pc.min_max(parsed.values)
    first, last = (extremes[end].as_py() for end in ("min", "max"))
    span = f" ({first:%Y-%m-%d} to {last:%Y-%m-%d})" if first is not None else ""
    return f"timestamps in column {name!r} read as Unix time in {parsed.unix_time_unit}{span}"


def _text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Text as one dictionary-encoded chunk, with empty or blank values as missing.

    A missing value is no handoff, so blanks must not become a lane called "". Columns read
    as per-block dictionaries are merged into one; plain text columns are joined first and
    encoded once. Dictionary entries are in order of first appearance, so codes number
    cases in file order.
    """
    if pa.types.is_dictionary(column.type) and not pa.types.is_string(column.type.value_type):
        column = column.cast(column.type.value_type)
    if pa.types.is_dictionary(column.type):
        encoded = column.unify_dictionaries().combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    else:
        if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
            column = column.cast(pa.string())
        encoded = pc.dictionary_encode(column.combine_chunks())
    # Blank check on the dictionary only: a few hundred names, not millions of rows.
    blank = arrow_numpy.values(pc.utf8_length(pc.utf8_trim_whitespace(encoded.dictionary))) == 0
    if blank.any():
        codes = arrow_numpy.dictionary_codes(encoded)
        encoded = arrow_numpy.dictionary_array(np.where(blank[np.maximum(codes, 0)], -1, codes), encoded.dictionary)
    return pa.chunked_array([encoded])


def _first_bad_row(raw: RawEvents, mapping: ColumnMapping, events: pa.Table, bad: pa.ChunkedArray,
                   path: Path) -> LogFileError:
    position = pc.indices_nonzero(bad)[0].as_py()
    line = raw.line(position)
    row = position + 1
    for column in (Column.CASE_ID, Column.ACTIVITY):
        if events.column(column)[position].as_py() is None:
            return LogFileError(path, f"row {row}: the {column} value in column "
                                      f"{mapping.fields[column]!r} is empty", line=line,
                                expected="a value on every row, or --on-bad-rows skip")
    value = raw.table.column(mapping.fields[Column.TIMESTAMP])[position].as_py()
    if value is None or str(value).strip() == "":
        return LogFileError(path, f"row {row}: the timestamp in column "
                                  f"{mapping.fields[Column.TIMESTAMP]!r} is empty", line=line,
                            expected="a timestamp on every row, or --on-bad-rows skip")
    return BadTimestamp(path, row=row, value=str(value), column=mapping.fields[Column.TIMESTAMP], line=line)
