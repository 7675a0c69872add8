"""Impact against effort: factor scores with their derivations, the 2x2, and the offline HTML page."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from lxml import etree, html

from backoffice import read_log
from backoffice.definitions import load_definition
from backoffice.definitions.priority import (PortfolioItem, PriorityReport, Quadrant, WorkflowPriority, prioritize,
                                             score, score_workflow)
from backoffice.definitions.priority_html import render_priority_html
from backoffice.mapping import analyze

from .workflow_fixtures import TEMPLATE, workflow_yaml, write_log

SAMPLES = Path(__file__).resolve().parents[2] / "src" / "backoffice" / "samples"
BIG = dict(systems=6, reasons=6, returning=4, required_fields=16, roles=7)


@pytest.fixture
def portfolio(tmp_path: Path):
    """Write definitions (id -> keyword arguments of workflow_yaml) and return them as portfolio items."""
    def write(**workflows: dict) -> list[PortfolioItem]:
        items = []
        for workflow_id, options in workflows.items():
            path = tmp_path / f"{workflow_id}.yaml"
            path.write_text(workflow_yaml(workflow_id, **options), encoding="utf-8")
            items.append(PortfolioItem(load_definition(path), source=path))
        return items
    return write


def factor(workflow: WorkflowPriority, name: str):
    (found,) = [f for f in workflow.factors if f.name == name]
    return found


def test_a_score_counts_the_bounds_a_value_reaches():
    scale = (20, 100, 500, 2000)
    assert [score(value, scale) for value in (0, 19.9, 20, 99, 100, 499, 500, 1999, 2000, 10**6)] == \
        [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_the_four_quadrants_place_constructed_workflows(portfolio):
    report = prioritize(portfolio(
        quick=dict(risk=["finance", "access"]),
        major=dict(risk=["finance", "access", "compliance"], controls=["fraud"], **BIG),
        filler=dict(),
        avoid=dict(**BIG),
    ))
    placed = {w.workflow: (w.quadrant, w.impact, w.effort) for w in report.workflows}
    assert placed == {"quick": (Quadrant.QUICK_WIN, 3.0, 1.0), "major": (Quadrant.MAJOR_PROJECT, 5.0, 5.0),
                      "filler": (Quadrant.FILL_IN, 1.0, 1.0), "avoid": (Quadrant.AVOID, 1.0, 5.0)}
    assert [w.workflow for w in report.workflows] == ["quick", "major", "filler", "avoid"]
    assert all(w.ready for w in report.workflows)


def test_each_effort_factor_says_how_it_was_derived(portfolio):
    (item,) = portfolio(big=dict(**BIG))
    workflow = score_workflow(item.definition, source=item.source)
    assert factor(workflow, "systems to integrate").derivation.startswith("6 systems: system-1, system-2")
    assert factor(workflow, "exception complexity").derivation == "6 exception reasons, 4 sending the case back"
    assert factor(workflow, "data cleanup").derivation == "16 required of 17 input fields, from inline fields"
    assert factor(workflow, "change management").derivation.startswith("7 roles involved: role-1, role-2")
    assert [f.score for f in workflow.effort_factors] == [5, 5, 5, 5]


def test_compliance_weight_counts_risk_tags_and_control_reasons_once_each(portfolio):
    (item,) = portfolio(risky=dict(risk=["finance"], controls=["payment", "legal"]))
    weight = factor(score_workflow(item.definition, source=item.source), "compliance weight")
    assert weight.score == 3 and weight.value == 2
    assert weight.derivation == "2 risks (finance, legal) from change risk tags finance and 2 controls (payment, legal)"


def test_without_a_log_volume_cycle_time_and_exception_rate_are_unknown_and_impact_rests_on_the_rest(portfolio):
    (item,) = portfolio(plain=dict(risk=["access"]))
    workflow = score_workflow(item.definition, source=item.source)
    unknown = [f for f in workflow.impact_factors if f.score is None]
    assert [f.name for f in unknown] == ["volume", "cycle time", "exception rate"]
    assert all(f.derivation.startswith("unknown: no log") for f in unknown)
    assert workflow.known_impact_factors == 1 and workflow.impact == 2.0 and workflow.cases_per_month is None


def test_a_busy_slow_log_with_many_exceptions_lifts_a_fill_in_to_a_quick_win(portfolio, tmp_path):
    (item,) = portfolio(busy=dict())
    # 120 cases started 2 hours apart, each taking 9 days (22 days of log), a third with an exception reason.
    # Its activities are the workflow's states (new, work, done), so the gate judges the log.
    own = ["New", "Work", "Review", "Done"]
    cases = [own[:2] + ([("Ask requester", "needs_info")] if n % 3 == 0 else []) + own[2:] for n in range(120)]
    log = write_log(tmp_path / "busy.csv", cases, case_gap=timedelta(hours=2), step=timedelta(days=3))
    evidence = analyze(read_log(log))
    before = score_workflow(item.definition, source=item.source)
    after = score_workflow(item.definition, source=item.source, evidence=evidence)
    assert before.quadrant is Quadrant.FILL_IN and after.quadrant is Quadrant.QUICK_WIN
    volume, cycle, exceptions = (factor(after, name) for name in ("volume", "cycle time", "exception rate"))
    assert volume.score == 3 and volume.derivation == "168 cases a month (120 cases over 22 days of log)"
    assert cycle.score == 4 and cycle.derivation.startswith("median 9.0 days")
    assert exceptions.score == 4 and exceptions.derivation.startswith("33.3% of cases carry an exception reason")
    assert after.log == log.name and after.known_impact_factors == 4
    # The same evidence judges the gate: the log's needs_info is no reason of this taxonomy.
    assert after.fix_foundations_first and after.readiness_failures[0].startswith("5. Top exceptions named")


def test_the_real_declarations_log_gives_volume_cycle_time_and_rework_as_exception_rate():
    evidence = analyze(read_log(SAMPLES / "DomesticDeclarations.xes.gz"))
    workflow = score_workflow(load_definition(TEMPLATE), source=TEMPLATE, evidence=evidence)
    assert factor(workflow, "volume").derivation == "433 cases a month (10,357 cases over 23.9 months of log)"
    assert factor(workflow, "cycle time").score == 4
    assert "the log has no reason column: rework stands in" in factor(workflow, "exception rate").derivation


def test_a_workflow_failing_the_gate_is_marked_fix_foundations_first_and_ranked_after_ready_ones(portfolio):
    report = prioritize(portfolio(shaky=dict(risk=["finance", "access"], fallback=False),
                                  solid=dict(risk=["finance", "access"])))
    shaky, solid = (next(w for w in report.workflows if w.workflow == name) for name in ("shaky", "solid"))
    assert shaky.quadrant is solid.quadrant is Quadrant.QUICK_WIN
    assert shaky.fix_foundations_first and not solid.fix_foundations_first
    assert shaky.readiness_failures == ["8. Manual fallback: no manual fallback; expected what people do, and in "
                                        "which queue, when automation is down"]
    assert [w.workflow for w in report.workflows] == ["solid", "shaky"]


def test_data_cleanup_reads_the_required_fields_of_a_contract(tmp_path):
    contracts = tmp_path / "contracts"
    contracts.mkdir()
    source = TEMPLATE.parent / "contracts" / "purchase-request.v1.yaml"
    (contracts / source.name).write_text(source.read_text())
    text = workflow_yaml("bought").replace("proof_of_completion: {field: note}",
                                           "proof_of_completion: {record: order placed, system: system-1}")
    text = re.sub(r"inputs:\n  fields:\n(    .*\n)+", "inputs: {contract: contracts/purchase-request.v1.yaml}\n", text)
    path = tmp_path / "bought.yaml"
    path.write_text(text)
    cleanup = factor(score_workflow(load_definition(path), source=path), "data cleanup")
    assert cleanup.score == 4
    assert cleanup.derivation == "15 required of 19 input fields, from contract purchase-request.v1"


def test_the_report_round_trips_through_json(portfolio):
    report = prioritize(portfolio(one=dict(), two=dict(**BIG)))
    text = report.model_dump_json()
    assert '"fix_foundations_first":false' in text.replace(" ", "")
    again = PriorityReport.model_validate_json(text)
    assert [w.workflow for w in again.workflows] == ["one", "two"] and again.workflows[0].factors == \
        report.workflows[0].factors


# The HTML page

def test_the_html_page_is_offline(portfolio):
    text = render_priority_html(prioritize(portfolio(quick=dict(risk=["finance", "access"]), slow=dict(**BIG))))
    lowered = text.lower()
    assert "<script" not in lowered and "<link" not in lowered and "@import" not in lowered
    assert not re.search(r"""(src|href)\s*=""", text, re.IGNORECASE)
    assert set(re.findall(r"https?://[^\s\"'<>)]+", text)) <= {"http://www.w3.org/2000/svg"}


def test_the_html_2x2_labels_every_bubble_and_names_the_quadrants(portfolio):
    report = prioritize(portfolio(
        quick=dict(risk=["finance", "access"]), major=dict(risk=["finance", "access", "compliance"], **BIG),
        filler=dict(), avoid=dict(**BIG), twin=dict(), shaky=dict(fallback=False)))
    document = html.fromstring(render_priority_html(report))
    (svg,) = document.xpath("//section[@aria-label='Impact and effort']//svg")
    svg_text = etree.tostring(svg, encoding="unicode")
    labels = [t.text for t in svg.xpath(".//*[local-name()='text'][@class='label']")]
    assert sorted(labels) == sorted(w.workflow for w in report.workflows)
    names = [t.text for t in svg.xpath(".//*[local-name()='text'][@class='quadrant-name']")]
    assert names == ["quick win", "major project", "fill-in", "avoid for now"]
    assert len(svg.xpath(".//*[local-name()='circle'][contains(@class, 'bubble')]")) == 6
    assert len(svg.xpath(".//*[local-name()='circle'][@class='foundations']")) == 1
    # filler, twin and shaky have the same scores: they are fanned out, not drawn on top of each other.
    centres = {(c.get("cx"), c.get("cy")) for c in svg.xpath(".//*[local-name()='circle'][contains(@class, 'bubble')]")}
    assert len(centres) == 6 and "quick win" in svg_text


def test_the_html_table_shows_each_factor_and_the_foundations_to_fix(portfolio):
    report = prioritize(portfolio(shaky=dict(fallback=False), solid=dict(risk=["finance"])))
    document = html.fromstring(render_priority_html(report))
    (table,) = document.xpath("//section[@aria-label='Ranked workflows']//table")
    rows = table.xpath(".//tbody/tr")
    assert len(rows) == 2
    first = rows[0].text_content()
    assert "solid v1" in first and "fill-in" in first and "1 risk (finance) from change risk tags finance" in first
    assert "unknown: no log" in first and "1 of 4 known" in first
    (foundations,) = document.xpath("//section[@aria-label='Fix foundations first']")
    assert "8. Manual fallback: no manual fallback" in foundations.text_content()
    assert "fix foundations first" in rows[1].text_content()
