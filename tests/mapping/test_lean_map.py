"""The map's memory-sparing paths give what the plain ones give: same counts, same map."""

from __future__ import annotations

import numpy as np
import pytest

from backoffice import read_log
from backoffice.events.schema import ORDER
from backoffice.mapping import analyze
from backoffice.mapping.analyze import narrowed_for_map
from backoffice.mapping.grouped import (COUNT_SLICE, SUM_SLICE, duration_stats, group_sums, masked_counts,
                                        sorted_durations)
from backoffice.mapping.paths import activity_facts, edges_and_waits
from backoffice.mapping.workspace import NONE, Scope, open_workspace


def test_masked_counts_equal_bincount_of_the_masked_codes_across_slices():
    generator = np.random.default_rng(7)
    codes = generator.integers(0, 40, size=2 * COUNT_SLICE + 123)
    mask = generator.random(len(codes)) < 0.3
    # A code past the asked width still counts, as np.bincount's minlength allows.
    codes[-1], mask[-1] = 57, True
    assert masked_counts(codes, mask, 40).tolist() == np.bincount(codes[mask], minlength=40).tolist()


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
    micros = generator.integers(0, 10**13, size=rows)
    by_path = sorted_durations(fine.copy(), micros, width * width)
    coarse = np.arange(width * width) % width
    merged = by_path.regrouped(coarse, width)
    direct = sorted_durations(np.where(fine < width * width, fine % width, width), micros, width)
    assert merged.counts.tolist() == direct.counts.tolist()
    assert np.array_equal(merged.ordered, direct.ordered[:int(direct.counts.sum())])
    for code in range(width):
        assert merged.stats().fields(code) == direct.stats().fields(code)


def test_activity_facts_from_the_paths_waits_equal_those_sorted_afresh(write_csv):
    ws = open_workspace(lanes_log(write_csv), lane_column="role", scope=Scope())
    _, waits_before = edges_and_waits(ws)
    assert activity_facts(ws, waits_before=waits_before) == activity_facts(ws)
    assert any(fact.wait_before is not None for fact in activity_facts(ws))
