"""Timestamp forms real exports write: Unix time in any unit, ISO 8601's basic form, typed Parquet columns."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime, timezone
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from backoffice import read_log
from backoffice.errors import LogFileError

# 2023-11-14T22:13:20Z and six minutes later, in each unit of Unix time.
FIRST, LATER = datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc), datetime(2023, 11, 14, 22, 19, 20,
                                                                                  tzinfo=timezone.utc)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def epoch_csv(first: str, later: str) -> str:
    return f"case,activity,timestamp\nc1,Submit,{first}\nc1,Approve,{later}\n"


@pytest.mark.parametrize(("first", "later", "unit"), [
    ("1700000000", "1700000360", "seconds"),
    ("1700000000123", "1700000360000", "milliseconds"),
    ("1700000000123456", "1700000360000000", "microseconds"),
    ("1700000000123456789", "1700000360000000000", "nanoseconds"),
])
def test_unix_time_in_a_csv_is_read_in_the_unit_its_magnitude_tells(write_csv, first, later, unit):
    log = read_log(write_csv(epoch_csv(first, later)))
    stamps = log.table.column("timestamp").to_pylist()
    assert stamps[0].replace(microsecond=0) == FIRST and stamps[1] == LATER
    fraction = {"seconds": 0, "milliseconds": 123_000, "microseconds": 123_456, "nanoseconds": 123_456}[unit]
    assert stamps[0].microsecond == fraction
    assert log.notes == (f"timestamps in column 'timestamp' read as Unix time in {unit} (2023-11-14 to 2023-11-14)",)


def test_unix_time_with_fractions_of_a_second_is_read_to_the_microsecond(write_csv):
    log = read_log(write_csv(epoch_csv("1700000000.123", "1700000360.5")))
    assert log.table.column("timestamp").to_pylist() == [FIRST.replace(microsecond=123_000),
                                                         LATER.replace(microsecond=500_000)]
    assert "seconds" in log.notes[0]


def test_a_log_of_text_dates_gets_no_unix_time_note(write_csv):
    log = read_log(write_csv(epoch_csv("2023-11-14T22:13:20Z", "2023-11-14T22:19:20Z")))
    assert log.notes == ()


def test_a_column_mixing_seconds_and_milliseconds_is_refused_naming_line_row_value(write_csv):
    path = write_csv(epoch_csv("1700000000123", "1700000360000") + "c2,Submit,1700000500\n")
    with pytest.raises(LogFileError) as refused:
        read_log(path)
    message = str(refused.value)
    assert refused.value.line == 4
    assert "row 3" in message and "1700000500" in message and "'timestamp'" in message
    assert "seconds" in message and "milliseconds" in message
    assert "expected one unit of Unix time for the whole column" in message


@pytest.mark.parametrize(("value", "why"), [("-86400", "before 1970"), ("5000000000000000000", "after 2100"),
                                            ("99999999999999999999999", "after 2100")])
def test_unix_time_out_of_every_plausible_range_is_refused(write_csv, value, why):
    path = write_csv(epoch_csv("1700000000", value))
    with pytest.raises(LogFileError) as refused:
        read_log(path)
    assert refused.value.line == 3
    assert f"row 2: the value {value[:5]}" in str(refused.value) and why in str(refused.value)
    assert "expected Unix time since 1970-01-01" in str(refused.value)


def test_a_word_among_unix_times_is_a_bad_row_named_as_any_unreadable_timestamp(write_csv):
    path = write_csv(epoch_csv("1700000000", "soon"))
    with pytest.raises(LogFileError, match="row 2: cannot read 'soon'"):
        read_log(path)
    log = read_log(path, on_bad_rows="skip")
    assert log.table.column("timestamp").to_pylist() == [FIRST] and log.skipped_rows == 1


@pytest.mark.parametrize(("first", "later", "read"), [
    ("20240301093000", "20240302100000", [utc(2024, 3, 1, 9, 30), utc(2024, 3, 2, 10)]),
    ("20240301", "20240302", [utc(2024, 3, 1), utc(2024, 3, 2)]),
])
def test_dates_written_as_digits_are_still_dates_not_unix_time(write_csv, first, later, read):
    log = read_log(write_csv(epoch_csv(first, later)))
    assert log.table.column("timestamp").to_pylist() == read
    assert log.notes == ()


@pytest.mark.parametrize(("first", "later"), [
    ("20240301T100000Z", "20240301T130000.5Z"),
    ("20240301T110000+0100", "20240301T140000.5+01:00"),
    ("20240301T1000Z", "20240301T130000.5Z"),
    ("2024-03-01t10:00:00z", "2024-03-01t13:00:00.5z"),
    ("20240301t1000z", "2024-03-01T13:00:00.500Z"),
])
def test_iso_8601_basic_form_and_lowercase_letters_are_read(write_csv, first, later):
    log = read_log(write_csv(epoch_csv(first, later)))
    assert log.table.column("timestamp").to_pylist() == [utc(2024, 3, 1, 10), utc(2024, 3, 1, 13, 0, 0, 500_000)]


def test_iso_8601_basic_form_without_offset_is_placed_in_the_zone(write_csv):
    log = read_log(write_csv(epoch_csv("20240301T100000", "20240301T1100")), timezone="Europe/Amsterdam")
    assert log.table.column("timestamp").to_pylist() == [utc(2024, 3, 1, 9), utc(2024, 3, 1, 10)]


def test_a_bad_value_among_basic_form_timestamps_is_named_as_written(write_csv):
    with pytest.raises(LogFileError, match=r"row 2: cannot read '20241301T100000Z'"):
        read_log(write_csv(epoch_csv("20240301T100000Z", "20241301T100000Z")))


def write_parquet(tmp_path, stamps: pa.Array):
    path = tmp_path / "log.parquet"
    pq.write_table(pa.table({"case": ["c1", "c1"], "activity": ["Submit", "Approve"], "timestamp": stamps}), path)
    return path


@pytest.mark.parametrize(("stamps", "unit"), [
    (pa.array([1700000000, 1700000360], pa.int64()), "seconds"),
    (pa.array([1700000000, 1700000360], pa.int32()).cast(pa.uint32()), "seconds"),
    (pa.array([1700000000000, 1700000360000], pa.int64()), "milliseconds"),
    (pa.array([1700000000.0, 1700000360.0], pa.float64()), "seconds"),
    (pa.array([Decimal("1700000000"), Decimal("1700000360")], pa.decimal128(19, 0)), "seconds"),
])
def test_unix_time_in_a_parquet_number_column_named_as_timestamps_is_read(tmp_path, stamps, unit):
    log = read_log(write_parquet(tmp_path, stamps))
    assert log.table.column("timestamp").to_pylist() == [FIRST, LATER]
    assert f"Unix time in {unit}" in log.notes[0]


def test_mixed_units_in_a_parquet_column_are_refused_naming_the_row(tmp_path):
    with pytest.raises(LogFileError, match=r"row 1: the value 1700000000 in column 'timestamp' is Unix time in "
                                           r"seconds by its size"):
        read_log(write_parquet(tmp_path, pa.array([1700000000, 1700000360000])))


@pytest.mark.parametrize("stamps", [
    pa.array([1700000000, 1700000360], pa.timestamp("s", "Europe/Amsterdam")),
    pa.array([1700000000000, 1700000360000], pa.timestamp("ms", "UTC")),
    pa.array([1700000000000000000, 1700000360000000000], pa.timestamp("ns", "America/New_York")),
    pa.array([1700000000000000999, 1700000360000000000], pa.timestamp("ns")),
])
def test_typed_parquet_timestamps_of_any_unit_and_zone_are_read(tmp_path, stamps):
    log = read_log(write_parquet(tmp_path, stamps))
    assert log.table.column("timestamp").to_pylist() == [FIRST, LATER]
    assert log.notes == ()


@pytest.mark.parametrize("stamps", [pa.array([date(2024, 3, 1), date(2024, 3, 2)], pa.date32()),
                                    pa.array([date(2024, 3, 1), date(2024, 3, 2)], pa.date32()).cast(pa.date64()),
                                    pa.array([20240301, 20240302], pa.int64())])
def test_parquet_dates_are_midnights_in_the_zone(tmp_path, stamps):
    log = read_log(write_parquet(tmp_path, stamps), timezone="Europe/Amsterdam")
    assert log.table.column("timestamp").to_pylist() == [utc(2024, 2, 29, 23), utc(2024, 3, 1, 23)]


def run_map(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "backoffice.cli.app", "map", *args, "--quiet"],
                          capture_output=True, text=True, timeout=300)


def test_the_map_states_the_unit_it_read(write_csv, tmp_path):
    out = tmp_path / "map.json"
    result = run_map(str(write_csv(epoch_csv("1700000000123", "1700000360000"))), "--json", str(out))
    assert result.returncode == 0, result.stderr
    assert "timestamps in column 'timestamp' read as Unix time in milliseconds (2023-11-14 to 2023-11-14)" \
        in json.loads(out.read_text())["notes"]


@pytest.mark.parametrize(("first", "later", "named"), [
    ("1700000000", "1700000360000", "line 2: row 1: the value 1700000000"),
    ("1700000000", "-1", "line 3: row 2: the value -1"),
    ("1700000000", "9" * 20, f"line 3: row 2: the value {'9' * 20}"),
])
def test_the_map_refuses_unreadable_unix_time_with_status_2_and_writes_nothing(write_csv, tmp_path, first, later,
                                                                                named):
    out = tmp_path / "map.json"
    result = run_map(str(write_csv(epoch_csv(first, later))), "--json", str(out))
    assert result.returncode == 2
    assert named in result.stderr and "'timestamp'" in result.stderr and "expected" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_a_fraction_or_word_after_the_first_lines_of_whole_unix_times_is_still_read_or_named(write_csv):
    # The first lines decide that the reader parses integers while reading; a later value that
    # is no integer makes it read the column again as text.
    rows = "".join(f"c{n},Submit,{1700000000 + n}\n" for n in range(30))
    log = read_log(write_csv("case,activity,timestamp\n" + rows + "c99,Submit,1700000100.25\n"))
    assert log.table.column("timestamp").to_pylist()[-1] == utc(2023, 11, 14, 22, 15, 0, 250_000)
    with pytest.raises(LogFileError) as refused:
        read_log(write_csv("case,activity,timestamp\n" + rows + "c99,Submit,later\n"))
    assert refused.value.line == 32 and "row 31: cannot read 'later'" in str(refused.value)


def test_xes_dates_in_basic_form_or_lowercase_are_read(tmp_path):
    path = tmp_path / "log.xes"
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<log xes.version="1.0">\n<trace>'
                    '<string key="concept:name" value="c1"/>'
                    '<event><string key="concept:name" value="Submit"/>'
                    '<date key="time:timestamp" value="20240301T110000+0100"/></event>'
                    '<event><string key="concept:name" value="Approve"/>'
                    '<date key="time:timestamp" value="2024-03-01t13:00:00z"/></event>'
                    '</trace>\n</log>\n', encoding="utf-8")
    assert read_log(path).table.column("timestamp").to_pylist() == [utc(2024, 3, 1, 10), utc(2024, 3, 1, 13)]


def test_unix_time_ignores_the_zone_of_naive_timestamps_and_reads_a_start_column_too(write_csv):
    log = read_log(write_csv("case,activity,start time,timestamp\nc1,Submit,1700000000000,1700000360000\n"),
                   timezone="Europe/Amsterdam")
    row = log.table.to_pylist()[0]
    assert (row["start_timestamp"], row["timestamp"]) == (FIRST, LATER)
    assert log.notes == ("timestamps in column 'timestamp' read as Unix time in milliseconds "
                         "(2023-11-14 to 2023-11-14)",
                         "timestamps in column 'start time' read as Unix time in milliseconds "
                         "(2023-11-14 to 2023-11-14)")


def test_nanoseconds_stored_as_floats_in_parquet_are_read(tmp_path):
    log = read_log(write_parquet(tmp_path, pa.array([1.7e18, 1.70000036e18])))
    assert log.table.column("timestamp").to_pylist() == [FIRST, LATER]
    assert "Unix time in nanoseconds" in log.notes[0]
