"""`backoffice directory`: a fresh install bootstrapped by its OS user, then people, grants, tokens, delegations."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

from backoffice.cli.identity import os_user

from .test_engine_commands import TEMPLATE, backoffice, database  # noqa: F401 (fixtures)


def bootstrapped(backoffice) -> None:
    status, out, err = backoffice("directory", "bootstrap", "--admin", "Alice ", "--name", "Alice Admin")
    assert status == 0, err
    assert out == f"directory bootstrapped: alice (Alice Admin) is an administrator, mapped to the operating-system " \
                  f"user {os_user()}\n"


def test_a_fresh_install_says_how_to_bootstrap(database, backoffice):
    status, _, err = backoffice("deploy", str(TEMPLATE))
    assert status == 2 and "the directory is empty: bootstrap it with `backoffice directory bootstrap" in err


def test_the_bootstrapped_os_user_administers_and_a_token_acts_for_its_person(database, backoffice, monkeypatch):
    bootstrapped(backoffice)
    assert backoffice("directory", "person", "add", "bob", "--name", "Bob Desk")[1] == "added bob (Bob Desk)\n"
    assert backoffice("directory", "grant", "service-desk", "--to", "BOB")[1] == "granted service-desk to bob\n"
    assert "holds service-desk already; nothing changed" in backoffice("directory", "grant", "service-desk",
                                                                       "--to", "bob")[1]
    status, out, _ = backoffice("directory", "token", "create", "bob", "--label", "laptop", "--days", "30")
    assert status == 0
    token = out.splitlines()[-1]
    assert re.fullmatch(r"bo_[A-Za-z0-9_-]{43}", token)
    assert token not in backoffice("directory", "token", "list")[1]
    status, out, _ = backoffice("directory", "person", "list", "--json")
    assert [(p["id"], p["roles"]) for p in json.loads(out)] == [("alice", ["administrator"]),
                                                               ("bob", ["service-desk"])]

    backoffice("deploy", str(TEMPLATE))
    monkeypatch.setenv("BACKOFFICE_TOKEN", token)
    status, _, err = backoffice("directory", "person", "add", "eve", "--name", "Eve")
    assert status == 2 and "bob may not add people: it needs the administrator role" in err


def test_delegate_and_import_from_the_command_line(database, backoffice, tmp_path):
    bootstrapped(backoffice)
    export = tmp_path / "hris.csv"
    export.write_text("id,name,roles\nhana,Hana,approver\nivan,Ivan,approver\n")
    status, out, _ = backoffice("directory", "import", str(export))
    assert (status, out) == (0, "imported hris.csv: 2 people added, 0 people updated, 0 groups added, "
                                "0 memberships added, 2 roles granted\n")
    until = (datetime.now(timezone.utc) + timedelta(days=14)).date().isoformat()
    status, out, err = backoffice("directory", "delegate", "ivan", "--delegator", "hana", "--until", until,
                                  "--role", "approver")
    assert status == 0, err
    assert out.startswith("delegation 1: ivan may act on behalf of hana in every workflow as approver, ")
    assert "in force" in backoffice("directory", "list")[1]


def test_bad_directory_input_exits_2_with_one_line(database, backoffice, tmp_path):
    bootstrapped(backoffice)
    bad = tmp_path / "bad.csv"
    bad.write_text("id,name\n,Nobody\n")
    for args, expected in [
        (("directory", "person", "add", "al\x07ice", "--name", "x"), "control character"),
        # A NUL byte is refused with every argument, before the command reads it (see backoffice.limits).
        (("directory", "person", "add", "\x00", "--name", "x"), "NUL byte"),
        (("directory", "grant", "requester", "--to", "alice"), "requester is built in"),
        (("directory", "grant", "approver", "--to", "nobody"), "'nobody' is not in the directory"),
        (("directory", "delegate", "alice", "--until", "tomorrow"), "--until 'tomorrow'"),
        (("directory", "token", "create", "--days", "9999"), "--days"),
        (("directory", "import", str(bad)), "bad.csv, line 2, field id"),
        (("directory", "import", str(tmp_path / "missing.csv")), "cannot be read"),
    ]:
        status, _, err = backoffice(*args)
        assert status == 2, args
        assert expected in err and "Traceback" not in err, err
