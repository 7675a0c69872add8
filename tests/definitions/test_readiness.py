"""The ten-point readiness gate: each point passes on the template, fails on a variant, and reads the evidence."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from backoffice import read_log
from backoffice.definitions import load_definition
from backoffice.definitions.readiness import (GatePoint, ReadinessReport, Verdict, assess_readiness, happy_path,
                                              input_fields, readiness_of_file, reason_code)
from backoffice.errors import DefinitionError
from backoffice.mapping import analyze

from .workflow_fixtures import HAPPY, TEMPLATE, edited_template, without_section, write_log

SAMPLES = Path(__file__).resolve().parents[2] / "src" / "backoffice" / "samples"


def judged(path: Path, **options) -> ReadinessReport:
    """Load a definition (it must pass check) and judge it."""
    return assess_readiness(load_definition(path), source=path, **options)


def point(report: ReadinessReport, which: GatePoint):
    (found,) = [p for p in report.points if p.point is which]
    return found


def evidence_of(path: Path):
    return analyze(read_log(path))


# Every point passing

PASSING_REASONS = {
    GatePoint.TRIGGER: "request.submitted from service-portal",
    GatePoint.INPUTS: "7 fields, 5 required, from inline fields",
    GatePoint.OWNER: "role service-desk-lead (Service desk lead)",
    GatePoint.HAPPY_PATH: "new → triage → in-progress → done",
    GatePoint.EXCEPTIONS: "needs_info → role requester",
    GatePoint.SUCCESS_METRICS: "resolution within 3d (head-office calendar)",
    GatePoint.SYSTEMS_OF_RECORD: "request in service-portal, requester in directory",
    GatePoint.FALLBACK: "queue service-desk, owned by role service-desk-lead",
    GatePoint.MONITORING: "sla_attainment below 90% alerts role service-desk-lead",
    GatePoint.CHANGE_PROCESS: "approved by role service-desk-lead",
}


def test_the_service_request_template_passes_all_ten_points_each_with_its_reason():
    report = readiness_of_file(TEMPLATE)
    assert report.ready and report.verdict is Verdict.READY and report.failed == []
    assert [p.number for p in report.points] == list(range(1, 11))
    assert [p.point for p in report.points] == list(GatePoint)
    for which, reason in PASSING_REASONS.items():
        assert reason in point(report, which).reason, point(report, which).reason


@pytest.mark.parametrize("which", list(GatePoint), ids=lambda p: p.value)
def test_each_point_passes_on_the_template(which):
    assert point(readiness_of_file(TEMPLATE), which).passed


# Every point failing, on a variant that still passes `check`

def _optional_inputs() -> list[tuple[str, str]]:
    return [(f"    {name}: string ", f"    {name}: {{type: string, required: false}} ")
            for name in ("category", "urgency")] + \
           [(f"    {name}: string\n", f"    {name}: {{type: string, required: false}}\n")
            for name in ("summary", "description", "requester_email")]


FAILING = [
    (GatePoint.TRIGGER, [("event: request.submitted", "event: request.submitted or email.received")],
     "names several events"),
    (GatePoint.TRIGGER, [("event: request.submitted", "event: TBD")], "placeholder"),
    (GatePoint.INPUTS, _optional_inputs(), "a case could start with nothing"),
    (GatePoint.OWNER, [("owner: {role: service-desk-lead}", "owner: {role: resolver}")],
     "is a group; expected one accountable role or person"),
    (GatePoint.HAPPY_PATH, [("  - from: in-progress\n    to: done", "  - from: blocked\n    to: done")],
     "no path from intake to done that avoids waiting"),
    (GatePoint.EXCEPTIONS, [without_section("exceptions")], "no exception reasons named"),
    (GatePoint.SUCCESS_METRICS, [without_section("sla"), without_section("timers"), without_section("monitoring")],
     "no SLA and no monitored metric"),
    (GatePoint.SYSTEMS_OF_RECORD, [("systems_of_record:\n  request: service-portal\n  requester: directory\n",
                                    "systems_of_record: {}\n")], "no system of record"),
    (GatePoint.FALLBACK, [without_section("fallback")], "no manual fallback"),
    (GatePoint.FALLBACK, [("  queue: service-desk\n  owner: {role: service-desk-lead}\n", "")],
     "names no queue and no owner"),
    (GatePoint.MONITORING, [without_section("monitoring")], "no alert with a threshold"),
    (GatePoint.MONITORING, [("below: 90%, window: 1w, ", "window: 1w, "), ("above: 5d, ", ""), ("above: 40, ", "")],
     "no alert with a threshold"),
    (GatePoint.CHANGE_PROCESS, [without_section("change")], "no change approvers are named"),
    (GatePoint.CHANGE_PROCESS, [("  risk: []\n  approvers: [{role: service-desk-lead}]", "  risk: [finance]")],
     "changes tagged finance need a second approver, but no change approvers"),
    (GatePoint.CHANGE_PROCESS, [("  risk: []\n", "  risk: [access]\n  needs_second_approver: false\n")],
     "need no second approver"),
]


@pytest.mark.parametrize("which, edits, expected", FAILING,
                         ids=[f"{p.value}-{i}" for i, (p, _, _) in enumerate(FAILING)])
def test_each_point_fails_on_a_variant_that_still_passes_check(tmp_path, which, edits, expected):
    report = judged(edited_template(tmp_path, *edits))
    result = point(report, which)
    assert not result.passed and expected in result.reason, result.reason
    assert not report.ready and report.verdict is Verdict.NOT_READY
    assert result in report.failed


def test_a_single_failing_point_is_the_only_one_reported(tmp_path):
    # Dropping the fallback touches no other point: point 8 fails alone.
    report = judged(edited_template(tmp_path, without_section("fallback")))
    assert [p.number for p in report.failed] == [8]


def test_an_owner_named_like_a_team_fails_even_when_the_model_accepts_the_name(tmp_path):
    team = "  service-desk-team: {title: Service desk, queue: desk-team}\n"
    path = edited_template(tmp_path, ("roles:\n", "roles:\n" + team),
                           ("owner: {role: service-desk-lead}", "owner: {role: service-desk-team}"))
    assert "role 'service-desk-team'" in point(judged(path), GatePoint.OWNER).reason


def test_a_named_person_is_an_owner(tmp_path):
    path = edited_template(tmp_path, ("owner: {role: service-desk-lead}", "owner: {person: anna}"),
                           ("queues:\n", "people:\n  anna: {name: Anna de Vries, roles: [service-desk-lead]}\n"
                                          "queues:\n"))
    result = point(judged(path), GatePoint.OWNER)
    assert result.passed and result.reason == "person Anna de Vries"


def test_a_contract_counts_its_fields_and_required_ones_for_the_inputs(tmp_path):
    contracts = tmp_path / "contracts"
    contracts.mkdir()
    source = TEMPLATE.parent / "contracts" / "purchase-request.v1.yaml"
    (contracts / source.name).write_text(source.read_text())
    definition = load_definition(TEMPLATE)
    moved = definition.model_copy(update={"inputs": definition.inputs.model_copy(
        update={"fields": None, "contract": "contracts/purchase-request.v1.yaml"})})
    fields = input_fields(moved, source=tmp_path / "definition.yaml")
    # 19 paths with the nested ones (requester.email, items.quantity ...), 15 of them required.
    assert (fields.total, fields.required) == (19, 15)
    assert fields.source == "contract purchase-request.v1"


def test_the_happy_path_avoids_waiting_and_exception_states():
    assert happy_path(load_definition(TEMPLATE)) == ["new", "triage", "in-progress", "done"]


def test_a_definition_that_fails_check_is_refused_with_all_its_problems(tmp_path):
    path = edited_template(tmp_path, ("{from: blocked, to: in-progress,", "{from: blocked, to: in-progres,"),
                           ("target: {role: service-desk-lead}}", "}"))
    with pytest.raises(DefinitionError) as caught:
        readiness_of_file(path)
    assert len(caught.value.problems) == 2


# The evidence of a log

def test_a_log_on_a_few_main_variants_shows_a_stable_happy_path_and_says_the_share(tmp_path):
    cases = [HAPPY] * 7 + [HAPPY[:2] + ["Ask requester", "Triage"] + HAPPY[2:]] * 2 + [["New", "Cancel"]]
    cases += [HAPPY[:1] + ["Escalate"] + HAPPY[1:]]  # a fourth variant: 10 of 11 cases on the top 3
    report = judged(TEMPLATE, evidence=evidence_of(write_log(tmp_path / "log.csv", cases)))
    result = point(report, GatePoint.HAPPY_PATH)
    assert result.passed and result.from_log
    assert "the top 3 variants hold 90.9% of 11 cases (4 variants in all), at least 60%" in result.reason
    assert report.evidence is not None and report.evidence.main_share == pytest.approx(10 / 11)


def test_a_log_where_every_case_takes_its_own_path_fails_the_happy_path(tmp_path):
    cases = [HAPPY[:1] + [f"Detour {n}"] + HAPPY[1:] for n in range(10)]
    result = point(judged(TEMPLATE, evidence=evidence_of(write_log(tmp_path / "log.csv", cases))),
                   GatePoint.HAPPY_PATH)
    assert not result.passed and result.from_log
    assert "the top 3 variants hold 30.0% of 10 cases" in result.reason and "under the 60%" in result.reason


def test_the_stable_share_and_number_of_main_variants_are_options(tmp_path):
    cases = [HAPPY] * 5 + [HAPPY[:1] + [f"Detour {n}"] + HAPPY[1:] for n in range(5)]
    evidence = evidence_of(write_log(tmp_path / "log.csv", cases))
    assert point(judged(TEMPLATE, evidence=evidence), GatePoint.HAPPY_PATH).passed  # 70% on the top 3
    strict = judged(TEMPLATE, evidence=evidence, main_variants=1, stable_share=0.8)
    assert "the top 1 variant holds 50.0%" in point(strict, GatePoint.HAPPY_PATH).reason


def test_reasons_in_the_log_that_the_taxonomy_does_not_name_fail_and_are_listed(tmp_path):
    cases = [HAPPY[:2] + [("Ask requester", "Needs info"), "Triage"] + HAPPY[2:]] * 4
    cases += [HAPPY[:3] + [("Hold", "wrong_vendor")] + HAPPY[3:]] * 3 + [HAPPY] * 3
    report = judged(TEMPLATE, evidence=evidence_of(write_log(tmp_path / "log.csv", cases)))
    result = point(report, GatePoint.EXCEPTIONS)
    assert not result.passed and result.from_log
    assert "the log shows reasons the taxonomy does not name: wrong_vendor (3 cases, 43%)" in result.reason
    assert report.evidence.covered_reasons == ["Needs info"]
    assert [(r.reason, r.cases) for r in report.evidence.uncovered_reasons] == [("wrong_vendor", 3)]


def test_rare_unnamed_reasons_do_not_fail_the_gate_but_are_listed(tmp_path):
    cases = [HAPPY[:2] + [("Ask requester", "needs-info"), "Triage"] + HAPPY[2:]] * 25
    cases += [HAPPY[:3] + [("Hold", "typo in form")] + HAPPY[3:]]
    result = point(judged(TEMPLATE, evidence=evidence_of(write_log(tmp_path / "log.csv", cases))),
                   GatePoint.EXCEPTIONS)
    assert result.passed, result.reason
    assert "every top reason in the log is named (rare ones not named: typo in form (1))" in result.reason


def test_reason_codes_are_compared_as_the_taxonomy_writes_them():
    assert reason_code("Needs info") == reason_code("needs-info") == reason_code("NEEDS_INFO ") == "needs_info"


def test_another_process_log_does_not_judge_the_happy_path_and_says_how_many_matched():
    log = SAMPLES / "DomesticDeclarations.xes.gz"  # travel declarations, not service requests
    report = judged(TEMPLATE, evidence=evidence_of(log))
    happy = point(report, GatePoint.HAPPY_PATH)
    assert not happy.passed and happy.from_log
    assert "0 of the log's 14 activities match a state (0% of its steps)" in happy.reason, happy.reason
    assert "does not read as this workflow's" in happy.reason
    assert not report.ready and report.evidence.source == log.name
    assert report.evidence.matched_activities == 0 and report.evidence.activities == 14


def test_a_log_whose_activities_match_the_states_is_judged_and_says_how_many_matched(tmp_path):
    cases = [HAPPY] * 8 + [HAPPY[:2] + ["Unrelated step"] + HAPPY[2:]] * 2
    happy = point(judged(TEMPLATE, evidence=evidence_of(write_log(tmp_path / "log.csv", cases))), GatePoint.HAPPY_PATH)
    assert happy.passed and happy.from_log
    assert "4 of the log's 5 activities match a state (95% of its steps)" in happy.reason, happy.reason


def test_the_report_round_trips_through_json_with_its_verdict(tmp_path):
    report = judged(edited_template(tmp_path, without_section("fallback")))
    text = report.model_dump_json()
    assert re.search(r'"verdict":\s*"not ready"', text)
    again = ReadinessReport.model_validate_json(text)
    assert again.points == report.points and not again.ready
