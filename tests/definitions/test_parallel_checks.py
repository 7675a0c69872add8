"""`check` on parallel work: each mistake in a parallel state, a checklist or a sub-case step is named with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from backoffice.definitions import check_definition

ENGINE = Path(__file__).resolve().parents[1] / "engine"


def checked(tmp_path: Path, source: str, *replacements: tuple[str, str]):
    text = (ENGINE / source).read_text()
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / source
    path.write_text(text)
    if source == "documents-and-vendor.yaml":
        (tmp_path / "vendor-check.yaml").write_text((ENGINE / "vendor-check.yaml").read_text())
    return check_definition(path), text


def line_of(text: str, fragment: str) -> int:
    return text[:text.index(fragment)].count("\n") + 1


def test_the_examples_pass(tmp_path):
    assert checked(tmp_path, "parallel-work.yaml")[0].errors == ()
    assert checked(tmp_path, "documents-and-vendor.yaml")[0].errors == ()


@pytest.mark.parametrize("replacement, code, fragment", [
    (("      payroll: setup-payroll", "      payroll: setup-payrol"), "undefined-state", "payroll: setup-payrol"),
    (("  - {from: order-laptop, to: provision, roles: [it]}", "  - {from: order-laptop, to: confirm, roles: [it]}"),
     "branch-never-joins", "equipment: {start"),
    (("    join: all", "    join: 4"), "join-beyond-branches", "join: 4"),
    (("      access: approve-access", "      access: done"), "bad-branch-start", "access: done"),
    (("  - {from: provision, to: confirm}\n", ""), "no-way-after-join", "  provision:"),
])
def test_a_mistake_in_a_parallel_state_is_an_error_on_its_line(tmp_path, replacement, code, fragment):
    report, text = checked(tmp_path, "parallel-work.yaml", replacement)
    found = [problem for problem in report.errors if problem.code == code]
    assert found, [str(p) for p in report.errors]
    assert found[0].line == line_of(text, fragment)


def test_a_parallel_state_without_branches_is_refused_with_what_is_expected(tmp_path):
    report, _ = checked(tmp_path, "parallel-work.yaml", ("    branches:\n      access: approve-access\n"
                                                         "      equipment: {start: order-laptop, sla: 2d}\n"
                                                         "      payroll: setup-payroll\n", ""))
    assert any("opens no branches; expected branches:" in str(problem) for problem in report.errors)


def test_a_join_on_a_state_that_is_not_parallel_is_refused(tmp_path):
    report, _ = checked(tmp_path, "parallel-work.yaml", ("  triage: {kind: human_task, role: clerk}",
                                                         "  triage: {kind: human_task, role: clerk, join: all}"))
    assert any("join belongs to a parallel state, not a human_task one" in str(p) for p in report.errors)


def test_a_checklist_item_must_be_a_persons_state_and_required_items_must_be_items(tmp_path):
    report, _ = checked(tmp_path, "documents-and-vendor.yaml",
                        ("  bank-details: {kind: human_task, role: clerk}", "  bank-details: {kind: waiting, role: clerk}"),
                        ("required: [sign-contract, copy-passport]", "required: [sign-contract, passport]"))
    codes = {problem.code for problem in report.errors}
    assert {"checklist-item-not-human", "required-not-an-item"} <= codes


def test_a_sub_case_of_an_unknown_workflow_is_an_error_and_a_warning_in_a_draft(tmp_path):
    report, text = checked(tmp_path, "documents-and-vendor.yaml", ("workflow: vendor-check", "workflow: vendor-chek"))
    [problem] = [p for p in report.errors if p.code == "unknown-subcase-workflow"]
    assert problem.line == line_of(text, "workflow: vendor-chek") and "did you mean 'vendor-check'" in str(problem)
    draft, _ = checked(tmp_path, "documents-and-vendor.yaml", ("workflow: vendor-check", "workflow: vendor-chek"),
                       ("version: 1\n", "version: 1\nstatus: draft\n"))
    assert not [p for p in draft.errors if p.code == "unknown-subcase-workflow"]
    assert [p for p in draft.warnings if p.code == "unknown-subcase-workflow"]
