"""Turn timestamp text into UTC instants: offsets converted, naive values placed in a zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from backoffice.errors import BadOption
from backoffice.events.epoch import looks_like_compact_date, looks_like_epoch_text, numbers_from_text, read_epoch
from backoffice.events.schema import TIMESTAMP_TYPE

if TYPE_CHECKING:
    # DuckDB reads the timestamp formats Arrow does not; it is imported only then (its
    # import alone costs about 60 ms).
    import duckdb

# Tried in order when the values are not ISO 8601; the first that reads every value wins.
# Day-first comes before month-first because most back-office exports here are European.
COMMON_FORMATS = (
    "%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%Y/%m/%d %H:%M:%S", "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M", "%Y%m%d%H%M%S", "%d-%m-%Y", "%d/%m/%Y", "%m/%d/%Y", "%Y-%m-%d %H:%M:%S.%f",
    # Fractions after day-first dates, and a comma before them (log4j, ISO 8601's other mark).
    "%d-%m-%Y %H:%M:%S.%f", "%d/%m/%Y %H:%M:%S.%f", "%d.%m.%Y %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S,%f",
    # An offset after a space ("yyyy-MM-dd HH:mm:ss Z" in Java, Oracle and SQL Server exports).
    "%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S.%f %z",
    # US spreadsheets: a 12-hour clock with AM or PM.
    "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p",
    # A date written as digits (20240301), as spreadsheets and data warehouses store it in an integer.
    "%Y%m%d",
)


_OFFSET = re.compile(r"(Z|[+-]\d\d(:?\d\d)?)$", re.IGNORECASE)
# A date, optionally a time (T or space), optionally fractions and an offset: what Arrow's
# ISO 8601 parser reads.
_ISO_8601 = re.compile(r"^\d{4}-\d\d-\d\d([T ]\d\d:\d\d(:\d\d(\.\d{1,9})?)?)?(Z|[+-]\d\d(:?\d\d)?)?$")
# ISO 8601 that Arrow does not read as written: the basic form (20240301T100000Z,
# 20240301T1000+0100) and a lowercase t or z. It is rewritten into the extended form first.
_OTHER_ISO_8601 = re.compile(r"^(\d{8}[Tt]\d{4}(\d\d(\.\d{1,9})?)?|\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d(:\d\d(\.\d{1,9})?)?)"
                             r"([Zz]|[+-]\d\d(:?\d\d)?)?$")
_BASIC_WITH_SECONDS = r"^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)"
_BASIC_WITHOUT_SECONDS = r"^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)"


@dataclass(frozen=True)
class ParsedTimestamps:
    """UTC instants, with the positions of values that could not be read."""

    values: pa.Array
    bad_positions: list[int]
    # The unit of Unix time the values were read in ("milliseconds"...), None for dates as text.
    unix_time_unit: str | None = None


def check_timezone(timezone: str) -> None:
    """Refuse a zone name the time zone database does not know."""
    if timezone == "UTC":
        return  # the default, known everywhere: no need to start DuckDB to check it
    import duckdb

    try:
        duckdb.connect().execute(f"SET TimeZone = '{timezone.replace(chr(39), '')}'")
    except duckdb.Error as exc:
        raise BadOption("--timezone", timezone, "an IANA zone name such as Europe/Amsterdam or UTC") from exc


def parse_timestamps(values: pa.Array | pa.ChunkedArray, *, timezone: str = "UTC",
                     timestamp_format: str | None = None, max_bad: int = 1,
                     unix_time: bool = False) -> ParsedTimestamps:
    """Parse timestamps into UTC.

    Values with an offset are converted to UTC; values without one are read as local time
    in `timezone`. Already-typed timestamps are converted the same way.

    Args:
        values: text or timestamps.
        timezone: the zone of naive values.
        timestamp_format: a strptime format; None tries ISO 8601, then common formats.
        max_bad: stop collecting bad positions after this many (all are nulls anyway).
        unix_time: read numbers (typed, or text of digits) as Unix time, the unit told by
            magnitude (see events.epoch); for columns known to hold timestamps.

    Raises:
        UnreadableEpoch: with unix_time, numbers before 1970 or after 2100 in every unit,
            or of mixed units.
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.chunk(0) if values.num_chunks == 1 else values.combine_chunks()
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    if pa.types.is_timestamp(values.type):
        return ParsedTimestamps(values=_typed(values, timezone), bad_positions=[])
    if unix_time and timestamp_format is None:
        numbers = _unix_time_numbers(values)
        if numbers is not None:
            reading = read_epoch(numbers)
            return ParsedTimestamps(values=reading.values, bad_positions=_bad(reading.values, values, max_bad),
                                    unix_time_unit=reading.unit)
    fast = _iso_8601(values, timezone) if timestamp_format is None else None
    if fast is not None:
        return ParsedTimestamps(values=fast, bad_positions=[])
    if timestamp_format is None:
        extended = _extended_iso_8601(values)
        if extended is not values:  # tried again only when rewritten: a failed cast costs a whole pass
            values = extended
            fast = _iso_8601(values, timezone)
            if fast is not None:
                return ParsedTimestamps(values=fast, bad_positions=[])
    import duckdb  # the slower, more forgiving readers of other formats

    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{timezone.replace(chr(39), '')}'")
    con.register("raw", pa.table({"v": values}))
    if pa.types.is_timestamp(values.type):
        parsed = con.sql("SELECT v::TIMESTAMPTZ AS t FROM raw").to_arrow_table().column(0)
    elif pa.types.is_date(values.type):
        parsed = con.sql("SELECT v::TIMESTAMP::TIMESTAMPTZ AS t FROM raw").to_arrow_table().column(0)
    else:
        if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
            con.unregister("raw")
            con.register("raw", pa.table({"v": values.cast(pa.string())}))
        parsed = _parse_text(con, timestamp_format)
    parsed = parsed.cast(TIMESTAMP_TYPE).combine_chunks() if isinstance(parsed, pa.ChunkedArray) \
        else parsed.cast(TIMESTAMP_TYPE)
    return ParsedTimestamps(values=parsed, bad_positions=_bad(parsed, values, max_bad))


