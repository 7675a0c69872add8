"""Activity instances: the lifecycle events of one piece of work become one step, with its processing time."""

from __future__ import annotations

import pytest

from backoffice import read_log
from backoffice.errors import BadOption, LogFileError, MissingColumn
from backoffice.events.instances import NOT_MEASURED, read_steps
from backoffice.mapping import analyze

MINUTE = 60
HOUR = 3600


def lifecycle_log(write_csv, rows: list[tuple[str, str, str, str]]):
    """A CSV log of (case, activity, time on 2024-01-01, lifecycle) rows."""
    lines = ["case_id,activity,timestamp,lifecycle"]
    lines += [f"{case},{activity},2024-01-01T{time}:00+00:00,{word}" for case, activity, time, word in rows]
    return read_log(write_csv("\n".join(lines) + "\n"))


def test_schedule_start_and_complete_of_one_work_item_are_one_step_with_its_processing_time(write_csv):
    log = lifecycle_log(write_csv, [
        ("c1", "Receive", "09:00", "complete"),
        ("c1", "Check", "09:10", "schedule"), ("c1", "Check", "10:00", "start"), ("c1", "Check", "10:30", "complete"),
        ("c1", "Approve", "12:00", "start"), ("c1", "Approve", "12:05", "complete"),
    ])
    process_map = analyze(log)
    assert process_map.summary.events == 6 and process_map.summary.steps == 3
    assert [(edge.source, edge.target) for edge in process_map.edges] == [("Check", "Approve"), ("Receive", "Check")]
    activity = {a.name: a for a in process_map.activities}
    assert activity["Check"].processing.median == 30 * MINUTE
    assert activity["Approve"].processing.median == 5 * MINUTE
    assert activity["Receive"].processing is None  # a complete alone: nothing to measure
    wait = {(edge.source, edge.target): edge.wait for edge in process_map.edges}
    # From the previous step's completion to this one's start; the schedule is waiting too.
    assert wait[("Receive", "Check")].total == 1 * HOUR
    assert wait[("Check", "Approve")].total == 90 * MINUTE
    assert process_map.reading.mode == "instances" and process_map.reading.lifecycle == "standard XES lifecycle"
    assert process_map.reading.timestamps == "start and complete"
    assert "1 schedule or assign event folded" in process_map.reading.note
    flow = process_map.flow
    assert flow.active.total == 35 * MINUTE and flow.waiting.total == 3 * HOUR + 5 * MINUTE - 35 * MINUTE
    assert flow.efficiency.overall == pytest.approx(35 / 185)


def test_overlapping_instances_of_one_activity_pair_first_in_first_out(write_csv):
    log = lifecycle_log(write_csv, [
        ("c1", "Call", "09:00", "start"), ("c1", "Call", "09:10", "start"),
        ("c1", "Call", "09:20", "complete"), ("c1", "Call", "10:10", "complete"),
    ])
    steps = read_steps(log)
    assert len(steps.log) == 2
    assert steps.processing.tolist() == [20 * MINUTE * 10**6, 60 * MINUTE * 10**6]


def test_unmatched_events_are_handled_and_counted(write_csv):
    log = lifecycle_log(write_csv, [
        ("c1", "Check", "09:00", "complete"),  # no start: a step without a processing time
        ("c1", "Check", "09:30", "start"), ("c1", "Check", "09:45", "complete"),
        ("c1", "Pay", "10:00", "start"),  # never completed: no step
        ("c2", "Check", "11:00", "start"), ("c2", "Check", "11:20", "complete"),
        ("c3", "Check", "12:00", "start"),  # a case whose work has not finished: not on the map
    ])
    steps = read_steps(log)
    assert steps.log.table.column("activity").to_pylist() == ["Check", "Check", "Check"]
    assert steps.processing.tolist() == [NOT_MEASURED, 15 * MINUTE * 10**6, 20 * MINUTE * 10**6]
    note = steps.reading.note
    assert "7 events read as 3 steps" in note and "2 steps with a start and a complete" in note
    assert "1 complete without a start" in note and "2 starts never completed" in note
    assert "1 case with no completed step (not on the map)" in note


