"""`workflow list|manual|automatic|migrate`, `case timers` and `worker --notify`, as an operations lead runs them."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from backoffice.engine import Actor, Engine
from backoffice.store import SqlStore

from ..directory_fixtures import WORKER_ACCOUNT, Login
from ..engine.automated_steps import automated_text
from .test_engine_commands import PAYLOAD, TEMPLATE, backoffice, database  # noqa: F401 (fixtures)
from .test_worker_commands import hook  # noqa: F401 (fixture)

LONG_AGO = datetime(2024, 3, 4, 9, tzinfo=timezone.utc)


def start(backoffice) -> None:
    assert backoffice("case", "start", "service-request", "--data", json.dumps(PAYLOAD), Login("ann"))[0] == 0


def test_workflow_list_shows_versions_and_mode(database, backoffice, tmp_path: Path):
    backoffice("deploy", str(TEMPLATE), Login("lead"))
    status, out, _ = backoffice("workflow", "list", "--json")
    [row] = json.loads(out)
    assert (status, row["workflow"], row["version"], row["status"], row["manual"]) == (
        0, "service-request", 1, "active", False)
    assert backoffice("workflow", "manual", "service-request", Login("ops-admin"))[0] == 0
    assert json.loads(backoffice("workflow", "list", "--json")[1])[0]["manual"] is True
    assert "to people (manual)" in backoffice("workflow", "list")[1]


def test_manual_mode_sends_automated_steps_to_people_and_automatic_hands_them_back(database, backoffice, tmp_path):
    definition = tmp_path / "service-request.yaml"
    definition.write_text(automated_text())
    backoffice("deploy", str(definition), Login("lead"))
    status, out, _ = backoffice("workflow", "manual", "service-request", Login("ops-admin"))
    assert status == 0 and "automated steps now go to people" in out
    start(backoffice)
    assert backoffice("case", "transition", "1", "notify", "--expected-version", "1", Login("bob"),
                      "--role", "service-desk")[0] == 0
    [task] = json.loads(backoffice("task", "list", "--case", "1", "--json")[1])
    assert task["state"] == "notify" and "manual fallback" in task["reason"]
    status, out, _ = backoffice("workflow", "automatic", "service-request", Login("ops-admin"))
    assert status == 0 and "run on the worker again" in out
    with SqlStore.open(database) as store:
        assert Engine(store).manual_mode("service-request") is False


def test_manual_mode_of_an_unknown_workflow_is_a_clear_error(database, backoffice):
    backoffice("deploy", str(TEMPLATE), Login("lead"))
    status, _, err = backoffice("workflow", "manual", "service-reqest", Login("ops-admin"))
    assert status == 2 and "service-reqest" in err and "did you mean 'service-request'" in err


def test_migrate_moves_open_cases_and_lists_those_that_stay(database, backoffice, tmp_path):
    backoffice("deploy", str(TEMPLATE), Login("lead"))
    for _ in range(2):
        start(backoffice)
    for to, who, role in (("triage", "bob", "service-desk"), ("in-progress", "bob", "service-desk"),
                          ("blocked", "carl", "resolver")):
        version = json.loads(backoffice("case", "show", "2", "--json")[1])["version"]
        assert backoffice("case", "transition", "2", to, "--expected-version", str(version), Login(who),
                          "--role", role)[0] == 0
    newer = tmp_path / "v2.yaml"
    newer.write_text(TEMPLATE.read_text().replace("version: 1\n", "version: 2\n").replace("blocked", "on-hold"))
    backoffice("deploy", str(newer), Login("lead"))

    status, out, _ = backoffice("workflow", "migrate", "service-request", "--dry-run", Login("lead"))
    assert status == 0 and out.startswith("service-request: would move 1 open case(s) to version 2; 1 stay")
    assert "version 2 has no state 'blocked'" in out
    status, out, _ = backoffice("workflow", "migrate", "service-request", Login("ops-admin"), "--json")
    report = json.loads(out)
    assert (report["moved"], [left["case"] for left in report["left"]]) == ([1], [2])
    assert json.loads(backoffice("case", "show", "1", "--json")[1])["definition_version"] == 2
    status, _, err = backoffice("workflow", "migrate", "service-request", "--to", "9", Login("ops-admin"))
    assert status == 2 and "no deployed version 9" in err


def test_case_timers_and_worker_notify_deliver_due_reminders_to_a_webhook(database, backoffice, hook):
    backoffice("deploy", str(TEMPLATE), Login("lead"))
    # A case started long ago (through the API, which takes its time): every SLA timer is due now.
    with SqlStore.open(database) as store:
        case = Engine(store).start_case("service-request", PAYLOAD, actor=Actor("ann"), now=LONG_AGO)
    timers = json.loads(backoffice("case", "timers", str(case.id), "--json")[1])
    assert [t["name"] for t in timers] == ["first response due soon", "halfway", "nearly late", "late"]
    assert {t["status"] for t in timers} == {"pending"}

    hook.up = True
    url = f"http://127.0.0.1:{hook.server_address[1]}/notify"
    status, out, err = backoffice("worker", "--once", Login(WORKER_ACCOUNT), "--notify", url)
    assert status == 0, err
    assert out.splitlines() == ["4 reminder(s) and escalation(s) fired, 0 approval(s) handed to the secondary "
                                "approver", "4 outbox entries: 4 done, 0 to retry, 0 dead, 0 to people, 0 in doubt"]
    assert len(set(hook.keys)) == 4
    assert {t["status"] for t in json.loads(backoffice("case", "timers", str(case.id), "--json")[1])} == {"fired"}
    assert "escalation" in backoffice("case", "timers", str(case.id))[1]