def _bad(parsed: pa.Array, values: pa.Array, max_bad: int) -> list[int]:
    """Positions of values given that could not be read, up to max_bad (all when 0)."""
    bad_mask = pc.and_(pc.is_null(parsed), pc.is_valid(values))
    if not pc.any(bad_mask).as_py():
        return []
    return pc.indices_nonzero(bad_mask).to_pylist() if max_bad <= 0 else \
        pc.indices_nonzero(bad_mask)[:max_bad].to_pylist()


def _unix_time_numbers(values: pa.Array) -> pa.Array | None:
    """The values as numbers when they are Unix time, else None.

    Typed numbers are, unless the first is a date written as digits (20240301, read by the
    strptime formats as before); text is when its first value is a number of that kind.
    """
    numeric = pa.types.is_integer(values.type) or pa.types.is_floating(values.type) or \
        pa.types.is_decimal(values.type)
    if not numeric and not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        return None
    first = values.drop_null()[:1].to_pylist()
    if not first:
        return None
    if numeric:
        is_date = isinstance(first[0], int) and looks_like_compact_date(str(first[0]))
        return None if is_date else values
    return numbers_from_text(values) if looks_like_epoch_text(first[0]) else None


def _extended_iso_8601(values: pa.Array) -> pa.Array:
    """ISO 8601's basic form and lowercase letters rewritten into the extended form Arrow reads.

    Only when the first value is of that kind; vectorised (one upper-casing, two regex passes).
    """
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        return values
    first = values.drop_null()[:1].to_pylist()
    if not first or not _OTHER_ISO_8601.match(first[0].strip()) or _ISO_8601.match(first[0].strip()):
        return values
    upper = pc.utf8_upper(pc.utf8_trim_whitespace(values))
    extended = pc.replace_substring_regex(upper, _BASIC_WITH_SECONDS, r"\1-\2-\3T\4:\5:\6")
    return pc.replace_substring_regex(extended, _BASIC_WITHOUT_SECONDS, r"\1-\2-\3T\4:\5")


