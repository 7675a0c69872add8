"""The public form's opt-in: `public_intake` in a definition, checked by `check`, and a weakening change in the control diff."""

from __future__ import annotations

from backoffice.definitions import LIBRARY
from backoffice.definitions.control_diff import ControlChangeKind, diff_controls
from backoffice.definitions.loader import check_definition, load_definition

SOURCE = (LIBRARY / "service-request.yaml").read_text()
OPT_IN = """public_intake:
  service_account: service-request-public-intake
  contact_field: requester_email
  per_address_per_hour: 5
  daily_cap: 200
  fields: [summary, description, category, urgency, requester_email, department]
"""


def _written(tmp_path, text: str, name: str = "service-request.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_the_library_service_request_opts_in_and_passes_check():
    assert OPT_IN in SOURCE
    assert check_definition(LIBRARY / "service-request.yaml").ok


def test_a_contact_field_that_is_not_an_input_is_an_error_at_its_line(tmp_path):
    path = _written(tmp_path, SOURCE.replace("contact_field: requester_email", "contact_field: email"))
    [problem] = check_definition(path).errors
    assert problem.code == "unknown-data-field" and "'email'" in problem.message
    assert problem.line == SOURCE.splitlines().index("  contact_field: requester_email") + 1


def test_an_optional_contact_field_is_warned_of(tmp_path):
    path = _written(tmp_path, SOURCE.replace("contact_field: requester_email", "contact_field: department"))
    report = check_definition(path)
    assert report.ok and [problem.code for problem in report.warnings] == ["optional-contact-field"]


def test_opening_the_public_form_weakens_a_control_and_closing_it_tightens(tmp_path):
    closed = load_definition(_written(tmp_path, SOURCE.replace(OPT_IN, ""), "closed.yaml"))
    opened = load_definition(LIBRARY / "service-request.yaml")
    [change] = diff_controls(closed, opened).changes
    assert change.kind is ControlChangeKind.PUBLIC_INTAKE and change.weakens
    assert "outside the company" in change.reason
    [change] = diff_controls(opened, closed).changes
    assert change.kind is ControlChangeKind.PUBLIC_INTAKE and not change.weakens


def test_raising_a_limit_or_changing_the_account_weakens_and_lowering_a_limit_does_not(tmp_path):
    opened = load_definition(LIBRARY / "service-request.yaml")
    raised = load_definition(_written(tmp_path, SOURCE.replace("daily_cap: 200", "daily_cap: 900"), "raised.yaml"))
    assert [c.weakens for c in diff_controls(opened, raised).changes] == [True]
    other = load_definition(_written(tmp_path, SOURCE.replace("service_account: service-request-public-intake",
                                                              "service_account: someone-else"), "other.yaml"))
    assert [c.where for c in diff_controls(opened, other).weakening] == ["public_intake.service_account"]
    lowered = load_definition(_written(tmp_path, SOURCE.replace("daily_cap: 200", "daily_cap: 20"), "lower.yaml"))
    assert diff_controls(opened, lowered).changes == ()


FIELDS = "  fields: [summary, description, category, urgency, requester_email, department]"


def test_the_fields_offered_must_be_inputs_and_hold_every_required_one_and_the_contact(tmp_path):
    line = SOURCE.splitlines().index(FIELDS) + 1
    unknown = check_definition(_written(tmp_path, SOURCE.replace(FIELDS, FIELDS.replace("department", "dept"))))
    assert [(p.code, p.line) for p in unknown.errors] == [("unknown-data-field", line)]
    assert "'dept'" in unknown.errors[0].message
    short = check_definition(_written(tmp_path, SOURCE.replace(FIELDS, "  fields: [summary, department]")))
    assert [p.code for p in short.errors] == ["public-form-misses-required", "public-form-misses-contact"]
    assert "'description', 'category', 'urgency', 'requester_email'" in short.errors[0].message


def test_offering_outsiders_more_fields_weakens_and_fewer_does_not(tmp_path):
    opened = load_definition(LIBRARY / "service-request.yaml")
    more = load_definition(_written(tmp_path, SOURCE.replace("department]", "department, resolution_note]"), "m.yaml"))
    [change] = diff_controls(opened, more).changes
    assert (change.where, change.new, change.weakens) == ("public_intake.fields", "resolution_note", True)
    every = load_definition(_written(tmp_path, SOURCE.replace(FIELDS + "\n", ""), "every.yaml"))
    assert [(c.new, c.weakens) for c in diff_controls(opened, every).changes] == [("every input field", True)]
    fewer = load_definition(_written(tmp_path, SOURCE.replace(", department]", "]"), "fewer.yaml"))
    assert diff_controls(opened, fewer).changes == ()
