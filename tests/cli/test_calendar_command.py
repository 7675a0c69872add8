"""`backoffice workflow calendar WORKFLOW --file CALENDAR.yaml` (or options), as an administrator's script runs it.

It deploys the next version with the calendar through the core (audited as a calendar change);
anyone else is refused by the engine; a bad calendar exits 2 naming the file or option, the field
and what was expected, and deploys nothing.
"""

from __future__ import annotations

import json

from backoffice.engine import Engine, verify
from backoffice.store import SqlStore

from ..directory_fixtures import ADMIN, Login
from .test_engine_commands import TEMPLATE, backoffice, database  # noqa: F401 (fixtures)

CALENDAR = """\
# The head office's hours from January
calendar:
  name: head-office
  timezone: Europe/Berlin
  working_hours: ["08:00-12:00", "13:00-16:00"]
  working_days: [mon, tue, wed, thu]
  holidays: {country: DE, subdivision: BY, extra: [2024-12-24]}
"""


def _versions(database: str) -> list[int]:
    with SqlStore.open(database) as store:
        return [v.version for v in Engine(store).versions("service-request")]


def test_an_administrator_deploys_the_calendar_from_a_file(database, backoffice, tmp_path):
    backoffice("deploy", str(TEMPLATE), Login("lead"))
    path = tmp_path / "calendar.yaml"
    path.write_text(CALENDAR)
    status, out, err = backoffice("workflow", "calendar", "service-request", "--file", str(path), Login(ADMIN))
    assert status == 0, err
    assert "service-request version 2 is deployed with calendar head-office (Europe/Berlin)" in out
    with SqlStore.open(database) as store:
        engine = Engine(store)
        calendar = engine.running("service-request").definition.calendar
        assert (calendar.timezone, [str(d) for d in calendar.working_days]) == ("Europe/Berlin",
                                                                                ["mon", "tue", "wed", "thu"])
        assert calendar.holidays.subdivision == "BY"
        record = store.audit_records(chain="system")[-1]
        detail = json.loads(record.detail)
        assert (record.action, record.actor, detail["change"], detail["from_version"]) == (
            "workflow.deployed", ADMIN, "calendar", 1)
        assert detail["calendar_after"]["name"] == "head-office" and "file" not in detail
        assert verify(store).ok


def test_options_say_the_calendar_without_a_file(database, backoffice):
    backoffice("deploy", str(TEMPLATE), Login("lead"))
    status, out, err = backoffice("workflow", "calendar", "service-request", "--timezone", "UTC", "--hours",
                                  "07:00-15:00", "--days", "mon,tue,wed,thu,fri,sat", Login(ADMIN))
    assert status == 0, err
    with SqlStore.open(database) as store:
        calendar = Engine(store).running("service-request").definition.calendar
    assert (calendar.timezone, [str(r) for r in calendar.working_hours], len(calendar.working_days)) == (
        "UTC", ["07:00-15:00"], 6)


def test_a_non_administrator_is_refused_and_nothing_is_deployed(database, backoffice, tmp_path):
    backoffice("deploy", str(TEMPLATE), Login("lead"))
    status, _, err = backoffice("workflow", "calendar", "service-request", "--timezone", "UTC", "--hours",
                                "07:00-15:00", Login("lead"))
    assert status == 2 and "administrator" in err and "Traceback" not in err
    assert _versions(database) == [1]


def test_bad_input_exits_2_naming_the_file_or_option_and_field(database, backoffice, tmp_path):
    backoffice("deploy", str(TEMPLATE), Login("lead"))
    wrong_zone = tmp_path / "zone.yaml"
    wrong_zone.write_text(CALENDAR.replace("Europe/Berlin", "Mars/Base"))
    broken = tmp_path / "broken.yaml"
    broken.write_text("calendar:\n  timezone: [UTC\n")
    cases = [
        (["--file", str(wrong_zone)], [str(wrong_zone), "field timezone", "'Mars/Base'", "expected an IANA name"]),
        (["--file", str(broken)], [str(broken), "line ", "not YAML"]),
        (["--file", str(tmp_path / "missing.yaml")], ["missing.yaml", "cannot be read"]),
        (["--timezone", "UTC", "--hours", "17:00-09:00"], ["--hours (working_hours.0)", "'17:00-09:00'"]),
        (["--timezone", "UTC", "--hours", "09:00-17:00", "--days", "mon,funday"], ["--days (working_days.1)"]),
        (["--timezone", "UTC"], ["--hours missing"]),
        (["--timezone", "UTC", "--hours", "09:00-17:00", "--closed", "2024-12-24"], ["need --country"]),
        (["--file", str(wrong_zone), "--timezone", "UTC"], ["one or the other"]),
    ]
    for arguments, said in cases:
        status, _, err = backoffice("workflow", "calendar", "service-request", *arguments, Login(ADMIN))
        assert status == 2, (arguments, err)
        assert all(part in err for part in said), (arguments, err)
        assert "Traceback" not in err
    assert _versions(database) == [1]