def iso_8601_type(samples: list[str]) -> pa.DataType | None:
    """The timestamp type Arrow can parse values like these into while reading a file, or None.

    Values with an offset become UTC instants; values without one stay local time, for
    `parse_timestamps` to place in the user's zone. Only the first value decides, as in
    parse_timestamps: a file whose values disagree is read again as text.
    """
    if not samples or not _ISO_8601.match(samples[0]):
        return None
    return TIMESTAMP_TYPE if _OFFSET.search(samples[0]) else pa.timestamp("us")


def _typed(values: pa.Array, timezone: str) -> pa.Array:
    """Typed timestamps in UTC: instants converted, local times placed in `timezone`."""
    if values.type.unit == "ns":
        # Nanoseconds (pandas' and Spark's unit) keep their microseconds: the cast's own check
        # would refuse any value with nanoseconds to drop.
        values = values.cast(pa.timestamp("us", values.type.tz), safe=False)
    if values.type.tz is not None or timezone == "UTC":
        return values.cast(TIMESTAMP_TYPE)
    return pc.assume_timezone(values.cast(pa.timestamp("us")), timezone, ambiguous="earliest",
                              nonexistent="earliest").cast(TIMESTAMP_TYPE)


def _iso_8601(values: pa.Array, timezone: str) -> pa.Array | None:
    """Parse with Arrow's vectorised ISO 8601 reader when every value is ISO 8601, else None.

    Arrow reads values that all carry an offset, or all carry none; anything else (mixed,
    other formats, bad values) goes to the slower DuckDB path, which also finds bad rows.
    """
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        return None
    sample = values.drop_null()[:1].to_pylist()
    if not sample:
        return None
    # A failed cast costs as much as a whole pass, so try only the one the first value suggests.
    try:
        if _OFFSET.search(sample[0].strip()):
            return values.cast(TIMESTAMP_TYPE)
        naive = values.cast(pa.timestamp("us"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if timezone == "UTC":
        return naive.cast(TIMESTAMP_TYPE)
    return pc.assume_timezone(naive, timezone, ambiguous="earliest", nonexistent="earliest").cast(TIMESTAMP_TYPE)


def _parse_text(con: duckdb.DuckDBPyConnection, timestamp_format: str | None) -> pa.ChunkedArray:
    if timestamp_format:
        return _strptime(con, timestamp_format)
    parsed = con.sql("SELECT TRY_CAST(trim(v) AS TIMESTAMPTZ) AS t FROM raw").to_arrow_table().column(0)
    failures = con.execute("SELECT count(*) FROM raw WHERE v IS NOT NULL AND trim(v) <> '' "
                       "AND TRY_CAST(trim(v) AS TIMESTAMPTZ) IS NULL").fetchall()[0][0]
    if not failures:
        return parsed
    sample = [row[0] for row in con.execute("SELECT v FROM raw WHERE v IS NOT NULL AND "
                                        "TRY_CAST(trim(v) AS TIMESTAMPTZ) IS NULL LIMIT 50").fetchall()]
    for fmt in COMMON_FORMATS:
        if all(_reads(con, value, fmt) for value in sample):
            attempt = _strptime(con, fmt)
            if attempt.null_count <= parsed.null_count:
                return attempt
    return parsed


def _reads(con: duckdb.DuckDBPyConnection, value: str, fmt: str) -> bool:
    return con.execute("SELECT try_strptime(trim(?), ?) IS NOT NULL", [value, fmt]).fetchall()[0][0]


def _strptime(con: duckdb.DuckDBPyConnection, fmt: str) -> pa.ChunkedArray:
    import duckdb

    try:
        con.execute("SELECT try_strptime('2000-01-01', ?)", [fmt]).fetchall()
    except duckdb.Error as exc:
        raise BadOption("--timestamp-format", fmt, "a strptime format such as '%d-%m-%Y %H:%M'") from exc
    # try_strptime gives TIMESTAMPTZ when the format has %z and a naive TIMESTAMP otherwise;
    # the naive one is then read in the session zone by the cast.
    literal = "'" + fmt.replace("'", "''") + "'"
    return con.sql(f"SELECT try_strptime(trim(v), {literal})::TIMESTAMPTZ AS t FROM raw").to_arrow_table().column(0)
