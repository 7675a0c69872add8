"""The event log's order: cases grouped in order of first appearance, time sorted stably within each."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pyarrow as pa
import pytest

from backoffice.events.schema import EventLog

START = datetime(2024, 1, 1, tzinfo=timezone.utc)


def expected_order(rows):
    first_seen: dict[str, int] = {}
    for case, _, _ in rows:
        first_seen.setdefault(case, len(first_seen))
    # Python's sort is stable: ties in time keep file order.
    return [label for _, _, label in sorted(rows, key=lambda row: (first_seen[row[0]], row[1]))]


def log_of(rows) -> EventLog:
    return EventLog.from_table(pa.table({
        "case_id": [case for case, _, _ in rows], "activity": [label for _, _, label in rows],
        "timestamp": pa.array([START + timedelta(minutes=minute) for _, minute, _ in rows],
                              pa.timestamp("us", tz="UTC"))}))


def test_interleaved_cases_in_time_order_are_grouped_keeping_file_order_of_ties():
    rows = [("b", 1, "b1"), ("a", 1, "a1"), ("b", 1, "b2"), ("a", 2, "a2"), ("b", 3, "b3")]
    assert log_of(rows).table.column("activity").to_pylist() == ["b1", "b2", "b3", "a1", "a2"]


def test_events_out_of_time_order_within_a_case_are_sorted():
    rows = [("a", 5, "late"), ("b", 0, "b"), ("a", 1, "early"), ("a", 5, "late-tie")]
    assert log_of(rows).table.column("activity").to_pylist() == ["early", "late", "late-tie", "b"]


@pytest.mark.parametrize("exported_in_time_order", [True, False])
def test_more_cases_than_sixteen_bits_sort_like_a_stable_sort(exported_in_time_order):
    # 70,000 cases need both passes of the radix sort on the case number. An export in
    # time order needs one sort by case; a shuffled one a sort by time first.
    generator = random.Random(7)
    rows = [(f"c{case}", generator.randrange(4), f"{case}-{step}") for case in range(70_000) for step in range(2)]
    generator.shuffle(rows)
    if exported_in_time_order:
        rows.sort(key=lambda row: row[1])
    assert log_of(rows).table.column("activity").to_pylist() == expected_order(rows)


def test_a_log_already_in_order_keeps_its_rows():
    rows = [("a", 0, "a1"), ("a", 1, "a2"), ("b", 0, "b1")]
    assert log_of(rows).table.column("event_index").to_pylist() == [0, 1, 2]


@pytest.mark.parametrize("exported_in_time_order", [True, False])
def test_columns_sorted_one_by_one_equal_the_table_sorted_at_once(exported_in_time_order):
    # from_columns rebuilds case ids, times and file positions from what the sort moved,
    # and gathers columns without missing values with numpy: the result must be what
    # moving every row of the table gives, missing values and dictionaries included.
    generator = random.Random(11)
    rows = [(f"c{case}", generator.randrange(50), f"{case}-{step}") for case in range(70_000) for step in range(2)]
    generator.shuffle(rows)
    if exported_in_time_order:
        rows.sort(key=lambda row: row[1])
    table = pa.table({
        "case_id": pa.array([case for case, _, _ in rows]).dictionary_encode(),
        "activity": pa.array([label for _, _, label in rows]).dictionary_encode(),
        "timestamp": pa.array([START + timedelta(minutes=minute) for _, minute, _ in rows],
                              pa.timestamp("us", tz="UTC")),
        "resource": pa.array([None if minute % 3 else f"r{minute}" for _, minute, _ in rows]).dictionary_encode(),
        "amount": pa.array([float(minute) for _, minute, _ in rows]),
        "tag": pa.array([minute if minute % 2 else None for _, minute, _ in rows], pa.int64())})
    by_columns = EventLog.from_columns(dict(zip(table.column_names, table.columns))).table
    at_once = EventLog.from_table(table).table
    assert by_columns.schema == at_once.schema
    for name in at_once.column_names:
        assert by_columns.column(name).to_pylist() == at_once.column(name).to_pylist(), name
    assert by_columns.column("activity").to_pylist() == expected_order(rows)


@pytest.mark.parametrize("skipped", [False, True])
def test_a_read_log_numbers_its_events_by_their_place_in_the_file(write_csv, skipped):
    # The reader leaves the positions to the sort when no row is skipped (the sort's row
    # order is then the positions), and numbers the rows itself before skipping any.
    from backoffice import read_log

    lines = ["case_id,activity,timestamp", "b,x,2024-01-01T09:00:00Z", "a,x,2024-01-01T08:00:00Z",
             "b,y,2024-01-01T08:30:00Z", "a,y,2024-01-01T10:00:00Z"]
    if skipped:
        lines.insert(2, "c,,2024-01-01T07:00:00Z")
    log = read_log(write_csv("\n".join(lines) + "\n"), on_bad_rows="skip" if skipped else "fail")
    table = log.table
    assert table.column_names[:table.column_names.index("event_index") + 1] == [
        "case_id", "activity", "timestamp", "resource", "role", "system", "lifecycle", "reason", "group",
        "event_index"]
    after = 1 if skipped else 0  # the skipped row keeps its place: the rows after it are one further on
    b_late, a_early, b_early, a_late = 0, 1 + after, 2 + after, 3 + after
    assert table.column("event_index").to_pylist() == [b_early, b_late, a_early, a_late]
    assert table.column("case_id").to_pylist() == ["b", "b", "a", "a"]
