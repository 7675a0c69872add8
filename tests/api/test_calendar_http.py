"""PUT /v1/workflows/{workflow}/calendar: the calendar change of the web page, for integrators and scripts.

An administrator deploys the next version with the new calendar (200); a second person's approval,
when the change rules ask for one, makes it wait (202); a non-administrator is refused by the core
(403); a bad calendar is a problem+json naming the field, and deploys nothing.
"""

from __future__ import annotations

import json

from .live_server import ADMIN, PURCHASE

CALENDAR = {"name": "head-office", "timezone": "Europe/Berlin", "working_hours": ["08:00-12:00", "13:00-16:00"],
            "working_days": ["mon", "tue", "wed", "thu"], "holidays": {"country": "DE", "subdivision": "BY",
                                                                       "extra": ["2024-12-24"]}}
PATH = "/v1/workflows/purchase-approval/calendar"


def test_an_administrator_deploys_the_next_version_with_the_calendar(api):
    answer = api.client(ADMIN).put(PATH, json=CALENDAR)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["workflow"], body["version"], body["status"], body["created"]) == ("purchase-approval", 2,
                                                                                    "active", True)
    calendar = api.engine.running("purchase-approval").definition.calendar
    assert (calendar.name, calendar.timezone, [str(d) for d in calendar.working_days]) == (
        "head-office", "Europe/Berlin", ["mon", "tue", "wed", "thu"])
    assert calendar.holidays.subdivision == "BY"
    record = api.engine.store.audit_records(chain="system")[-1]
    detail = json.loads(record.detail)
    assert (record.action, record.actor, detail["change"], detail["from_version"]) == (
        "workflow.deployed", ADMIN, "calendar", 1)
    assert detail["calendar_before"]["timezone"] == "Europe/Amsterdam"
    assert detail["calendar_after"]["timezone"] == "Europe/Berlin"
    assert api.client(ADMIN).get("/v1/audit/verify").json()["ok"] is True


def test_a_non_administrator_is_refused_by_the_core_and_nothing_is_deployed(api):
    for person in ("ops", "otto", "alice"):
        answer = api.client(person).put(PATH, json=CALENDAR)
        assert answer.status_code == 403, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
    assert [v.version for v in api.engine.versions("purchase-approval")] == [1]


def test_a_bad_calendar_is_a_problem_naming_its_field_and_deploys_nothing(api):
    for wrong, pointer in (({"timezone": "Mars/Base"}, "/body/timezone"),
                           ({"working_hours": "17:00-09:00"}, "/body/working_hours/0"),
                           ({"working_days": ["mon", "funday"]}, "/body/working_days/1"),
                           ({"holidays": {"country": "ZZ"}}, "/body/holidays"),
                           ({"name": "head\x00office"}, "/body/name"),
                           ({"colour": "blue"}, "/body/colour")):
        answer = api.client(ADMIN).put(PATH, json={**CALENDAR, **wrong})
        assert answer.status_code == 422, (wrong, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert pointer in [problem["pointer"] for problem in answer.json()["errors"]], (wrong, answer.text)
    assert api.client(ADMIN).put("/v1/workflows/no-such-flow/calendar", json=CALENDAR).status_code == 404
    assert [v.version for v in api.engine.versions("purchase-approval")] == [1]


def test_a_workflow_whose_change_rules_ask_for_a_second_person_waits_for_one(api, tmp_path):
    text = PURCHASE.read_text().replace("version: 1\n", "version: 2\n") + "change:\n  needs_second_approver: true\n"
    path = tmp_path / "purchase-approval.yaml"
    path.write_text(text)
    api.engine.deploy(path, actor=ADMIN, now=api.clock.now)
    answer = api.client(ADMIN).put(PATH, json=CALENDAR)
    assert answer.status_code == 202, answer.text
    assert (answer.json()["status"], answer.json()["version"]) == ("pending", 3)
    assert api.engine.running("purchase-approval").definition.version == 2
    [change] = api.client(ADMIN).get("/v1/changes").json()
    assert change["version"] == 3


def test_a_lone_surrogate_in_the_calendar_is_a_422_not_a_server_error(api):
    answer = api.client(ADMIN).put(PATH, content=b'{"timezone": "UTC", "working_hours": "09:00-17:00", '
                                                 b'"name": "head\\ud800office"}',
                                   headers={"Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert [v.version for v in api.engine.versions("purchase-approval")] == [1]
