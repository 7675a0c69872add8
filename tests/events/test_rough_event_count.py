"""The guess of a log's size made before reading it, which only chooses how memory is handed back."""

from __future__ import annotations

import gzip

import pyarrow as pa
import pytest
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


@pytest.mark.parametrize("gzipped", [False, True])
def test_a_gzipped_csv_or_an_xes_log_is_guessed_from_its_first_stored_bytes(tmp_path, gzipped):
    rows = "".join(f"C{i % 97},Approve invoice {i % 13},2024-01-{1 + i % 28:02d}T10:00:00\n" for i in range(200_000))
    events = "".join(f'<event><string key="concept:name" value="Step {i % 11}"/>'
                     f'<date key="time:timestamp" value="2024-01-01T10:00:{i % 60:02d}"/></event>\n'
                     for i in range(200_000))
    for name, text in (("log.csv", "case_id,activity,timestamp\n" + rows),
                       ("log.xes", '<log xes.version="1.0"><trace>\n' + events + "</trace></log>\n")):
        path = tmp_path / (name + (".gz" if gzipped else ""))
        path.write_bytes(gzip.compress(text.encode()) if gzipped else text.encode())
        guess = rough_event_count(path)
        assert guess is not None and 0.8 * 200_000 < guess < 1.2 * 200_000, (name, guess)


def test_the_guess_of_a_real_xes_log_is_near_its_count(shared_logs):
    # bpic2012 opens with 7 MB of statistics before its first event: they are no events.
    assert 0.8 * 262_200 < rough_event_count(shared_logs / "bpic2012.xes.gz") < 1.2 * 262_200


def test_no_guess_where_it_would_cost_a_read_or_the_file_is_not_there(tmp_path):
    xes = tmp_path / "log.xes"
    xes.write_text("<log/>")
    assert rough_event_count(xes) == 0  # read whole: no event
    ocel = tmp_path / "log.jsonocel"
    ocel.write_text('{"objects": [], "events": []}')
    assert rough_event_count(ocel) is None
    assert rough_event_count(tmp_path / "missing.csv") is None
    assert rough_event_count(tmp_path / "log.unknown") is None
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet")
    assert rough_event_count(broken) is None
    truncated = tmp_path / "truncated.xes.gz"
    truncated.write_bytes(gzip.compress(b"<log><trace><event></event>" * 1000)[:40])
    assert rough_event_count(truncated) is None
    garbage = tmp_path / "garbage.csv.gz"
    garbage.write_bytes(b"\x1f\x8b" + bytes(range(256)) * 4)
    assert rough_event_count(garbage) is None  # read_log names the damage
