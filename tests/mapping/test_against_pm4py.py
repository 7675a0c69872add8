"""The map of the real logs counts what pm4py counts, and every real log maps without error.

With activity instances (the default reading), a log with the standard XES lifecycle maps one
step per instance: its counts equal pm4py's on the same log filtered to its complete events.

Where we differ from pm4py on purpose (seen on public logs, not in these tests):
- an event without a lifecycle value, in a log whose other events have one, is a complete
  event here (an event with no more said is a finished step); pm4py's filter drops it;
- a log with a start-timestamp column orders steps by completion, as the lifecycle reading
  does; pm4py's directly-follows orders them by start when the column is `start_timestamp`;
- pm4py.get_variants reads a frame's rows in the order given (an unsorted OCEL flattening
  splits a case in two); we always order by case and time: sort the frame first to compare.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from backoffice import read_log
from backoffice.mapping import analyze

SMALL_LOGS = ["running-example.xes", "08_receipt.xes.gz", "helpdesk.xes.gz", "DomesticDeclarations.xes.gz"]
ALL_LOGS = SMALL_LOGS + ["bpic2012.xes.gz"]


# Synthetic logs holding the traps of real exports (see tests/data/README.md).
TRAPS = Path(__file__).resolve().parents[1] / "data"


def pm4py_counts(path, *, complete_only: bool) -> dict[str, int]:
    pm4py = pytest.importorskip("pm4py", reason="pm4py is a test-only dependency: pip install -e '.[test]'")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = pm4py.read_xes(str(path), show_progress_bar=False) if "show_progress_bar" in \
            pm4py.read_xes.__code__.co_varnames else pm4py.read_xes(str(path))
    return frame_counts(pm4py, frame, complete_only=complete_only)


def frame_counts(pm4py, frame, *, complete_only: bool) -> dict[str, int]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if complete_only and "lifecycle:transition" in frame.columns:
            frame = frame[frame["lifecycle:transition"].str.lower() == "complete"]
        dfg, _, _ = pm4py.discover_dfg(frame)
        variants = pm4py.get_variants(frame)
    return {"cases": frame["case:concept:name"].nunique(), "steps": len(frame),
            "activities": frame["concept:name"].nunique(), "paths": len(dfg),
            "path_count": sum(dfg.values()), "variants": len(variants)}


def our_counts(process_map) -> dict[str, int]:
    return {"cases": process_map.summary.cases, "steps": process_map.summary.steps,
            "activities": process_map.summary.activities, "paths": len(process_map.edges),
            "path_count": sum(edge.count for edge in process_map.edges), "variants": process_map.summary.variants}


@pytest.mark.parametrize("name", ALL_LOGS)
def test_instance_counts_equal_pm4py_on_the_complete_events(shared_logs, name):
    expected = pm4py_counts(shared_logs / name, complete_only=True)
    process_map = analyze(read_log(shared_logs / name), max_activities=10_000, max_paths=100_000)
    assert our_counts(process_map) == expected


@pytest.mark.parametrize("name", SMALL_LOGS)
def test_event_counts_equal_pm4py_on_every_event(shared_logs, name):
    expected = pm4py_counts(shared_logs / name, complete_only=False)
    process_map = analyze(read_log(shared_logs / name), max_activities=10_000, max_paths=100_000,
                          lifecycle="events")
    assert our_counts(process_map) == expected
    assert process_map.summary.events == expected["steps"]


def test_bpic2012_reads_instances_and_says_so(shared_logs):
    log = read_log(shared_logs / "bpic2012.xes.gz", attributes=False)
    instances = analyze(log)
    events = analyze(log, lifecycle="events")
    assert instances.reading.mode == "instances" and instances.reading.lifecycle == "standard XES lifecycle"
    assert instances.reading.timestamps == "start and complete"
    assert instances.summary.events == events.summary.events == 262_200
    assert instances.summary.steps < events.summary.steps == 262_200
    # The work items' schedule, start and complete no longer read as the activity following itself.
    loops = {(edge.source, edge.target): edge.count for edge in instances.edges if edge.source == edge.target}
    event_loops = {(edge.source, edge.target): edge.count for edge in events.edges if edge.source == edge.target}
    assert sum(loops.values()) < sum(event_loops.values()) / 2
    worked = {activity.name: activity for activity in instances.activities}
    assert worked["W_Completeren aanvraag"].processing is not None
    assert worked["A_SUBMITTED"].processing is None  # completes only: nothing to measure
    assert instances.flow is not None and 0 < instances.flow.efficiency.overall < 1
    assert events.flow is None


@pytest.mark.parametrize("name", ALL_LOGS)
def test_every_real_log_maps_with_lanes_and_waits(shared_logs, name):
    process_map = analyze(read_log(shared_logs / name))
    assert process_map.summary.cases > 0 and process_map.edges
    assert process_map.cycle_time.stats.max > 0


@pytest.mark.parametrize("lifecycle", ["instances", "events"])
def test_an_xes_export_with_its_traps_counts_what_pm4py_counts(lifecycle):
    # Lifecycle words in three cases, starts paired with completes, offsets from -05:00 to
    # +02:00 with milliseconds, case ids with leading zeros, nested attributes and lists,
    # global defaults, a default namespace.
    path = TRAPS / "xes-traps.xes"
    expected = pm4py_counts(path, complete_only=lifecycle == "instances")
    process_map = analyze(read_log(path), max_activities=10_000, max_paths=100_000, lifecycle=lifecycle)
    assert our_counts(process_map) == expected
    assert process_map.summary.cases == 40


@pytest.mark.parametrize("lifecycle", ["instances", "events"])
def test_a_spreadsheet_csv_export_with_its_traps_counts_what_pm4py_counts(lifecycle):
    # A byte order mark, semicolons and CRLF, day-first dates, quoted activities holding a
    # line break or a semicolon, case ids "NA", "null" and "0007" beside "7", a column named
    # twice, decimal commas, upper-case lifecycle words. Read for pm4py as written (no value
    # taken for missing but a blank), which is what the file says.
    pm4py = pytest.importorskip("pm4py", reason="pm4py is a test-only dependency: pip install -e '.[test]'")
    import pandas as pd

    path = TRAPS / "csv-traps.csv"
    frame = pd.read_csv(path, sep=";", encoding="utf-8-sig", dtype=str, keep_default_na=False, na_values=[""])
    frame["time:timestamp"] = pd.to_datetime(frame["time:timestamp"], format="%d.%m.%Y %H:%M:%S", utc=True)
    frame = frame.sort_values(["case:concept:name", "time:timestamp"], kind="stable")
    expected = frame_counts(pm4py, frame, complete_only=lifecycle == "instances")
    process_map = analyze(read_log(path), max_activities=10_000, max_paths=100_000, lifecycle=lifecycle)
    assert our_counts(process_map) == expected
    assert process_map.summary.cases == 20
