"""Read delimited text (CSV, TSV, optionally gzipped) with DuckDB's reader and sniffer."""

from __future__ import annotations

import codecs
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

import duckdb
import pyarrow as pa

from backoffice.errors import EmptyLog, LogFileError, NotUtf8
from backoffice.events.raw import RawEvents

# DuckDB decodes these itself; any other encoding is transcoded to UTF-8 first.
DUCKDB_ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "utf-16": "utf-16", "utf16": "utf-16",
                    "latin-1": "latin-1", "latin1": "latin-1", "iso-8859-1": "latin-1"}


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def csv_columns(path: Path, *, delimiter: str | None = None, encoding: str | None = None) -> list[str]:
    """Return the header of a delimited file, as the sniffer reads it."""
    if path.stat().st_size == 0:
        raise EmptyLog(path, "the file is empty")
    with _readable(path, encoding) as (source, duck_encoding):
        con = duckdb.connect()
        try:
            relation = con.sql(f"SELECT * FROM {_reader(source, delimiter, duck_encoding, {})} LIMIT 0")
            return list(relation.columns)
        except duckdb.Error as exc:
            raise _translate(path, exc) from exc


def read_csv(path: Path, *, text_columns: Iterable[str] = (), delimiter: str | None = None,
             encoding: str | None = None) -> RawEvents:
    """Read a delimited file into the source's columns, in file order.

    Args:
        path: a .csv, .tsv or .txt file, gzipped or not.
        text_columns: columns to keep as text whatever the sniffer thinks (the case id,
            activity and timestamp, which we parse ourselves).
        delimiter: the field separator; None lets DuckDB's sniffer detect it.
        encoding: the text encoding; None means UTF-8 and a non-UTF-8 file is refused.

    Raises:
        NotUtf8: the file is not UTF-8 and no encoding was given (names the line).
        EmptyLog: the file is empty or holds only a header.
        LogFileError: DuckDB cannot make rows of it (names the line when DuckDB does).
    """
    types = {name: "VARCHAR" for name in text_columns}
    with _readable(path, encoding) as (source, duck_encoding):
        con = duckdb.connect()
        try:
            table = con.sql(f"SELECT * FROM {_reader(source, delimiter, duck_encoding, types)}").to_arrow_table()
        except duckdb.Error as exc:
            raise _translate(path, exc) from exc
    if table.num_rows == 0:
        raise EmptyLog(path, "the file holds a header but no rows" if table.num_columns > 1
                       else "the file is empty")
    # With one record per line, data row i sits on line i + 2 (after the header).
    lines = pa.array(range(2, table.num_rows + 2), pa.int64())
    return RawEvents(table=table, lines=lines)


class _readable:
    """Give DuckDB a file it can decode: the file itself, or a UTF-8 copy of it."""

    def __init__(self, path: Path, encoding: str | None) -> None:
        self.path = path
        self.encoding = encoding
        self.copy: tempfile._TemporaryFileWrapper | None = None

    def __enter__(self) -> tuple[Path, str]:
        if not self.encoding:
            return self.path, "utf-8"
        key = self.encoding.lower()
        if key in DUCKDB_ENCODINGS:
            return self.path, DUCKDB_ENCODINGS[key]
        try:
            codecs.lookup(self.encoding)
        except LookupError as exc:
            from backoffice.errors import BadOption
            raise BadOption("--encoding", self.encoding, "a Python codec name such as utf-8, latin-1, cp1252") from exc
        self.copy = tempfile.NamedTemporaryFile(suffix=".csv", mode="w", encoding="utf-8")
        try:
            with open(self.path, encoding=self.encoding, newline="") as original:
                for block in iter(lambda: original.read(1 << 20), ""):
                    self.copy.write(block)
        except UnicodeDecodeError as exc:
            raise LogFileError(self.path, f"cannot decode byte {exc.start} as {self.encoding}",
                               expected=f"text in {self.encoding}") from exc
        self.copy.flush()
        return Path(self.copy.name), "utf-8"

    def __exit__(self, *exc_info: object) -> None:
        if self.copy is not None:
            self.copy.close()


def _reader(path: Path, delimiter: str | None, encoding: str, types: dict[str, str]) -> str:
    options = [f"encoding={_sql_text(encoding)}", "header=true"]
    if delimiter:
        options.append(f"delim={_sql_text(delimiter)}")
    if types:
        inner = ", ".join(f"{_sql_text(name)}: {_sql_text(kind)}" for name, kind in types.items())
        options.append(f"types={{{inner}}}")
    return f"read_csv({_sql_text(str(path))}, {', '.join(options)})"


def _translate(path: Path, exc: duckdb.Error) -> LogFileError:
    text = str(exc)
    line_match = re.search(r"Line: (\d+)", text)
    line = int(line_match.group(1)) if line_match else None
    if "unicode" in text.lower() or "utf-8" in text.lower() or "utf8" in text.lower():
        return NotUtf8(path, line=line)
    if "gzip" in text.lower() or "compressed" in text.lower():
        from backoffice.errors import TruncatedGzip
        return TruncatedGzip(path, text.splitlines()[0])
    first = text.splitlines()[0] if text else type(exc).__name__
    first = re.sub(r"^[A-Za-z ]*Error: ", "", first)
    return LogFileError(path, f"cannot read the rows ({first})", line=line,
                        expected="delimited text with one header row and the same number of fields "
                                 "on every row (or --delimiter)")
