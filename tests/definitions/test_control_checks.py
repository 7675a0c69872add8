"""`check` on the controls of a definition: immutable fields that exist, and exceptions that would pass a control."""

from __future__ import annotations

from pathlib import Path

from backoffice.definitions import check_definition

SPEND = Path(__file__).parents[1] / "security" / "spend-approval.yaml"


def test_an_exception_that_would_take_a_case_past_its_approval_is_flagged(tmp_path):
    report = check_definition(SPEND)
    [warning] = [p for p in report.warnings if p.code == "exception-passes-control"]
    assert "exception 'waived' raised in 'approve-large' would take the case past its approval" in warning.message
    assert warning.line == SPEND.read_text().splitlines().index("    raised_in: [approve-large]") + 1


def test_an_exception_that_sends_the_case_back_is_not_flagged():
    report = check_definition(SPEND)
    assert not [p for p in report.problems if "needs_info" in p.message]


def test_immutable_fields_must_be_input_fields(tmp_path):
    path = tmp_path / "spend.yaml"
    path.write_text(SPEND.read_text().replace("immutable_after_intake: [amount]", "immutable_after_intake: [amuont]"))
    report = check_definition(path)
    [error] = [p for p in report.errors if p.code == "unknown-data-field"]
    assert "immutable_after_intake names 'amuont', which is not an input field" in error.message
    assert "amount" in (error.expected or "")
