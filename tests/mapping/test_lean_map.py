"""The map's memory-sparing paths give what the plain ones give: same counts, same map."""

from __future__ import annotations

import numpy as np
import pytest

from backoffice import read_log
from backoffice.events.schema import ORDER
from backoffice.mapping import analyze
from backoffice.mapping.analyze import narrowed_for_map
from backoffice.mapping import grouped, workspace
from backoffice.mapping.grouped import (COUNT_SLICE, SUM_SLICE, KeyCounts, duration_stats, group_sums, sort_by_group,
                                        sorted_durations)
from backoffice.mapping.paths import activity_facts, edges_and_waits
from backoffice.mapping.workspace import NONE, Scope, open_workspace


@pytest.mark.parametrize("width", [40, COUNT_SLICE + 1])  # a table of counts; past a slice, sorted slices
def test_key_counts_over_slices_equal_one_count_and_number_the_keys_found_densely(width):
    generator = np.random.default_rng(7)
    keys = generator.choice(generator.integers(0, width, size=30), size=5000)
    counted = KeyCounts(width)
    for start in range(0, len(keys), 700):
        counted.count(keys[start:start + 700])
    counted.count(keys[:0])
    found, counts = counted.found()
    expected_keys, expected_counts = np.unique(keys, return_counts=True)
    assert found.tolist() == expected_keys.tolist() and counts.tolist() == expected_counts.tolist()
    assert counted.numbers(keys).tolist() == np.searchsorted(expected_keys, keys).tolist()


def test_key_counts_of_no_keys_find_none():
    assert [part.tolist() for part in KeyCounts(COUNT_SLICE + 1).found()] == [[], []]
    assert [part.tolist() for part in KeyCounts(5).found()] == [[], []]


@pytest.mark.parametrize("high", [10**12, 1 << 60])  # packed beside the group codes; too wide, sorted by both
def test_durations_sorted_with_groups_given_in_slices_equal_those_sorted_whole(high):
    generator = np.random.default_rng(13)
    group = generator.integers(0, 300, size=10_000)
    micros = generator.integers(-5, high, size=10_000)
    whole = sorted_durations(group.copy(), micros, 300)
    sliced = sort_by_group(micros.copy(), (group[start:start + 999] for start in range(0, len(group), 999)), 300)
    assert sliced.counts.tolist() == whole.counts.tolist()
    assert np.array_equal(sliced.ordered, whole.ordered)
    assert sort_by_group(np.zeros(0, np.int64), iter([]), 4).counts.tolist() == [0, 0, 0, 0]


def test_duration_stats_that_consume_their_groups_equal_those_that_copy_them():
    generator = np.random.default_rng(11)
    group = generator.integers(0, 13, size=5000).astype(np.int64)
    micros = generator.integers(0, 10**12, size=5000)
    kept = duration_stats(group, micros, 12)
    consumed = duration_stats(group.copy(), micros, 12, consume=True)
    for code in range(12):
        assert consumed.fields(code) == kept.fields(code)


def lanes_log(write_csv):
    rows = []
    for case in range(30):
        steps = [("Submit", "clerk", "erp"), ("Check", "" if case % 4 == 0 else "auditor", "erp"),
                 ("Approve", "manager", "mail"), ("Check", "auditor", "erp")]
        for hour, (activity, role, system) in enumerate(steps[: 2 + case % 3]):
            rows.append(f"c{case},{activity},2024-01-{1 + case % 9:02d}T{8 + hour:02d}:00:00Z,{role},{system},"
                        f"{'late' if case % 5 == 0 and hour == 1 else ''}")
    return read_log(write_csv("case_id,activity,timestamp,role,system,reason\n" + "\n".join(rows) + "\n"))


def test_the_workspace_finds_handoffs_and_cases_from_the_row_before(write_csv):
    log = lanes_log(write_csv)
    ws = open_workspace(log, lane_column="role", scope=Scope())
    previous_lane = ws.previous_lane
    expected = (previous_lane != NONE) & (ws.lane != NONE) & (previous_lane != ws.lane)
    assert ws.handoff.tolist() == expected.tolist() and expected.any()
    rows = np.arange(ws.events)
    assert ws.case_of(rows).tolist() == ws.case.tolist()
    assert ws.case.tolist() == np.repeat(np.arange(ws.cases), ws.ends - ws.starts).tolist()


