"""Jobs run two at a time answer in the order asked, and a failure is raised as running them in turn would."""

from __future__ import annotations

import os
import threading

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from backoffice.errors import LogFileError
from backoffice.events.reader import read_log
from backoffice.side_by_side import side_by_side


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: the jobs run one after the other")
def test_answers_come_in_the_jobs_order_even_when_a_later_job_ends_first():
    second_ended = threading.Event()
    threads = []

    def first():
        # Ends only after the second job has: the two run at once, on two threads.
        assert second_ended.wait(timeout=30)
        threads.append(threading.current_thread())
        return "first"

    def second():
        threads.append(threading.current_thread())
        second_ended.set()
        return "second"

    assert side_by_side([first, second, lambda: "third"]) == ["first", "second", "third"]
    assert len(set(threads)) == 2


def test_the_first_failure_in_list_order_is_raised_after_every_job_has_run():
    ran = []

    def fails(message):
        def job():
            ran.append(message)
            raise ValueError(message)
        return job

    def succeeds():
        ran.append("ok")
        return 1

    with pytest.raises(ValueError, match="^early$"):
        side_by_side([succeeds, fails("early"), succeeds, fails("late"), succeeds])
    assert sorted(ran) == ["early", "late", "ok", "ok", "ok"]
    assert not any(thread.name == "side-by-side" for thread in threading.enumerate())  # joined, none left


def test_one_job_runs_on_the_caller_s_thread():
    assert side_by_side([threading.current_thread]) == [threading.current_thread()]


def test_a_parquet_column_that_cannot_be_decoded_is_named_as_an_unreadable_file(tmp_path):
    # Columns are read two at a time: the error of the one on the second thread reaches the caller.
    rows = 3_000
    table = pa.table({"case_id": [f"c{row % 700}" for row in range(rows)],
                      "activity": [f"step {row % 7}" for row in range(rows)],
                      "timestamp": pa.array(range(rows), pa.int64()).cast(pa.timestamp("us", tz="UTC"))})
    path = tmp_path / "broken.parquet"
    pq.write_table(table, path, row_group_size=400)
    chunk = pq.ParquetFile(path).metadata.row_group(3).column(2)  # the timestamps, read last
    data = bytearray(path.read_bytes())
    data[chunk.data_page_offset:chunk.data_page_offset + 40] = b"\xff" * 40
    path.write_bytes(bytes(data))
    with pytest.raises(LogFileError, match="broken.parquet: not a readable Parquet file"):
        read_log(path)
