"""Read Unix time (seconds, milliseconds, microseconds or nanoseconds since 1970) as UTC instants.

Exports write Unix time without saying its unit: databases and shell tools in seconds,
Java, JavaScript, Kafka and MongoDB in milliseconds, others in micro- or nanoseconds. The
unit is told by magnitude over the whole column: the smallest unit in which the column's
largest value falls before 2100. A value that, in that unit, would fall in the first weeks
of 1970 is a value of a smaller unit: the column mixes units, and is refused rather than
read half wrong. So is a value before 1970 or after 2100 in every unit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from backoffice.events.schema import TIMESTAMP_TYPE

# 2100-01-01T00:00:00Z in seconds: the end of the plausible range in every unit.
_END_SECONDS = 4_102_444_800
# (name, ticks a second), smallest unit first.
UNITS = (("seconds", 1), ("milliseconds", 1_000), ("microseconds", 1_000_000), ("nanoseconds", 1_000_000_000))
# Text that reads as Unix time: digits, optionally a sign and a fraction.
_INTEGER_TEXT = r"^\s*[+-]?\d+\s*$"
_NUMBER_TEXT = r"^\s*[+-]?\d+(\.\d*)?\s*$"
_NUMBER = re.compile(_NUMBER_TEXT)
# Compact dates written as digits (20240301, 202403011000, 20240301100000): the strptime
# formats read those, not Unix time.
_COMPACT_DATE = re.compile(r"^\s*(19|20)\d\d(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(\d{4}|\d{6})?\s*$")


class UnreadableEpoch(ValueError):
    """A column of Unix times that cannot be read in one unit; the caller names file and line."""

    def __init__(self, position: int, value: object, problem: str, expected: str) -> None:
        super().__init__(problem)
        self.position = position
        self.value = value
        self.problem = problem
        self.expected = expected


@dataclass(frozen=True)
class EpochReading:
    """UTC instants read from Unix time, and the unit they were read in."""

    values: pa.Array
    unit: str


def looks_like_compact_date(text: str) -> bool:
    """Tell whether digits are a date (20240301, 20240301100000) rather than a number of Unix time."""
    return bool(_COMPACT_DATE.match(text))


def looks_like_epoch_text(text: str) -> bool:
    """Tell whether a text value is a number of Unix time rather than a date written as digits."""
    return bool(_NUMBER.match(text)) and not looks_like_compact_date(text)


def unix_time_type(samples: list[str]) -> pa.DataType | None:
    """The number type a CSV reader can parse values like these into while reading, or None.

    Integers when every sample is one, floats when some have a fraction; a file whose later
    values disagree is read again as text, as for ISO 8601 (see csv_reader.read_csv).
    """
    if not samples or not all(looks_like_epoch_text(sample) for sample in samples):
        return None
    return pa.float64() if any("." in sample for sample in samples) else pa.int64()


def numbers_from_text(values: pa.Array) -> pa.Array:
    """Text numbers as int64 (or float64 when any has a fraction); other text becomes missing.

    Vectorised: a regex mask, then Arrow's cast, so a million rows cost no Python loop.
    """
    trimmed = pc.utf8_trim_whitespace(values)
    if pc.all(pc.or_kleene(pc.match_substring_regex(trimmed, _INTEGER_TEXT), pc.is_null(trimmed))).as_py():
        kept, target = trimmed, pa.int64()
    else:
        number = pc.match_substring_regex(trimmed, _NUMBER_TEXT)
        kept = pc.if_else(number, trimmed, pa.scalar(None, trimmed.type))
        target = pa.int64() if pc.all(pc.or_kleene(pc.match_substring_regex(kept, _INTEGER_TEXT),
                                                   pc.is_null(kept))).as_py() else pa.float64()
    try:
        return kept.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        # Integers too large for int64: far after 2100 in every unit, refused by read_epoch.
        return kept.cast(pa.float64())


def read_epoch(numbers: pa.Array) -> EpochReading:
    """Read integers or floats of Unix time as UTC instants (microseconds).

    NaN is a missing value (a bad row, as any unreadable timestamp).

    Raises:
        UnreadableEpoch: a value before 1970 or after 2100 in every unit, or a column whose
            magnitudes mix units.
    """
    if pa.types.is_decimal(numbers.type):
        numbers = numbers.cast(pa.int64() if numbers.type.scale == 0 else pa.float64())
    floating = pa.types.is_floating(numbers.type)
    if floating:
        numbers = pc.if_else(pc.is_nan(numbers), pa.scalar(None, numbers.type), numbers).cast(pa.float64())
    else:
        numbers = numbers.cast(pa.int64())
    extremes = pc.min_max(numbers)
    low, high = extremes["min"].as_py(), extremes["max"].as_py()
    if low is None:  # every value missing: nothing to tell the unit by
        return EpochReading(values=pa.nulls(len(numbers), TIMESTAMP_TYPE), unit="seconds")
    if low < 0:
        raise _at(numbers, pc.less(numbers, 0), "is before 1970 in every unit of Unix time",
                  "Unix time since 1970-01-01 in seconds, milliseconds, microseconds or nanoseconds")
    if floating and high == float("inf"):
        raise _at(numbers, pc.equal(numbers, high), "is no number of Unix time",
                  "Unix time since 1970-01-01 in seconds, milliseconds, microseconds or nanoseconds")
    for index, (unit, per_second) in enumerate(UNITS):
        if high < _END_SECONDS * per_second:
            break
    else:
        raise _at(numbers, pc.equal(numbers, high), "is after 2100 in every unit of Unix time",
                  "Unix time since 1970-01-01 in seconds, milliseconds, microseconds or nanoseconds")
    if index:
        smaller, smaller_per_second = UNITS[index - 1]
        if low < _END_SECONDS * smaller_per_second:
            raise _at(numbers, pc.less(numbers, _END_SECONDS * smaller_per_second),
                      f"is Unix time in {smaller} by its size, where the column's largest value "
                      f"({_shown(high)}) is in {unit}",
                      "one unit of Unix time for the whole column")
    return EpochReading(values=_instants(numbers, per_second), unit=unit)


def _instants(numbers: pa.Array, per_second: int) -> pa.Array:
    """Ticks of `per_second` a second as microsecond UTC instants."""
    if pa.types.is_floating(numbers.type):
        micros = pc.round(pc.multiply(numbers, 1_000_000 / per_second)).cast(pa.int64())
    elif per_second <= 1_000_000:
        micros = pc.multiply(numbers, 1_000_000 // per_second)
    else:
        # Nanoseconds: the part below a microsecond is dropped (values are not negative here,
        # so integer division truncates toward the past, as a cast to microseconds would).
        micros = pc.divide(numbers, per_second // 1_000_000)
    return micros.cast(pa.timestamp("us")).cast(TIMESTAMP_TYPE)


def _at(numbers: pa.Array, mask: pa.Array, problem: str, expected: str) -> UnreadableEpoch:
    position = pc.indices_nonzero(pc.fill_null(mask, False))[0].as_py()
    value = numbers[position].as_py()
    return UnreadableEpoch(position, _shown(value), problem, expected)


def _shown(value: float | int) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