def test_suspensions_are_left_out_of_the_processing_time(write_csv):
    log = lifecycle_log(write_csv, [
        ("c1", "Review", "09:00", "start"), ("c1", "Review", "09:10", "suspend"),
        ("c1", "Review", "11:10", "resume"), ("c1", "Review", "11:30", "complete"),
    ])
    assert read_steps(log).processing.tolist() == [30 * MINUTE * 10**6]


def test_an_aborted_instance_closes_its_start_and_is_no_step(write_csv):
    log = lifecycle_log(write_csv, [
        ("c1", "Check", "09:00", "start"), ("c1", "Check", "09:05", "ate_abort"),
        ("c1", "Check", "10:00", "start"), ("c1", "Check", "10:20", "complete"),
    ])
    steps = read_steps(log)
    assert steps.processing.tolist() == [20 * MINUTE * 10**6]
    assert "1 instance aborted, withdrawn or skipped" in steps.reading.note


def test_status_words_keep_each_event_a_step_and_the_reading_says_so(write_csv):
    log = lifecycle_log(write_csv, [
        ("c1", "Ticket", "09:00", "Awaiting Assignment"), ("c1", "Ticket", "10:00", "In Progress"),
        ("c1", "Ticket", "11:00", "complete"),
    ])
    process_map = analyze(log)
    assert process_map.summary.steps == 3 and process_map.reading.lifecycle == "status words"
    assert process_map.reading.timestamps == "one per step" and process_map.flow is None
    assert "'Awaiting Assignment'" in process_map.reading.note and "each event is a step" in process_map.reading.note


def test_lifecycle_events_forces_one_step_per_event(write_csv):
    log = lifecycle_log(write_csv, [("c1", "Check", "09:00", "start"), ("c1", "Check", "09:30", "complete")])
    process_map = analyze(log, lifecycle="events")
    assert process_map.summary.steps == 2 and process_map.reading.mode == "events"
    assert [(edge.source, edge.target, edge.wait.total) for edge in process_map.edges] == [("Check", "Check", 1800)]
    with pytest.raises(BadOption, match="--lifecycle"):
        analyze(log, lifecycle="instance")


def test_one_timestamp_per_step_says_so_and_measures_no_processing(write_csv):
    log = read_log(write_csv("case_id,activity,timestamp\nc1,A,2024-01-01T09:00:00Z\nc1,B,2024-01-01T10:00:00Z\n"))
    process_map = analyze(log)
    assert process_map.reading.timestamps == "one per step" and process_map.reading.lifecycle == "none"
    assert process_map.flow is None and all(activity.processing is None for activity in process_map.activities)
    assert process_map.edges[0].wait.total == HOUR


def test_a_start_and_an_end_column_make_each_row_a_step_with_a_duration(write_csv):
    path = write_csv("case,activity,start time,end time\n"
                     "1,Receive,2024-01-01T09:00:00Z,2024-01-01T09:30:00Z\n"
                     "1,Check,2024-01-01T11:00:00Z,2024-01-01T12:00:00Z\n"
                     "2,Receive,2024-01-01T10:00:00Z,2024-01-01T10:20:00Z\n"
                     "2,Check,,2024-01-01T13:00:00Z\n")
    process_map = analyze(read_log(path))
    assert process_map.reading.lifecycle == "start and end columns"
    assert process_map.reading.timestamps == "start and complete"
    assert "1 row without a start" in process_map.reading.note
    receive, check = sorted(process_map.activities, key=lambda a: a.name, reverse=True)
    assert receive.processing.total == 50 * MINUTE and check.processing.count == 1
    (edge,) = process_map.edges
    assert edge.wait.count == 2 and edge.wait.total == 90 * MINUTE + (13 * 60 - 10 * 60 - 20) * MINUTE
    named = read_log(path, start_timestamp="start time")
    assert named.table.column("start_timestamp").null_count == 1


def test_a_misspelt_start_column_is_an_error_with_a_suggestion(write_csv):
    path = write_csv("case,activity,begin,end time\n1,A,2024-01-01T09:00:00Z,2024-01-01T09:30:00Z\n")
    with pytest.raises(MissingColumn, match="did you mean --start-timestamp 'begin'"):
        read_log(path, start_timestamp="bgin")


