"""Read delimited text (CSV, TSV, optionally gzipped) with Arrow's multi-threaded CSV reader.

Text columns come back dictionary-encoded: a log repeats the same few hundred activity,
resource and role names millions of times, and codes take a tenth of the memory.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import re
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from backoffice.errors import BadOption, EmptyLog, LogFileError, NotUtf8, TruncatedGzip
from backoffice.events.raw import RawEvents

SNIFF_BYTES = 1 << 16
DELIMITERS = ",;\t|"
TEXT = pa.dictionary(pa.int32(), pa.string())


def _open_binary(path: Path) -> io.BufferedIOBase:
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")


def _sample(path: Path) -> bytes:
    """The file's first bytes, without a UTF-8 byte order mark (Arrow skips it too)."""
    try:
        with _open_binary(path) as stream:
            sample = stream.read(SNIFF_BYTES)
    except (EOFError, OSError) as exc:
        if isinstance(exc, gzip.BadGzipFile) or isinstance(exc, EOFError):
            raise TruncatedGzip(path, str(exc)) from exc
        raise
    # Spreadsheets save "CSV UTF-8" with a mark, which would otherwise stick to the first column's name.
    return sample.removeprefix(codecs.BOM_UTF8)


# Byte order marks that name their encoding; UTF-32's come first, as they begin like UTF-16's.
MARKED_ENCODINGS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def marked_encoding(path: Path, encoding: str | None) -> str | None:
    """The encoding given, else the one a UTF-16 or UTF-32 byte order mark names, else None (UTF-8)."""
    if encoding:
        return encoding
    try:
        with _open_binary(path) as stream:
            start = stream.read(4)
    except (EOFError, OSError):
        return None  # the reads that follow name the damage
    return next((name for mark, name in MARKED_ENCODINGS if start.startswith(mark)), None)


def _check_encoding(encoding: str | None) -> str:
    if not encoding:
        return "utf8"
    try:
        return codecs.lookup(encoding).name
    except LookupError as exc:
        raise BadOption("--encoding", encoding, "a codec name such as utf-8, latin-1 or cp1252") from exc


def sniff_delimiter(path: Path, encoding: str | None) -> str:
    """Guess the field separator from the first lines; a comma when nothing else fits."""
    sample = _sample(path)
    text = sample.decode(_check_encoding(encoding), errors="replace")
    lines = text.splitlines()
    if len(sample) == SNIFF_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line of a cut sample may be partial
    try:
        return csv.Sniffer().sniff("\n".join(lines[:50]), delimiters=DELIMITERS).delimiter
    except csv.Error:
        header = lines[0] if lines else ""
        return max(DELIMITERS, key=header.count) if any(d in header for d in DELIMITERS) else ","


def csv_columns(path: Path, *, delimiter: str | None = None, encoding: str | None = None) -> list[str]:
    """Return the header of a delimited file."""
    if path.stat().st_size == 0:
        raise EmptyLog(path, "the file is empty")
    delimiter = delimiter or sniff_delimiter(path, encoding)
    text = _sample(path).decode(_check_encoding(encoding), errors="replace")
    if not text.strip():
        raise EmptyLog(path, "the file is empty")
    return next(csv.reader(io.StringIO(text.splitlines()[0]), delimiter=delimiter))


def read_csv(path: Path, *, text_columns: Iterable[str] = (), time_columns: Iterable[str] = (),
             columns: Iterable[str] | None = None, delimiter: str | None = None, encoding: str | None = None,
             time_type: pa.DataType | None = None, verbatim_columns: Iterable[str] = ()) -> RawEvents:
    """Read a delimited file into the source's columns, in file order.

    Args:
        path: a .csv, .tsv or .txt file, gzipped or not.
        text_columns: columns to keep as (dictionary-encoded) text whatever they look like:
            the case id, activity, lanes.
        time_columns: columns to keep as plain text, for timestamps we parse ourselves.
        columns: read only these columns; None reads every column.
        delimiter: the field separator; None sniffs it from the first lines.
        encoding: the text encoding; None means UTF-8, and a non-UTF-8 file is refused.
        time_type: a timestamp type to parse the time columns into while reading (Arrow's
            ISO 8601 parser, in the reading threads), or a number type for Unix time, which
            spares holding them as text.
            When any value does not parse, the file is read again with them as text, so
            that the caller can name the bad row or skip it.
        verbatim_columns: text columns whose values are taken as written, where only a blank
            is missing: a case "NA" (the Sepsis log has one) is no missing value there.

    Raises:
        NotUtf8: the file is not UTF-8 and no encoding was given (names the line).
        EmptyLog: the file is empty or holds only a header.
        LogFileError: a row that cannot be split into the header's fields (names the line).
    """
    delimiter = delimiter or sniff_delimiter(path, encoding)
    codec = _check_encoding(encoding)
    text_columns, time_columns = list(text_columns), list(time_columns)
    table = None
    if time_type is not None:
        try:
            table = _read_table(path, delimiter, codec, encoding, columns=columns,
                                types={name: TEXT for name in text_columns} | {name: time_type for name in time_columns})
        except LogFileError as exc:
            if not _is_conversion_error(exc):
                raise
    if table is None:
        table = _read_table(path, delimiter, codec, encoding, columns=columns,
                            types={name: TEXT for name in text_columns} | {name: pa.string() for name in time_columns})
    if table.num_rows == 0:
        raise EmptyLog(path, "the file holds a header but no rows")
    # Arrow reads "NA", "null", "N/A"... as missing; read again, as written, the columns that
    # must not lose such values, only when one has a missing value (rare: it is a bad row otherwise).
    again = [name for name in verbatim_columns if name in table.column_names and table.column(name).null_count]
    if again:
        written = _read_table(path, delimiter, codec, encoding, columns=again,
                              types={name: TEXT for name in again}, strings_can_be_null=False)
        for name in again:
            table = table.set_column(table.column_names.index(name), name, written.column(name))
    return RawEvents(table=table, line_of=lambda position: _line_of_row(path, delimiter, codec, position))


