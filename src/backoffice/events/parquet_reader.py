"""Read Parquet event logs with pyarrow (columnar, so only the columns used are loaded)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from backoffice.errors import EmptyLog, LogFileError
from backoffice.events.raw import RawEvents


def parquet_columns(path: Path) -> list[str]:
    """Return the column names of a Parquet file from its footer."""
    try:
        return list(pq.read_schema(path).names)
    except (pa.ArrowInvalid, OSError) as exc:
        raise LogFileError(path, f"not a readable Parquet file ({exc})", expected="an Apache Parquet file") from exc


def read_parquet(path: Path, *, columns: list[str] | None = None,
                 dictionary_columns: list[str] | None = None) -> RawEvents:
    """Read a Parquet file in file order.

    Args:
        columns: load only these; None loads every column.
        dictionary_columns: text columns of few distinct values to read dictionary-encoded,
            which saves decoding millions of repeated strings.
    """
    try:
        table = pq.read_table(path, columns=columns, read_dictionary=dictionary_columns or None)
    except (pa.ArrowInvalid, OSError) as exc:
        raise LogFileError(path, f"not a readable Parquet file ({exc})", expected="an Apache Parquet file") from exc
    if table.num_rows == 0:
        raise EmptyLog(path, "the Parquet file has no rows")
    return RawEvents(table=table)