def test_a_deadline_is_read_from_the_steps_of_each_case(write_csv):
    # Case c1's start events come first in the file: the deadline must still be c1's, not c2's.
    path = write_csv("case_id,activity,timestamp,lifecycle,deadline\n"
                     "c1,Check,2024-01-01T09:00:00Z,start,2024-01-01T10:00:00Z\n"
                     "c1,Check,2024-01-01T09:30:00Z,start,2024-01-01T10:00:00Z\n"
                     "c1,Check,2024-01-01T09:40:00Z,complete,2024-01-01T10:00:00Z\n"
                     "c1,Check,2024-01-01T11:00:00Z,complete,2024-01-01T10:00:00Z\n"
                     "c2,Check,2024-01-01T09:00:00Z,start,2024-01-01T09:05:00Z\n"
                     "c2,Check,2024-01-01T09:10:00Z,complete,2024-01-01T09:05:00Z\n")
    sla = analyze(read_log(path), sla_from="deadline").sla
    assert (sla.cases_measured, sla.within) == (2, 0)
    assert [(offender.case_id, offender.over_by) for offender in sla.worst] == [("c1", HOUR), ("c2", 5 * MINUTE)]


def reference_steps(events: list[tuple[str, str, int, str]]) -> list[tuple[int, int]]:
    """(row, processing) of each step, by walking the events one at a time: the rule, written plainly."""
    queues: dict[tuple[str, str], list[int]] = {}
    paused: dict[tuple[str, str], int | None] = {}
    pending_pause: dict[tuple[str, str], int] = {}
    steps = []
    for row, (case, activity, time, word) in enumerate(events):
        key = (case, activity)
        queue = queues.setdefault(key, [])
        if word == "start":
            queue.append(time)
        elif word == "suspend":
            paused[key] = time
        elif word == "resume":
            if paused.get(key) is not None:
                pending_pause[key] = pending_pause.get(key, 0) + time - paused[key]
            paused[key] = None
        elif word in ("complete", "ate_abort"):
            suspended = pending_pause.pop(key, 0)
            paused[key] = None
            if queue:
                started = queue.pop(0)
                processing = max(time - started - suspended, 0)
            else:
                processing = NOT_MEASURED
            if word == "complete":
                steps.append((row, processing))
    return sorted(steps)


@pytest.mark.parametrize("seed", range(40))
def test_pairing_agrees_with_the_rule_walked_event_by_event(seed):
    import random

    import pyarrow as pa

    from backoffice.events.schema import EventLog

    generator = random.Random(seed)
    events, clock = [], 0
    for _ in range(generator.randint(1, 60)):
        clock += generator.randint(0, 3) * 60  # ties happen: they keep file order
        events.append((f"c{generator.randint(1, 3)}", generator.choice("AB"), clock,
                       generator.choice(["start", "start", "complete", "complete", "suspend", "resume",
                                         "schedule", "ate_abort"])))
    # The log's own order: grouped by case (first appearance), time within a case, ties in file order.
    first = {case: index for index, (case, *_rest) in reversed(list(enumerate(events)))}
    ordered = sorted(events, key=lambda event: (first[event[0]], event[2]))
    table = pa.table({"case_id": [e[0] for e in ordered], "activity": [e[1] for e in ordered],
                      "timestamp": pa.array([e[2] * 10**6 for e in ordered], pa.timestamp("us", tz="UTC")),
                      "lifecycle": [e[3] for e in ordered]})
    steps = read_steps(EventLog.from_table(table))
    expected = reference_steps(ordered)
    assert len(steps.log) == len(expected)
    rows = steps.log.table.column("event_index").to_pylist()
    measured = steps.processing.tolist() if steps.processing is not None else [NOT_MEASURED] * len(rows)
    assert sorted(zip(rows, [p // 10**6 if p != NOT_MEASURED else p for p in measured])) == expected


def test_a_log_of_starts_only_says_no_instance_completes_not_that_filters_left_nothing(write_csv):
    log = lifecycle_log(write_csv, [("c1", "A", "09:00", "schedule"), ("c1", "A", "09:10", "start"),
                                    ("c1", "B", "09:20", "START")])
    with pytest.raises(LogFileError, match=r"no activity instance completes: the 3 events are 2 starts and "
                                           r"1 schedule or assign.*expected complete events, or --lifecycle events"):
        analyze(log)
    assert analyze(log, lifecycle="events").summary.steps == 3
