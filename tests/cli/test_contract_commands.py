"""`backoffice contract` as a user runs it: real processes, real files, exit statuses and what is printed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

LIBRARY = Path(__file__).resolve().parents[2] / "src" / "backoffice" / "definitions" / "library" / "contracts"

CONTRACT = """\
name: expense-claim
version: 1.0.0
description: A claim for money an employee spent on the company's behalf.
producer: expense-app
consumers: [payroll]
freshness: 24h
schema:
  claim_id: {type: string, required: true}
  employee: {type: string, required: true}
  submitted_on: {type: date, required: true}
  currency: {type: string, format: currency, required: true}
  total: {type: number, required: true, minimum: 0}
  category: {type: string, enum: [travel, meals, lodging]}
quality:
  - unique: claim_id
"""

GOOD = {"claim_id": "C-1", "employee": "E1", "submitted_on": "2024-03-01", "currency": "EUR", "total": 12.5,
        "category": "meals"}


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "backoffice.cli.app", "contract", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "COLUMNS": "200"})


@pytest.fixture
def contract(tmp_path) -> Path:
    path = tmp_path / "expense-claim.v1.yaml"
    path.write_text(CONTRACT)
    return path


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


# --- check ---

def test_check_accepts_a_library_contract():
    result = run("check", str(LIBRARY / "supplier-invoice.v1.yaml"))
    assert result.returncode == 0, result.stderr
    assert "supplier-invoice.v1 (version 1.0.0) is a valid contract" in result.stdout
    assert "producer: ap-capture" in result.stdout and "freshness: 1 day" in result.stdout


def test_check_names_the_line_and_column_of_a_mistake(tmp_path):
    path = write(tmp_path, "bad.yaml", CONTRACT.replace("type: number", "type: nubmer"))
    assert_one_line_error(run("check", str(path)), f"{path}, line 12, column 17",
                          "unknown type 'nubmer' (did you mean 'number'?)")


def test_check_lists_every_mistake_at_once(tmp_path):
    path = write(tmp_path, "bad.yaml", CONTRACT.replace("1.0.0", "one").replace("format: currency", "format: money"))
    result = run("check", str(path))
    assert result.returncode == 2 and "2 problems in the contract" in result.stderr
    assert "line 2, column 10" in result.stderr and "line 11, column 36" in result.stderr


def test_check_reports_bad_yaml_with_its_position(tmp_path):
    path = write(tmp_path, "bad.yaml", "name: x\nschema:\n  id: {type: string\n")
    assert_one_line_error(run("check", str(path)), "line 4, column 1", "not valid YAML")


def test_check_reports_a_missing_file(tmp_path):
    assert_one_line_error(run("check", str(tmp_path / "missing.yaml")), "missing.yaml", "no such file")


# --- validate ---

def test_validate_accepts_a_conforming_payload(contract, tmp_path):
    result = run("validate", str(contract), str(write(tmp_path, "claim.json", json.dumps(GOOD))))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "expense-claim.v1 (version 1.0.0): the payload conforms"


def test_validate_lists_every_violation_by_json_path(contract, tmp_path):
    payload = dict(GOOD, total=-3, currency="EURO", category="taxi")
    del payload["employee"]
    result = run("validate", str(contract), str(write(tmp_path, "claim.json", json.dumps(payload))))
    assert result.returncode == 2
    assert result.stdout.splitlines() == [
        '$.currency: expected an ISO 4217 currency code such as EUR, got "EURO"',
        "$.total: expected at least 0, got -3",
        '$.category: expected one of "travel", "meals", "lodging", got "taxi"',
        "$.employee: expected this required field",
        "expense-claim.v1 (version 1.0.0): the payload breaks the contract (4 violations)",
    ]


def test_validate_json_lines_prefixes_violations_with_the_line_number(contract, tmp_path):
    lines = [json.dumps(GOOD), "", json.dumps(dict(GOOD, total="12")), json.dumps(GOOD)]
    result = run("validate", str(contract), str(write(tmp_path, "claims.jsonl", "\n".join(lines) + "\n")))
    assert result.returncode == 2
    assert result.stdout.splitlines() == [
        'line 3: $.total: expected a number, got "12"',
        'line 3: $.claim_id: expected unique claim_id across the batch, got "C-1" (the same as line 1)',
        'line 4: $.claim_id: expected unique claim_id across the batch, got "C-1" (the same as line 1)',
        "expense-claim.v1 (version 1.0.0): 2 of 3 payloads break the contract (3 violations)",
    ]


def test_validate_reads_yaml_payloads_and_their_dates(contract, tmp_path):
    text = "claim_id: C-1\nemployee: E1\nsubmitted_on: 2024-03-01\ncurrency: EUR\ntotal: 3\n"
    result = run("validate", str(contract), str(write(tmp_path, "claim.yaml", text)))
    assert result.returncode == 0, result.stdout + result.stderr


def test_validate_treats_a_json_list_as_a_batch(contract, tmp_path):
    batch = [GOOD, dict(GOOD, claim_id="C-2", submitted_on="2024-13-01")]
    result = run("validate", str(contract), str(write(tmp_path, "claims.json", json.dumps(batch))))
    assert result.returncode == 2
    assert result.stdout.splitlines()[0] == ('payload 2: $.submitted_on: expected a date such as 2024-03-31, '
                                             'got "2024-13-01"')


def test_validate_names_the_line_and_column_of_bad_json(contract, tmp_path):
    path = write(tmp_path, "claim.json", '{\n  "claim_id": "C-1",\n  "total": 1,,\n}')
    assert_one_line_error(run("validate", str(contract), str(path)), "line 3, column 14", "not valid JSON")


def test_validate_names_the_bad_line_of_json_lines(contract, tmp_path):
    path = write(tmp_path, "claims.jsonl", json.dumps(GOOD) + "\n" + '{"claim_id": "C-2", }\n')
    assert_one_line_error(run("validate", str(contract), str(path)), "line 2, column 21", "not valid JSON")


def test_validate_refuses_nan(contract, tmp_path):
    path = write(tmp_path, "claim.json", '{"total": NaN}')
    assert_one_line_error(run("validate", str(contract), str(path)), "NaN is not a JSON number")


def test_validate_refuses_a_file_it_cannot_read(contract, tmp_path):
    assert_one_line_error(run("validate", str(contract), str(tmp_path / "missing.json")), "no such file")
    assert_one_line_error(run("validate", str(contract), str(write(tmp_path, "claim.txt", "{}"))),
                          "cannot tell the format", ".jsonl")
    assert_one_line_error(run("validate", str(contract), str(write(tmp_path, "empty.jsonl", "\n"))),
                          "holds no payload")


# --- diff ---

def test_diff_refuses_a_breaking_change_without_a_major_bump(contract, tmp_path):
    new = write(tmp_path, "new.yaml", CONTRACT.replace("1.0.0", "1.1.0").replace("lodging]", "]").replace(
        "meals, ]", "meals]"))
    result = run("diff", str(contract), str(new))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "category" in result.stdout and "allowed values" in result.stdout and "lodging no longer" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == (
        "refused: 1 breaking change needs a new major version, but 1.0.0 → 1.1.0 keeps major version 1; "
        "publish it as 2.0.0 (expense-claim.v2)")


def test_diff_accepts_a_breaking_change_with_a_major_bump(contract, tmp_path):
    new = write(tmp_path, "new.yaml", CONTRACT.replace("1.0.0", "2.0.0").replace("  employee: {type: string, "
                                                                                 "required: true}\n", ""))
    result = run("diff", str(contract), str(new))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "removed field" in result.stdout
    assert "breaking: 1 breaking change with a new major version 1.0.0 → 2.0.0 (expense-claim.v2); accepted" \
        in result.stdout


def test_diff_accepts_a_non_breaking_change(contract, tmp_path):
    new = write(tmp_path, "new.yaml", CONTRACT.replace("1.0.0", "1.1.0").replace("lodging]", "lodging, other]"))
    result = run("diff", str(contract), str(new))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "wider: other now allowed" in result.stdout
    assert result.stdout.strip().splitlines()[-1] == "not breaking: 1 change, 1.0.0 → 1.1.0; accepted"


def test_diff_says_when_nothing_changed(contract):
    result = run("diff", str(contract), str(contract))
    assert result.returncode == 0 and result.stdout.strip() == "no changes between 1.0.0 → 1.0.0"


def test_diff_refuses_two_different_contracts(contract):
    assert_one_line_error(run("diff", str(contract), str(LIBRARY / "supplier-invoice.v1.yaml")),
                          "cannot compare contract 'expense-claim' with contract 'supplier-invoice'")


# --- schema ---

def test_schema_prints_the_json_schema(contract):
    result = run("schema", str(contract))
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["submitted_on"] == {"type": "string", "format": "date"}