def _read_table(path: Path, delimiter: str, codec: str, encoding: str | None, *, columns: Iterable[str] | None,
                types: dict[str, pa.DataType], strings_can_be_null: bool = True) -> pa.Table:
    """Read the file with Arrow's multi-threaded reader, with Arrow's errors turned into ours."""
    # UTF-8 is checked after the read, on the dictionaries of the text columns (a few hundred
    # names, and the case ids), not on each of their millions of values as Arrow would:
    # 0.04 s of 0.44 s of CPU on the 1.5M-event CSV. Text in another encoding is transcoded.
    convert = pacsv.ConvertOptions(column_types=types, include_columns=list(columns) if columns is not None else None,
                                   strings_can_be_null=strings_can_be_null, auto_dict_encode=True,
                                   auto_dict_max_cardinality=10_000, check_utf8=False)
    read = pacsv.ReadOptions(encoding=codec)
    try:
        return _checked_utf8(path, pacsv.read_csv(path, read_options=read, convert_options=convert,
                                                  parse_options=pacsv.ParseOptions(delimiter=delimiter)))
    except pa.ArrowInvalid as exc:
        message = str(exc).lower()
        if "conversion error" not in message and ("newline" in message or "expected" in message):
            # Quoted fields holding line breaks need the slower, line-aware parser.
            try:
                return _checked_utf8(path, pacsv.read_csv(
                    path, read_options=read, convert_options=convert,
                    parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True)))
            except pa.ArrowInvalid as again:
                raise _translate(path, again, delimiter, codec) from again
        raise _translate(path, exc, delimiter, codec) from exc
    except (EOFError, OSError) as exc:
        raise TruncatedGzip(path, str(exc)) if path.name.lower().endswith(".gz") else \
            LogFileError(path, f"cannot read the file ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise LogFileError(path, f"cannot decode the file as {encoding} ({exc.reason})",
                           expected=f"text in {encoding}") from exc


def _checked_utf8(path: Path, table: pa.Table) -> pa.Table:
    """The table, once every text value in it is known to be UTF-8; else NotUtf8 naming the first bad line.

    A dictionary-encoded column is checked through its dictionaries: its values are theirs.
    """
    for column in table.columns:
        kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            continue
        for chunk in column.chunks:
            try:
                (chunk.dictionary if pa.types.is_dictionary(chunk.type) else chunk).validate(full=True)
            except pa.ArrowInvalid as exc:
                raise NotUtf8(path, line=_first_undecodable_line(path)) from exc
    return table


def _is_conversion_error(error: LogFileError) -> bool:
    """Tell whether Arrow refused a value's conversion (rather than the file's shape or encoding)."""
    cause = error.__cause__
    return isinstance(cause, pa.ArrowInvalid) and "conversion error" in str(cause).lower()


def sample_values(path: Path, column: str, *, delimiter: str | None = None, encoding: str | None = None,
                  rows: int = 20) -> list[str]:
    """Return the first non-empty values of a column, read from the start of the file."""
    delimiter = delimiter or sniff_delimiter(path, encoding)
    lines = _sample(path).decode(_check_encoding(encoding), errors="replace").splitlines()
    reader = csv.reader(io.StringIO("\n".join(lines[:-1] if len(lines) > 2 else lines)), delimiter=delimiter)
    header = next(reader, [])
    if column not in header:
        return []
    index = header.index(column)
    found = []
    for row in reader:
        if len(row) > index and row[index].strip():
            found.append(row[index])
            if len(found) == rows:
                break
    return found


def _translate(path: Path, exc: pa.ArrowInvalid, delimiter: str, codec: str) -> LogFileError:
    """Turn Arrow's message into one that names the line, by reading the file again (error path only)."""
    text = str(exc)
    if "Empty CSV file" in text:
        return EmptyLog(path, "the file is empty")
    if "UTF8" in text or "utf8" in text.lower():
        return NotUtf8(path, line=_first_undecodable_line(path))
    match = re.search(r"Expected (\d+) columns, got (\d+)", text)
    if match:
        line = _first_ragged_line(path, delimiter, codec, int(match.group(1)))
        return LogFileError(path, f"the row has {match.group(2)} fields where the header has {match.group(1)}",
                            line=line, expected="the same number of fields on every row (or --delimiter)")
    first = text.splitlines()[0] if text else type(exc).__name__
    return LogFileError(path, f"cannot read the rows ({first})",
                        expected="delimited text with one header row (or --delimiter, --encoding)")


def _line_of_row(path: Path, delimiter: str, codec: str, position: int) -> int | None:
    """The line where data row `position` (0-based) ends, counting quoted line breaks."""
    with _open_binary(path) as raw, io.TextIOWrapper(raw, encoding=codec, errors="replace", newline="") as stream:
        reader = csv.reader(stream, delimiter=delimiter)
        next(reader, None)  # the header
        for number, _ in enumerate(reader):
            if number == position:
                return reader.line_num
    return None


def _first_undecodable_line(path: Path) -> int | None:
    with _open_binary(path) as stream:
        for number, line in enumerate(stream, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return None


def _first_ragged_line(path: Path, delimiter: str, codec: str, expected: int) -> int | None:
    with _open_binary(path) as raw, io.TextIOWrapper(raw, encoding=codec, errors="replace", newline="") as stream:
        reader = csv.reader(stream, delimiter=delimiter)
        for row in reader:
            if row and len(row) != expected:
                return reader.line_num
    return None
