"""`backoffice readiness` and `backoffice prioritize` as a user runs them: tables, files, exit statuses 0, 1 and 2."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from backoffice.definitions import LIBRARY

TEMPLATE = LIBRARY / "service-request.yaml"
DECLARATIONS = Path(__file__).resolve().parents[2] / "src" / "backoffice" / "samples" / "DomesticDeclarations.xes.gz"


def run(*args: str) -> subprocess.CompletedProcess:
    # A wide terminal keeps Rich from wrapping the reasons the tests look for.
    return subprocess.run([sys.executable, "-m", "backoffice.cli.app", *args], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "COLUMNS": "250"})


def template_copy(folder: Path, *edits: tuple[str, str], workflow_id: str = "service-request") -> Path:
    text = TEMPLATE.read_text().replace("id: service-request", f"id: {workflow_id}", 1)
    for old, new in edits:
        assert old in text
        text = text.replace(old, new, 1)
    path = folder / f"{workflow_id}.yaml"
    path.write_text(text)
    return path


def without_fallback(folder: Path, workflow_id: str = "service-request") -> Path:
    """A copy of the template without its fallback: it passes check, and fails point 8 of the gate."""
    path = template_copy(folder, workflow_id=workflow_id)
    text = path.read_text()
    start = text.index("\nfallback:")
    end = text.index("\nmonitoring:")
    path.write_text(text[:start] + text[end:])
    return path


def scattered_log(path: Path) -> Path:
    """A CSV log of ten cases, each on a path of its own, one carrying a reason the template does not name."""
    start = datetime(2024, 3, 4, 9, tzinfo=timezone.utc)
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["case_id", "activity", "timestamp", "reason"])
        for case in range(10):
            steps = ["New", f"Detour {case}", "Triage", "In progress", "Done"]  # the template's states, and a detour
            for position, activity in enumerate(steps):
                reason = "wrong_vendor" if case == 0 and position == 1 else ""
                writer.writerow([f"C{case}", activity, (start + timedelta(hours=case + position)).isoformat(), reason])
    return path


# readiness

def test_a_ready_definition_prints_ten_passing_points_and_exits_0():
    result = run("readiness", str(TEMPLATE))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Readiness of service-request v1: Internal service request" in result.stdout
    assert result.stdout.count(" pass ") == 10
    assert result.stdout.strip().endswith("ready: all 10 points pass")


def test_a_definition_that_is_not_ready_exits_1_and_names_the_failing_points(tmp_path):
    result = run("readiness", str(without_fallback(tmp_path)))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL" in result.stdout and "no manual fallback" in result.stdout
    assert "not ready: 1 of 10 points fail (8)" in result.stdout
    assert result.stderr == ""


def test_the_help_says_not_ready_is_a_verdict_and_not_an_error():
    result = run("readiness", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "1 when it is not (a verdict, not an error)" in text and "2 for a user error" in text


def test_a_definition_that_fails_check_is_reported_with_every_error_and_exits_2(tmp_path):
    path = template_copy(tmp_path, ("{from: blocked, to: in-progress,", "{from: blocked, to: in-progres,"),
                         ("target: {role: service-desk-lead}}", "}"))
    result = run("readiness", str(path))
    assert result.returncode == 2
    assert f"{path}: 2 problems in the definition" in result.stderr
    assert re.search(re.escape(str(path)) + r":\d+:\d+: error: .*'in-progres'", result.stderr)
    assert "targets nothing" in result.stderr and "Traceback" not in result.stderr and result.stdout == ""


def test_a_missing_definition_or_log_is_a_user_error(tmp_path):
    missing = run("readiness", str(tmp_path / "nowhere.yaml"))
    assert missing.returncode == 2 and "cannot open the file" in missing.stderr
    bad_log = run("readiness", str(TEMPLATE), "--log", str(tmp_path / "nowhere.csv"))
    assert bad_log.returncode == 2 and "nowhere.csv: cannot open the file" in bad_log.stderr
    assert "Traceback" not in missing.stderr + bad_log.stderr


def test_with_a_log_the_evidence_decides_the_happy_path_and_the_exceptions(tmp_path):
    result = run("readiness", str(TEMPLATE), "--log", str(scattered_log(tmp_path / "log.csv")),
                 "--json", str(tmp_path / "readiness.json"))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "the top 3 variants hold 30.0% of 10 cases (10 variants in all), under the 60%" in result.stdout
    assert "the log shows reasons the taxonomy does not name: wrong_vendor (1 case, 100%)" in result.stdout
    assert "not ready: 2 of 10 points fail (4, 5)" in result.stdout
    report = json.loads((tmp_path / "readiness.json").read_text())
    assert report["verdict"] == "not ready" and [p["number"] for p in report["points"] if not p["passed"]] == [4, 5]
    assert report["evidence"]["uncovered_reasons"] == [{"reason": "wrong_vendor", "cases": 1, "share": 1.0}]


def test_another_process_log_does_not_pass_the_happy_path_and_the_count_of_matches_is_shown():
    result = run("readiness", str(TEMPLATE), "--log", str(DECLARATIONS))  # travel declarations, not requests
    assert result.returncode == 1, result.stdout + result.stderr
    assert "0 of the log's 14 activities match a state (0% of its steps)" in " ".join(result.stdout.split())
    assert "top 3 variants hold" not in result.stdout


# prioritize

def test_prioritize_ranks_a_folder_shows_every_factor_and_writes_html_and_json(tmp_path):
    folder = tmp_path / "workflows"
    folder.mkdir()
    template_copy(folder)
    without_fallback(folder, "service-request-draft")
    html_path, json_path = tmp_path / "priorities.html", tmp_path / "priorities.json"
    result = run("prioritize", str(folder), "--log", f"service-request={DECLARATIONS}", "--html", str(html_path),
                 "--json", str(json_path))
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "What to automate first" in out and "fix foundations first" in out
    for factor in ("impact: volume", "impact: cycle time", "impact: exception rate", "impact: compliance weight",
                   "effort: systems to integrate", "effort: exception complexity", "effort: data cleanup",
                   "effort: change management"):
        assert out.count(factor) == 2, factor
    assert "433 cases a month (10,357 cases over 23.9 months of log)" in out
    assert "service-request-draft fails 8. Manual fallback: no manual fallback" in out
    page = html_path.read_text()
    assert "<script" not in page and "<link" not in page
    assert set(re.findall(r"https?://[^\s\"'<>)]+", page)) <= {"http://www.w3.org/2000/svg"}
    report = json.loads(json_path.read_text())
    # The declarations log is no service request's: its activities match no state, so the happy path is not
    # judged stable from it, and the workflow has foundations to fix.
    assert [(w["workflow"], w["quadrant"], w["fix_foundations_first"]) for w in report["workflows"]] == [
        ("service-request", "fill-in", True), ("service-request-draft", "fill-in", True)]
    assert f"HTML: {html_path}" in out and f"JSON: {json_path}" in out


def test_a_log_for_an_unknown_workflow_is_refused_with_a_suggestion(tmp_path):
    template_copy(tmp_path)
    result = run("prioritize", str(tmp_path), "--log", f"service-requests={DECLARATIONS}")
    assert result.returncode == 2
    assert "did you mean 'service-request'?" in result.stderr and "Traceback" not in result.stderr


def test_a_log_option_without_an_id_is_refused(tmp_path):
    template_copy(tmp_path)
    result = run("prioritize", str(tmp_path), "--log", str(DECLARATIONS))
    assert result.returncode == 2 and "expected ID=LOG" in result.stderr


def test_a_folder_with_a_broken_definition_lists_its_errors_exits_2_and_writes_nothing(tmp_path):
    folder = tmp_path / "workflows"
    folder.mkdir()
    template_copy(folder)
    broken = template_copy(folder, ("{from: blocked, to: in-progress,", "{from: blocked, to: in-progres,"),
                           workflow_id="broken")
    html_path = tmp_path / "priorities.html"
    result = run("prioritize", str(folder), "--html", str(html_path))
    assert result.returncode == 2
    assert re.search(re.escape(str(broken)) + r":\d+:\d+: error: .*'in-progres'", result.stderr)
    assert "1 of 2 definition files fail `check`" in result.stderr
    assert not html_path.exists() and "Traceback" not in result.stderr


def test_prioritize_needs_a_folder_of_definitions(tmp_path):
    on_a_file = run("prioritize", str(TEMPLATE))
    assert on_a_file.returncode == 2 and "it is a file: use `backoffice readiness FILE`" in on_a_file.stderr
    empty = run("prioritize", str(tmp_path))
    assert empty.returncode == 2 and "expected a folder holding workflow definition files" in empty.stderr
