"""Counting invariants of the map, checked against a plain-Python reading of random logs."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backoffice.events.schema import EventLog
from backoffice.mapping import analyze

START = datetime(2024, 1, 1, tzinfo=timezone.utc)

# Few distinct minutes and activities, so ties in time and repeated steps are common.
event = st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.integers(min_value=0, max_value=5),
                  st.sampled_from([None, "clerk", "manager"]))
logs = st.lists(st.lists(event, min_size=1, max_size=8), min_size=1, max_size=12)


def build(cases: list[list[tuple[str, int, str | None]]]) -> tuple[EventLog, dict[str, list[tuple]]]:
    """Interleave the cases' events in file order, as an export would, and keep the expected order."""
    rows = [(f"case{number}", activity, START + timedelta(minutes=minute), role)
            for number, events in enumerate(cases) for activity, minute, role in events]
    rows = rows[::2] + rows[1::2]  # interleave: file order is not case order
    table = pa.table({"case_id": [r[0] for r in rows], "activity": [r[1] for r in rows],
                      "timestamp": pa.array([r[2] for r in rows], pa.timestamp("us", tz="UTC")),
                      "role": [r[3] for r in rows]})
    expected: dict[str, list[tuple]] = {}
    for row in rows:
        expected.setdefault(row[0], []).append(row)
    for case in expected:
        expected[case].sort(key=lambda r: r[2])  # Python's sort is stable: ties keep file order
    return EventLog.from_table(table), expected


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs)
def test_each_case_with_n_events_contributes_n_minus_one_paths(cases):
    log, expected = build(cases)
    process_map = analyze(log)
    assert sum(edge.count for edge in process_map.edges) == sum(len(events) - 1 for events in expected.values())
    assert process_map.summary.events == sum(len(events) for events in expected.values())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs)
def test_paths_and_variants_equal_a_stable_sort_of_each_case(cases):
    log, expected = build(cases)
    process_map = analyze(log)
    paths = Counter((a[1], b[1]) for events in expected.values() for a, b in zip(events, events[1:]))
    assert {(e.source, e.target): e.count for e in process_map.edges} == dict(paths)
    sequences = Counter(tuple(r[1] for r in events) for events in expected.values())
    assert {tuple(v.activities): v.cases for v in process_map.variants} == dict(sequences)
    assert sum(v.cases for v in process_map.variants) == process_map.summary.cases == len(expected)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs)
def test_handoffs_are_lane_changes_between_known_lanes(cases):
    log, expected = build(cases)
    process_map = analyze(log, lanes="role")
    changes = Counter((a[3], b[3]) for events in expected.values() for a, b in zip(events, events[1:])
                      if a[3] and b[3] and a[3] != b[3])
    assert {(h.from_lane, h.to_lane): h.count for h in process_map.handoffs} == dict(changes)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs)
def test_rework_share_is_the_share_of_cases_that_repeat_an_activity(cases):
    log, expected = build(cases)
    rework = analyze(log).rework
    repeating = sum(1 for events in expected.values() if len({r[1] for r in events}) < len(events))
    assert rework.cases_affected == repeating


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs)
def test_cases_per_path_activity_and_step_kind_count_each_case_once(cases):
    log, expected = build(cases)
    process_map = analyze(log)
    path_cases = Counter(pair for events in expected.values()
                         for pair in {(a[1], b[1]) for a, b in zip(events, events[1:])})
    assert {(e.source, e.target): e.cases for e in process_map.edges} == dict(path_cases)
    activity_cases = Counter(name for events in expected.values() for name in {r[1] for r in events})
    assert {a.name: a.cases for a in process_map.activities} == dict(activity_cases)
    assert {a.name: a.events for a in process_map.activities} == dict(
        Counter(r[1] for events in expected.values() for r in events))
    kind_of = {a.name: a.kind for a in process_map.activities}
    for share in process_map.step_kinds:
        touched = sum(1 for events in expected.values() if any(kind_of[r[1]] is share.kind for r in events))
        assert share.share_of_cases == touched / len(expected)
        assert share.events == sum(1 for events in expected.values() for r in events if kind_of[r[1]] is share.kind)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs)
def test_repeated_steps_and_loops_equal_a_plain_reading(cases):
    log, expected = build(cases)
    rework = analyze(log).rework
    repeats: Counter = Counter()
    repeat_cases: Counter = Counter()
    loops: Counter = Counter()
    loop_cases: Counter = Counter()
    for events in expected.values():
        seen: set[str] = set()
        repeated_here: set[str] = set()
        looped_here: set[tuple[str, str]] = set()
        for before, event in zip([None, *events], events):
            if event[1] in seen:
                repeats[event[1]] += 1
                repeated_here.add(event[1])
                loops[(before[1], event[1])] += 1
                looped_here.add((before[1], event[1]))
            seen.add(event[1])
        repeat_cases.update(repeated_here)
        loop_cases.update(looped_here)
    # The map lists the top 20 of each; these logs have at most 4 activities and 16 loops.
    assert {r.activity: (r.repeats, r.cases) for r in rework.repeated_activities} == \
        {name: (repeats[name], repeat_cases[name]) for name in repeats}
    assert {(loop.source, loop.target): (loop.count, loop.cases) for loop in rework.loops} == \
        {pair: (loops[pair], loop_cases[pair]) for pair in loops}
