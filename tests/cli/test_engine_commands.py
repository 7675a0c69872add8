"""`backoffice deploy`, `case start|show|list|transition` and `audit verify`, as an operator runs them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from backoffice.cli.app import main
from backoffice.definitions import LIBRARY
from backoffice.store import SqlStore
from backoffice.store.tables import audit_records

from ..databases import DATABASES, database_target
from ..directory_fixtures import Login, TokenBook

TEMPLATE = LIBRARY / "service-request.yaml"
PAYLOAD = {"summary": "Printer jammed", "description": "3rd floor", "category": "facilities", "urgency": "high",
           "requester_email": "ann@example.com"}


@pytest.fixture(params=DATABASES)
def database(request, tmp_path: Path, monkeypatch):
    for target in database_target(request.param, tmp_path):
        monkeypatch.setenv("BACKOFFICE_DB", target)
        yield target


@pytest.fixture
def backoffice(capsys, monkeypatch):
    """Run the command line in this process; return (exit status, stdout, stderr).

    A `Login("bob")` among the arguments runs it as bob: his personal token in BACKOFFICE_TOKEN
    (the directory of the database in BACKOFFICE_DB seeded with the suite's cast on first use).
    Without one, the command runs with the token the test set itself, if any, else as the
    operating-system user.
    """
    book = TokenBook()
    logged_in = []

    def run(*args: str | Path | Login) -> tuple[int, str, str]:
        logins = [arg for arg in args if isinstance(arg, Login)]
        if logins:
            monkeypatch.setenv("BACKOFFICE_TOKEN", book.token(os.environ["BACKOFFICE_DB"], logins[-1].person))
            logged_in.append(True)
        elif logged_in:
            monkeypatch.delenv("BACKOFFICE_TOKEN", raising=False)
            logged_in.clear()
        args = tuple(arg for arg in args if not isinstance(arg, Login))
        try:
            main([str(arg) for arg in args])
            status = 0
        except SystemExit as exit_:
            status = exit_.code or 0
        captured = capsys.readouterr()
        return status, captured.out, captured.err
    return run


def test_a_case_goes_from_intake_to_done_on_the_command_line(database, backoffice, tmp_path):
    status, out, _ = backoffice("deploy", str(TEMPLATE), Login("lead"))
    assert status == 0 and re.fullmatch(r"deployed service-request version 1 \(content [0-9a-f]{12}\)\n", out)
    status, out, _ = backoffice("deploy", str(TEMPLATE), Login("lead"))
    assert status == 0 and "already deployed with this content" in out and "nothing changed" in out

    payload = tmp_path / "request.json"
    payload.write_text(json.dumps(PAYLOAD))
    status, out, _ = backoffice("case", "start", "service-request", "--data", f"@{payload}", "--key", "mail-1",
                                Login("ann"))
    assert (status, out) == (0, "case 1 started: service-request v1, state new, queue facilities, priority high, "
                                "version 1\n")
    status, out, _ = backoffice("case", "start", "service-request", "--data", json.dumps(PAYLOAD), "--key",
                                "mail-1", Login("ann"))
    assert out.startswith("case 1 started")  # the retry is the same case

    moves = [("triage", "1", "service-desk", None), ("in-progress", "2", "service-desk", None),
             ("done", "3", "resolver", '{"resolution_note": "Cleared the jam"}')]
    for to, version, role, data in moves:
        status, out, err = backoffice("case", "transition", "1", to, "--expected-version", version,
                                      Login("bob" if role == "service-desk" else "carl"), "--role", role,
                                      *(["--data", data] if data else []))
        assert status == 0, err
    assert out == "case 1: in-progress -> done, queue resolver-groups, priority high, version 4\n"

    status, out, _ = backoffice("case", "show", "1")
    assert status == 0
    assert "state done (was in-progress)  version 4" in out and "Cleared the jam" in out
    assert re.search(r"resolve\s+│ done\s+│ carl\s+│ resolver", out)
    status, out, _ = backoffice("case", "show", "1", "--json")
    shown = json.loads(out)
    assert shown["state"] == "done" and [e["activity"] for e in shown["history"]] == ["new", "accept", "assign",
                                                                                      "resolve"]
    status, out, _ = backoffice("case", "list", "--json")
    assert [case["id"] for case in json.loads(out)] == [1]
    status, out, _ = backoffice("case", "list", "--state", "triage")
    assert out == "no cases\n"
    status, out, _ = backoffice("audit", "verify")
    # The directory's records (people, grants, tokens) and the case's five.
    assert status == 0 and re.match(r"audit chain ok: \d+ records, last \d+, hash [0-9a-f]{64}\n", out)


def test_each_user_error_is_one_message_and_status_2(database, backoffice):
    backoffice("deploy", str(TEMPLATE), Login("lead"))
    status, _, err = backoffice("case", "start", "service-request", "--data", '{"summary": "x"}', Login("ann"))
    assert status == 2 and "4 violations" in err and "$.requester_email: expected this required field" in err
    status, _, err = backoffice("case", "start", "service-requests", "--data", "{}", Login("ann"))
    assert status == 2 and "did you mean 'service-request'?" in err
    status, _, err = backoffice("case", "start", "service-request", "--data", "{not json", Login("ann"))
    assert status == 2 and "--data '{not json': expected a JSON object" in err
    backoffice("case", "start", "service-request", "--data", json.dumps(PAYLOAD), Login("ann"))
    status, _, err = backoffice("case", "transition", "1", "done", "--expected-version", "1", Login("bob"))
    assert status == 2 and "cannot move from 'new' to 'done'" in err
    status, _, err = backoffice("case", "transition", "1", "triage", "--expected-version", "7", Login("bob"))
    assert status == 2 and "case 1 is at version 1, not 7" in err
    status, _, err = backoffice("case", "show", "42")
    assert status == 2 and "no case 42" in err
    assert "Traceback" not in err


def test_audit_verify_names_the_record_edited_in_the_database(database, backoffice):
    backoffice("deploy", str(TEMPLATE), Login("lead"))
    backoffice("case", "start", "service-request", "--data", json.dumps(PAYLOAD), Login("ann"))
    with SqlStore.open(database) as store, store.engine.begin() as connection:
        started = store.audit_head().seq
        connection.execute(sa.update(audit_records).where(audit_records.c.seq == started).values(actor="mallory"))
    status, _, err = backoffice("audit", "verify")
    assert status == 1
    assert f"audit chain broken at record {started}: record {started} was altered" in err


def test_the_default_database_is_backoffice_db_in_the_current_folder(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in ("BACKOFFICE_DB", "BACKOFFICE_TOKEN")}
    # A fresh install: its first administrator is the operating-system user running this, who then deploys.
    for command in (["directory", "bootstrap", "--admin", "lead"], ["deploy", str(TEMPLATE)]):
        result = subprocess.run([sys.executable, "-m", "backoffice.cli.app", *command], cwd=tmp_path,
                                env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
    assert (tmp_path / "backoffice.db").is_file()
    result = subprocess.run([sys.executable, "-m", "backoffice.cli.app", "case", "show", "1"], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and result.stderr.startswith("error: no case 1")
    assert "Traceback" not in result.stderr
