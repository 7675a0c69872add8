"""`backoffice draft`, `conform` and `docs` as a user runs them: output, files, exit statuses, one-line errors."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from backoffice.definitions import LIBRARY

SERVICE_REQUEST = LIBRARY / "service-request.yaml"
HEADER = "case_id,activity,timestamp,resource,role\n"


def run(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "backoffice.cli.app", *map(str, args)], capture_output=True,
                          text=True, timeout=300)


def one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def service_log(tmp_path: Path) -> Path:
    """Three service requests: one by the book, one resolved without work, one too slow (Amsterdam time)."""
    rows = [
        ("ok", "New", "2024-03-04T09:00:00+01:00"), ("ok", "Triage", "2024-03-04T09:30:00+01:00"),
        ("ok", "In progress", "2024-03-04T10:00:00+01:00"), ("ok", "Done", "2024-03-04T11:00:00+01:00"),
        ("skip", "New", "2024-03-04T09:00:00+01:00"), ("skip", "Triage", "2024-03-04T09:30:00+01:00"),
        ("skip", "Done", "2024-03-04T10:00:00+01:00"),
        ("slow", "New", "2024-03-04T09:00:00+01:00"), ("slow", "Triage", "2024-03-04T09:30:00+01:00"),
        ("slow", "In progress", "2024-03-04T10:00:00+01:00"), ("slow", "Done", "2024-03-11T10:00:00+01:00"),
    ]
    path = tmp_path / "requests.csv"
    path.write_text(HEADER + "".join(f"{case},{activity},{moment},p-{case}-{k},desk\n"
                                     for k, (case, activity, moment) in enumerate(rows)))
    return path


def claims_log(tmp_path: Path) -> Path:
    rows = []
    for n in range(12):
        steps = ["Submit claim", "Approve claim", "Pay claim"] if n % 4 else ["Submit claim", "Pay claim"]
        for k, activity in enumerate(steps):
            role = {"Submit claim": "employee", "Approve claim": "manager", "Pay claim": "finance"}[activity]
            rows.append(f"c{n},{activity},2024-03-{4 + n % 5:02d}T{9 + k:02d}:00:00Z,{role}-{n},{role}\n")
    path = tmp_path / "claims.csv"
    path.write_text(HEADER + "".join(rows))
    return path


# draft


def test_draft_writes_a_definition_that_check_fails_only_on_owner_and_trigger(tmp_path):
    out = tmp_path / "claims.yaml"
    result = run("draft", claims_log(tmp_path), "-o", out)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "drafted claims: 5 states, 5 transitions, 3 roles, 0 exception reasons",
        "from the 2 most frequent variants, covering 100.0% of 12 cases",
        f"wrote {out}; next: fill in the owner and the trigger, settle each TODO, then: backoffice check {out}"]
    checked = run("check", out)
    assert checked.returncode == 2
    errors = [line for line in checked.stdout.splitlines() if ": error: " in line]
    assert [line.split(": error: ")[1].split()[0].rstrip(":") for line in errors] == [
        "owner.role", "trigger.event", "trigger.system"]
    out.write_text(out.read_text().replace("{role: TBD}", "{role: manager}")
                   .replace("{event: '', system: ''}", "{event: claim.submitted, system: source-system}"))
    assert run("check", out).returncode == 0


def test_draft_without_an_output_prints_the_yaml_and_keeps_the_summary_apart(tmp_path):
    result = run("draft", claims_log(tmp_path), "--id", "expense-claim", "--coverage", "0.7")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("# DRAFT made by `backoffice draft` from claims.csv")
    assert "id: expense-claim\n" in result.stdout
    assert result.stderr.splitlines() == [
        "drafted expense-claim: 5 states, 4 transitions, 3 roles, 0 exception reasons",
        "from the most frequent variant, covering 75.0% of 12 cases"]


def test_draft_does_not_overwrite_a_file_unless_forced(tmp_path):
    out = tmp_path / "claims.yaml"
    out.write_text("my edited definition")
    line = one_line_error(run("draft", claims_log(tmp_path), "-o", out))
    assert "it exists; use --force to replace it" in line
    assert out.read_text() == "my edited definition"
    assert run("draft", claims_log(tmp_path), "-o", out, "--force").returncode == 0
    assert out.read_text().startswith("# DRAFT")


def test_draft_refuses_bad_options_and_missing_logs_in_one_line(tmp_path):
    assert "--coverage" in one_line_error(run("draft", claims_log(tmp_path), "--coverage", "2"))
    assert "cannot open the file" in one_line_error(run("draft", tmp_path / "missing.csv"))
    assert "no case_id column" in one_line_error(run("draft", claims_log(tmp_path), "--case", "ticket"))


# conform


def test_conform_names_each_deviation_with_its_cases(tmp_path):
    result = run("conform", service_log(tmp_path), SERVICE_REQUEST)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"requests.csv against service-request version 1 ({SERVICE_REQUEST})",
        "3 cases: 1 conform (33.3%), 2 do not",
        "4 activities: 4 matched to states",
        "transition not allowed: 1 case",
        "  1 case   triage -> done; e.g. skip",
        "resolution SLA missed: 1 case",
        "  1 case   over 3d of business time; e.g. slow"]


def test_conform_writes_every_case_to_json_and_strict_fails_on_a_deviation(tmp_path):
    out = tmp_path / "report.json"
    result = run("conform", service_log(tmp_path), SERVICE_REQUEST, "--json", out, "--strict")
    assert result.returncode == 1, result.stderr
    report = json.loads(out.read_text())
    assert (report["cases"], report["conforming"]) == (3, 1)
    assert {(d["kind"], tuple(d["case_ids"])) for d in report["deviations"]} == {
        ("disallowed_transition", ("skip",)), ("sla_resolution", ("slow",))}
    assert result.stdout.splitlines()[-1] == f"JSON: {out}"


def test_conform_maps_activities_from_a_file(tmp_path):
    log = tmp_path / "renamed.csv"
    log.write_text(service_log(tmp_path).read_text().replace(",New,", ",Ticket opened,"))
    mapping = tmp_path / "activities.yaml"
    mapping.write_text("Ticket opened: new\n")
    without = run("conform", log, SERVICE_REQUEST)
    assert "activity not in the definition: 3 cases" in without.stdout
    result = run("conform", log, SERVICE_REQUEST, "--activities", mapping)
    assert "4 activities: 4 matched to states" in result.stdout
    mapping.write_text("Ticket opened: neww\n")
    assert "did you mean 'new'" in one_line_error(run("conform", log, SERVICE_REQUEST, "--activities", mapping))
    mapping.write_text("[a list]\n")
    assert "not a mapping" in one_line_error(run("conform", log, SERVICE_REQUEST, "--activities", mapping))


def test_conform_on_a_broken_definition_is_one_line_naming_the_first_problem(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text(SERVICE_REQUEST.read_text().replace("to: triage, name: accept", "to: triag, name: accept")
                      .replace("owner: {role: service-desk-lead}", "owner: {role: the team}"))
    line = one_line_error(run("conform", service_log(tmp_path), broken))
    assert line.startswith(f"error: {broken}:12:15: error: owner.role: 'the team' is nobody in particular")
    assert re.search(rf"\(and \d+ more problems; see them all with: backoffice check {re.escape(str(broken))}\)$", line)


def test_conform_sets_aside_a_shared_name_and_says_so(tmp_path):
    log = tmp_path / "shared.csv"
    log.write_text(claims_log(tmp_path).read_text().replace("manager-5,", "employee-5,"))
    definition = tmp_path / "claims.yaml"
    run("draft", claims_log(tmp_path), "-o", definition)
    definition.write_text(definition.read_text().replace("{role: TBD}", "{role: manager}")
                          .replace("{event: '', system: ''}", "{event: claim.submitted, system: source-system}"))
    judged = run("conform", log, definition)
    assert "separation of duties breached: 1 case" in judged.stdout
    assert "note: the requester of a case is whoever did its first event" in judged.stdout
    shared = run("conform", log, definition, "--shared-resource", "employee-5")
    assert "separation of duties breached" not in shared.stdout
    assert "separation of duties is not judged on 'employee-5', a name many people share (named with " \
           "--shared-resource)" in shared.stdout


def test_conform_on_the_real_travel_declarations(tmp_path, shared_logs):
    log = shared_logs / "DomesticDeclarations.xes.gz"
    definition = tmp_path / "declarations.yaml"
    assert run("draft", log, "-o", definition).returncode == 0
    definition.write_text(definition.read_text().replace("{role: TBD}", "{role: supervisor}")
                          .replace("{event: '', system: ''}", "{event: declaration.submitted, system: source-system}"))
    result = run("conform", log, definition, "--json", tmp_path / "report.json")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1].startswith("10,357 cases: ")
    assert "separation of duties is not judged on 'STAFF MEMBER', a name many people share (acts as " \
           "ADMINISTRATION, BUDGET OWNER, EMPLOYEE, MISSING, PRE_APPROVER, SUPERVISOR in 10,357 cases)" in lines
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["cases"] == 10_357 and 0 < report["conforming"] < 10_357
    assert report["shared_resources"][0]["name"] == "STAFF MEMBER"


# docs


def test_docs_writes_the_pages_of_a_folder(tmp_path):
    out = tmp_path / "site"
    result = run("docs", LIBRARY, "-o", out)
    assert result.returncode == 0, result.stderr
    workflows = len(list(LIBRARY.glob("*.yaml")))
    assert result.stdout.splitlines()[0] == (f"wrote {workflows} workflows to {out}: index.html, index.md, and per "
                                             "workflow a .html page, a .md page and its .svg diagram")
    assert sorted(p.name for p in out.iterdir() if p.name.startswith("service-request")) == [
        "service-request.html", "service-request.md", "service-request.svg"]
    assert (out / "index.html").read_text().count("<tr>") == workflows + 1


def test_docs_of_a_folder_with_a_broken_definition_writes_nothing(tmp_path):
    folder = tmp_path / "definitions"
    folder.mkdir()
    shutil.copy(SERVICE_REQUEST, folder)
    (folder / "broken.yaml").write_text("id: [\n")
    out = tmp_path / "site"
    line = one_line_error(run("docs", folder, "-o", out))
    assert line.startswith(f"error: {folder / 'broken.yaml'}:")
    assert not out.exists()


def test_docs_refuses_a_missing_folder_and_an_output_that_is_a_file(tmp_path):
    assert "not a folder" in one_line_error(run("docs", tmp_path / "nowhere"))
    target = tmp_path / "file.txt"
    target.write_text("x")
    assert "it is a file" in one_line_error(run("docs", LIBRARY, "-o", target))


@pytest.mark.parametrize("command", ["draft", "conform", "docs"])
def test_each_command_has_help(command):
    result = run(command, "--help")
    assert result.returncode == 0 and "Usage" in result.stdout


def test_an_ocel_log_is_drafted_conformed_and_judged_by_the_object_type_given(tmp_path):
    # The reader asks for --object-type on an object-centric log: each command that reads one offers it.
    log = Path(__file__).resolve().parents[1] / "data" / "ocel20_example.jsonocel"
    asked = one_line_error(run("draft", log))
    assert "expected --object-type, one of: Invoice, Payment, Purchase Order, Purchase Requisition" in asked
    out = tmp_path / "orders.yaml"
    drafted = run("draft", log, "--object-type", "Purchase Order", "-o", out)
    assert drafted.returncode == 0, drafted.stderr
    assert "of 2 cases" in drafted.stdout
    role = re.search(r"^roles:\n  ([\w.-]+):", out.read_text(), re.M).group(1)
    out.write_text(out.read_text().replace("{role: TBD}", f"{{role: {role}}}")
                   .replace("{event: '', system: ''}", "{event: order.created, system: source-system}"))
    conformed = run("conform", log, out, "--object-type", "Purchase Order")
    assert conformed.returncode == 0, conformed.stderr
    assert re.search(r"^2 cases: \d conform", conformed.stdout, re.M), conformed.stdout
    judged = run("readiness", out, "--log", log, "--object-type", "Purchase Order")
    assert judged.returncode in (0, 1) and "Traceback" not in judged.stderr, judged.stderr
    assert "--log LOG with it" in one_line_error(run("readiness", out, "--object-type", "Purchase Order"))