@pytest.mark.parametrize("lanes", [None, "role", "system", "resource"])
def test_a_log_narrowed_for_the_map_maps_the_same_and_lets_go_of_the_rest(write_csv, lanes):
    log = lanes_log(write_csv)
    narrowed = narrowed_for_map(log, lanes=lanes)
    assert analyze(narrowed, lanes=lanes).model_dump_json() == analyze(log, lanes=lanes).model_dump_json()
    assert ORDER not in narrowed.table.column_names
    drawn = lanes or "role"
    for name in ("role", "system"):
        assert narrowed.has_values(name) == (name == drawn), name
    assert narrowed.has_values("reason") and len(narrowed) == len(log)


def testgroup_sums_by_slices_equal_one_reduceat_bit_for_bit():
    generator = np.random.default_rng(5)
    # A few groups larger than a slice, many small ones, and values large enough to round.
    counts = np.r_[generator.integers(1, 50, size=3000), SUM_SLICE + 7, generator.integers(1, 9, size=50), 3 * SUM_SLICE]
    ordered = generator.integers(0, 1 << 52, size=int(counts.sum()))
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    whole = np.add.reduceat(ordered, starts, dtype=np.float64)
    assert np.array_equal(group_sums(ordered, starts, counts), whole)


def test_the_workspace_reads_resources_and_reasons_where_they_are_known(write_csv):
    log = read_log(write_csv("case_id,activity,timestamp,resource,reason\n"
                             "c1,a,2024-01-01T08:00:00Z,ann,\n"
                             "c1,b,2024-01-01T09:00:00Z,,late\n"
                             "c2,a,2024-01-01T08:00:00Z,bot-1,late\n"
                             "c2,b,2024-01-01T09:00:00Z,ann,\n"))
    ws = open_workspace(log, lane_column=None, scope=Scope())
    assert ws.reason_rows.tolist() == [1, 2]
    assert [ws.reasons[code] for code in ws.reason_codes[ws.reason_rows]] == ["late", "late"]
    assert ws.reason.tolist() == [NONE, 0, 0, NONE]
    assert ws.resource_known.tolist() == [True, False, True, True]
    assert [ws.resources[code] if code != NONE else None for code in ws.resource] == ["ann", None, "bot-1", "ann"]
    from backoffice.mapping.paths import service_shares
    assert service_shares(ws, lambda name: name.startswith("bot")) == {"a": 0.5, "b": 0.0}


def test_durations_sorted_by_path_then_merged_by_activity_equal_durations_sorted_by_activity():
    generator = np.random.default_rng(3)
    width, rows = 7, 20_000
    fine = generator.integers(0, width * width + 1, size=rows)  # width * width: left out
    fine[fine == 9] = 10  # a path no row takes
    micros = generator.integers(0, 10**13, size=rows)
    by_path = sorted_durations(fine.copy(), micros, width * width)
    coarse = np.arange(width * width) % width
    merged = by_path.regrouped_stats(coarse, width)
    direct = sorted_durations(np.where(fine < width * width, fine % width, width), micros, width).stats()
    for code in range(width):
        assert merged.fields(code) == direct.fields(code)
    assert merged.count.tolist() == direct.count.tolist()
    no_activity = by_path.regrouped_stats(np.zeros(width * width, np.int64), width + 1)
    assert no_activity.fields(width) == {"count": 0, "total": 0.0, "mean": 0.0, "median": 0.0, "p90": 0.0,
                                         "max": 0.0}


def test_the_waits_of_a_slice_or_of_rows_equal_the_whole_log_s(write_csv):
    ws = open_workspace(lanes_log(write_csv), lane_column="role", scope=Scope())
    assert ws.wait.any()
    rows = np.arange(ws.events)
    assert ws.waits_at(rows).tolist() == ws.wait.tolist()
    assert np.concatenate([ws.waits(start, end) for start, end, _, _ in ws.slices(7)]).tolist() == ws.wait.tolist()
    waited = (ws.times - np.r_[ws.times[:1], ws.times[:-1]])
    assert ws.wait.tolist() == np.where(ws.first, 0, waited).tolist()


def test_slices_hold_whole_cases_and_cover_the_log(write_csv):
    ws = open_workspace(lanes_log(write_csv), lane_column="role", scope=Scope())
    slices = list(ws.slices(5))
    assert slices[0][0] == 0 and slices[-1][1] == ws.events and slices[-1][3] == ws.cases
    for (_, end, _, end_case), (start, _, first_case, _) in zip(slices, slices[1:]):
        assert end == start == ws.starts[first_case] and end_case == first_case
    assert all(end - start >= 5 or end == ws.events for start, end, _, _ in slices)
    assert len(list(ws.slices(10**6))) == 1


