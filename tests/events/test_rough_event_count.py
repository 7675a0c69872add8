"""The guess of a log's size made before reading it, which only chooses how memory is handed back."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from backoffice.events.reader import rough_event_count


def test_a_parquet_log_is_counted_from_its_footer(tmp_path):
    path = tmp_path / "log.parquet"
    pq.write_table(pa.table({"case_id": ["a"] * 1234, "activity": ["x"] * 1234}), path, row_group_size=100)
    assert rough_event_count(path) == 1234


def test_a_csv_log_is_guessed_from_its_size_over_its_first_lines(tmp_path):
    path = tmp_path / "log.csv"
    rows = [f"C{i % 97},Approve invoice,2024-01-{1 + i % 28:02d}T10:00:00" for i in range(50_000)]
    path.write_text("case_id,activity,timestamp\n" + "\n".join(rows) + "\n")
    guess = rough_event_count(path)
    assert guess is not None and 0.8 * 50_000 < guess < 1.2 * 50_000


def test_no_guess_where_it_would_cost_a_read_or_the_file_is_not_there(tmp_path):
    xes = tmp_path / "log.xes"
    xes.write_text("<log/>")
    assert rough_event_count(xes) is None
    assert rough_event_count(tmp_path / "missing.csv") is None
    assert rough_event_count(tmp_path / "log.unknown") is None
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet")
    assert rough_event_count(broken) is None
