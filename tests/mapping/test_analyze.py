"""The as-is map of a small log whose every figure is worked out by hand in the comments."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from backoffice import read_log
from backoffice.errors import BadOption, EmptyLog
from backoffice.mapping import StepKind, analyze

HOUR = 3600.0

# Case 1: Submit 09:00 (ann, clerk) -> Approve 11:00 (bob, manager) -> Pay 12:00 (svc-erp, system)
# Case 2: Submit -> Approve 10:00 -> Correct 11:00 (price mismatch) -> Approve 13:00 -> Pay 14:00
# Case 3 (next day): Submit 09:00 -> Approve 09:30 (nobody recorded) -> Pay 10:30
INVOICES = """case_id,activity,timestamp,resource,role,reason,deadline
1,Submit,2024-01-01T09:00:00Z,ann,clerk,,2024-01-01T11:30:00Z
1,Approve invoice,2024-01-01T11:00:00Z,bob,manager,,2024-01-01T11:30:00Z
1,Pay,2024-01-01T12:00:00Z,svc-erp,system,,2024-01-01T11:30:00Z
2,Submit,2024-01-01T09:00:00Z,ann,clerk,,2024-01-01T20:00:00Z
2,Approve invoice,2024-01-01T10:00:00Z,bob,manager,,2024-01-01T20:00:00Z
2,Correct,2024-01-01T11:00:00Z,ann,clerk,price mismatch,2024-01-01T20:00:00Z
2,Approve invoice,2024-01-01T13:00:00Z,bob,manager,,2024-01-01T20:00:00Z
2,Pay,2024-01-01T14:00:00Z,svc-erp,system,,2024-01-01T20:00:00Z
3,Submit,2024-01-02T09:00:00Z,cy,clerk,,2024-01-02T12:00:00Z
3,Approve invoice,2024-01-02T09:30:00Z,,,,2024-01-02T12:00:00Z
3,Pay,2024-01-02T10:30:00Z,svc-erp,system,,2024-01-02T12:00:00Z
"""


@pytest.fixture
def invoices(write_csv):
    return read_log(write_csv(INVOICES))


def edge(process_map, source, target):
    return next(e for e in process_map.edges if (e.source, e.target) == (source, target))


def test_summary_counts_cases_events_activities_variants_and_ends(invoices):
    summary = analyze(invoices).summary
    assert (summary.cases, summary.events, summary.activities, summary.variants) == (3, 11, 4, 2)
    assert [(a.activity, a.cases) for a in summary.start_activities] == [("Submit", 3)]
    assert [(a.activity, a.cases) for a in summary.end_activities] == [("Pay", 3)]
    assert summary.first_event == datetime(2024, 1, 1, 9, tzinfo=timezone.utc)
    assert summary.last_event == datetime(2024, 1, 2, 10, 30, tzinfo=timezone.utc)


def test_paths_carry_counts_and_waiting_statistics(invoices):
    process_map = analyze(invoices)
    submit_approve = edge(process_map, "Submit", "Approve invoice")
    assert (submit_approve.count, submit_approve.cases) == (3, 3)
    # waits 2 h, 1 h and 0.5 h
    assert submit_approve.wait.median == pytest.approx(HOUR)
    assert submit_approve.wait.mean == pytest.approx(3.5 * HOUR / 3)
    assert submit_approve.wait.max == pytest.approx(2 * HOUR)
    assert submit_approve.wait.p90 == pytest.approx(1.8 * HOUR)  # linear interpolation between 1 h and 2 h
    assert edge(process_map, "Correct", "Approve invoice").wait.median == pytest.approx(2 * HOUR)
    assert {(e.source, e.target): e.count for e in process_map.edges} == {
        ("Submit", "Approve invoice"): 3, ("Approve invoice", "Pay"): 3,
        ("Approve invoice", "Correct"): 1, ("Correct", "Approve invoice"): 1}


def test_variants_are_ranked_by_cases_with_share_and_cycle_time(invoices):
    first, second = analyze(invoices).variants
    assert first.activities == ["Submit", "Approve invoice", "Pay"] and first.cases == 2
    assert first.share == pytest.approx(2 / 3)
    assert first.cycle_time.median == pytest.approx(2.25 * HOUR)  # 3 h and 1.5 h
    assert second.activities == ["Submit", "Approve invoice", "Correct", "Approve invoice", "Pay"]
    assert second.example_case == "2"


def test_slowest_variants_rank_by_median_cycle_time(invoices):
    assert analyze(invoices).slowest_variants == [2, 1]


def test_cycle_time_distribution_and_histogram(invoices):
    cycle = analyze(invoices).cycle_time
    assert (cycle.stats.median, cycle.stats.max) == (3 * HOUR, 5 * HOUR)
    assert sum(count for _, _, count in cycle.histogram) == 3


def test_where_the_time_goes_ranks_paths_by_total_wait(invoices):
    process_map = analyze(invoices)
    top = process_map.waiting_paths[0]
    # Submit -> Approve waits 3.5 h in all; Approve -> Pay 3 h.
    assert (top.source, top.target, top.total_wait) == ("Submit", "Approve invoice", 3.5 * HOUR)
    assert process_map.waiting_activities[0].target == "Approve invoice"  # 3.5 h + 2 h before it


def test_handoffs_count_lane_changes_and_ignore_missing_values(invoices):
    handoffs = {(h.from_lane, h.to_lane): h.count for h in analyze(invoices, lanes="role").handoffs}
    # Case 3's approver is unknown: neither clerk -> ? nor ? -> system is a handoff.
    assert handoffs == {("clerk", "manager"): 3, ("manager", "system"): 2, ("manager", "clerk"): 1}


def test_handoffs_by_resource(invoices):
    handoffs = {(h.from_lane, h.to_lane): h.count for h in analyze(invoices, lanes="resource").handoffs}
    assert handoffs[("ann", "bob")] == 3 and ("cy", "svc-erp") not in handoffs


def test_lanes_default_to_role_when_the_log_has_roles(invoices):
    process_map = analyze(invoices)
    assert process_map.lanes == "role"
    assert {a.name: a.lane for a in process_map.activities}["Pay"] == "system"


def test_rework_counts_repeated_steps_loops_and_added_time(invoices):
    rework = analyze(invoices).rework
    assert rework.cases_affected == 1 and rework.share_of_cases == pytest.approx(1 / 3)
    assert [(r.activity, r.cases, r.repeats) for r in rework.repeated_activities] == [("Approve invoice", 1, 1)]
    assert [(loop.source, loop.target, loop.count) for loop in rework.loops] == [("Correct", "Approve invoice", 1)]
    assert rework.added_time == pytest.approx(5 * HOUR - 2.25 * HOUR)


def test_exceptions_name_reasons_cases_and_where_they_are_resolved(invoices):
    exceptions = analyze(invoices).exceptions
    assert exceptions.cases_with_exceptions == 1
    (reason,) = exceptions.reasons
    assert (reason.reason, reason.cases, reason.events) == ("price mismatch", 1, 1)
    assert [(step.activity, step.cases) for step in reason.resolved_at] == [("Approve invoice", 1)]


def test_no_reason_column_means_no_exception_section(write_csv):
    log = read_log(write_csv("case_id,activity,timestamp\nA,a,2024-01-01\n"))
    assert analyze(log).exceptions is None


def test_sla_target_gives_attainment_and_worst_offenders(invoices):
    sla = analyze(invoices, sla_target="4h").sla
    assert (sla.cases_measured, sla.within) == (3, 2)
    assert [(o.case_id, o.over_by) for o in sla.worst] == [("2", HOUR)]


def test_sla_from_a_deadline_attribute(invoices):
    sla = analyze(invoices, sla_from="deadline").sla
    # Case 1 ends 12:00 after its 11:30 deadline; cases 2 and 3 end in time.
    assert (sla.within, sla.cases_measured) == (2, 3)
    assert [(o.case_id, o.over_by) for o in sla.worst] == [("1", 0.5 * HOUR)]


def test_sla_from_an_unknown_attribute_lists_the_attributes(invoices):
    with pytest.raises(BadOption, match="--sla-from 'due'.*deadline"):
        analyze(invoices, sla_from="due")


def test_step_kinds_from_service_accounts_and_approval_words(invoices):
    process_map = analyze(invoices)
    kinds = {a.name: a.kind for a in process_map.activities}
    assert kinds == {"Submit": StepKind.HUMAN, "Approve invoice": StepKind.APPROVAL,
                     "Pay": StepKind.STRAIGHT_THROUGH, "Correct": StepKind.HUMAN}
    shares = {share.kind: share for share in process_map.step_kinds}
    assert shares[StepKind.STRAIGHT_THROUGH].share_of_cases == 1.0
    assert shares[StepKind.HUMAN].wait_before == pytest.approx(HOUR)  # only Correct waits, 1 h


def test_step_kinds_can_be_overridden_by_a_file(invoices, tmp_path):
    overrides = tmp_path / "kinds.yaml"
    overrides.write_text("correct: straight_through\n", encoding="utf-8")
    kinds = {a.name: a.kind for a in analyze(invoices, step_kinds=overrides).activities}
    assert kinds["Correct"] is StepKind.STRAIGHT_THROUGH


def test_date_range_keeps_cases_that_started_in_it(invoices):
    process_map = analyze(invoices, since=datetime(2024, 1, 2, tzinfo=timezone.utc))
    assert process_map.summary.cases == 1 and process_map.variants[0].example_case == "3"
    assert any("kept 1 of 3 cases" in note for note in process_map.notes)


def test_variant_coverage_keeps_the_top_variants(invoices):
    process_map = analyze(invoices, variant_coverage=0.6)
    assert process_map.summary.cases == 2 and process_map.summary.variants == 1


def test_minimum_path_count_hides_rare_paths_and_says_so(invoices):
    process_map = analyze(invoices, min_path_count=2)
    assert {(e.source, e.target) for e in process_map.edges} == {("Submit", "Approve invoice"),
                                                                  ("Approve invoice", "Pay")}
    assert any("2 paths followed fewer than 2 times" in note for note in process_map.notes)


def test_filters_that_leave_nothing_are_a_clear_error(invoices):
    with pytest.raises(EmptyLog, match="no case is left"):
        analyze(invoices, since=datetime(2030, 1, 1, tzinfo=timezone.utc))


@pytest.mark.parametrize("options, message", [
    ({"variant_coverage": 1.5}, "--variant-coverage"),
    ({"min_path_count": 0}, "--min-path-count"),
    ({"lanes": "department"}, "--lanes"),
    ({"sla_target": "soon"}, "--sla 'soon'"),
])
def test_bad_options_are_named(invoices, options, message):
    with pytest.raises(BadOption, match=message):
        analyze(invoices, **options)


def test_many_distinct_activities_still_give_a_readable_map(write_csv):
    # 2,000 cases each doing its own pair of activities: 4,000 activities in all.
    rows = ["case_id,activity,timestamp"] + [
        f"{case},step {case} {n},2024-01-01T0{n}:00:00Z" for case in range(2000) for n in (1, 2)]
    process_map = analyze(read_log(write_csv("\n".join(rows) + "\n")), max_activities=100, max_paths=50)
    assert process_map.summary.activities == 4000
    assert len(process_map.activities) == 100 and len(process_map.edges) <= 50
    assert any("keeps the 100 most frequent" in note for note in process_map.notes)