def back_and_forth_log(write_csv):
    """Cases passing work back and forth between the same lanes, several times each."""
    rows = []
    for case in range(25):
        for step in range(3 + case % 6):
            activity, role = (("Draft", "clerk"), ("Review", "auditor"), ("Sign", ""))[(step + case) % 3]
            rows.append(f"c{case},{activity},2024-01-{1 + case % 9:02d}T{8 + step:02d}:{case:02d}:00Z,{role},"
                        f"{'late' if step % 4 == 1 else ''}")
    return read_log(write_csv("case_id,activity,timestamp,role,reason\n" + "\n".join(rows) + "\n"))


@pytest.mark.parametrize("make_log", [lanes_log, back_and_forth_log])
def test_a_map_read_a_few_rows_at_a_time_equals_the_map_read_whole(write_csv, monkeypatch, make_log):
    log = make_log(write_csv)
    whole = analyze(log).model_dump_json()
    assert '"handoffs":[]' not in whole.replace(" ", "").replace("\n", "")
    monkeypatch.setattr(workspace, "SLICE_ROWS", 3)
    assert analyze(log).model_dump_json() == whole
    # A log too large to keep its slices' keys computes them again on the second walk.
    monkeypatch.setattr(grouped, "KEPT_KEY_ROWS", 0)
    assert analyze(log).model_dump_json() == whole


@pytest.mark.parametrize("kept", [True, False])
def test_keyed_waits_sort_the_durations_by_the_keys_numbers_whether_keys_are_kept_or_walked_again(
        monkeypatch, kept):
    generator = np.random.default_rng(5)
    keys = generator.choice(generator.integers(0, 900, size=25), size=4000)
    waits = generator.integers(0, 10**9, size=4000)
    if not kept:
        monkeypatch.setattr(grouped, "KEPT_KEY_ROWS", 0)
    slices = [slice(start, start + 600) for start in range(0, len(keys), 600)]
    walk = grouped.KeyedWaits(900, len(keys))
    for part in slices:
        walk.add(keys[part], waits[part])
    found, counts, by_key = walk.sorted(lambda: (keys[part] for part in slices))
    expected_keys, expected_counts = np.unique(keys, return_counts=True)
    assert found.tolist() == expected_keys.tolist() and counts.tolist() == expected_counts.tolist()
    whole = sorted_durations(np.searchsorted(expected_keys, keys), waits, len(expected_keys))
    assert by_key.counts.tolist() == whole.counts.tolist()
    # Each group holds the same durations (sorted, or only grouped on a small log), so the same statistics.
    starts = np.cumsum(whole.counts) - whole.counts
    for start, count in zip(starts.tolist(), whole.counts.tolist()):
        assert np.array_equal(np.sort(by_key.ordered[start:start + count]), whole.ordered[start:start + count])
    assert_same_stats(by_key.stats(), whole.stats())


def assert_same_stats(found, expected):
    for name in ("count", "total", "mean", "median", "p90", "max"):
        assert np.allclose(getattr(found, name), getattr(expected, name), rtol=1e-12, atol=0), name


def test_statistics_selected_from_runs_in_no_order_equal_those_of_sorted_runs():
    # Groups of 0, 1, 2 and many durations; the coarse groups merge several runs each.
    generator = np.random.default_rng(11)
    width = 40
    group = generator.integers(0, width - 3, size=20_000)
    group[:3] = [width - 2, width - 1, width - 1]
    micros = generator.integers(0, 10**12, size=len(group))
    whole = sorted_durations(group.copy(), micros, width)
    selected = grouped.grouped_by_key(micros, group.astype(np.uint16), np.bincount(group, minlength=width))
    assert not selected.sorted_within and selected.counts.tolist() == whole.counts.tolist()
    assert_same_stats(selected.stats(), whole.stats())
    coarse = np.arange(width) % 7
    assert_same_stats(selected.regrouped_stats(coarse, 7), whole.regrouped_stats(coarse, 7))
    # Selection works on copies: the runs, read by another thread at the same time, stay as they were.
    before = selected.ordered.copy()
    selected.stats()
    assert np.array_equal(selected.ordered, before)


def test_activity_facts_from_the_paths_waits_equal_those_sorted_afresh(write_csv):
    ws = open_workspace(lanes_log(write_csv), lane_column="role", scope=Scope())
    _, waits_before = edges_and_waits(ws)
    assert activity_facts(ws, waits_before=waits_before) == activity_facts(ws)
    assert any(fact.wait_before is not None for fact in activity_facts(ws))
