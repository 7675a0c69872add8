"""Calendars changed in administration: a new version with the calendar, deployed by an administrator through the core.

The form's mistakes are shown beside their fields and deploy nothing; a non-administrator is
refused by the engine (from the web and from the Python API alike); running cases keep the
calendar of the version they started on, new cases count on the new one; the deploy is audited.
"""

from __future__ import annotations

import re
from datetime import date

import pytest

from backoffice.definitions.model import CalendarSpec
from backoffice.errors import NotAdministrator

from ..api.live_server import ADMIN, T0
from .site import csrf_of

WORKFLOW = "supply-request"
GOOD = {"name": "head-office", "timezone": "Europe/Amsterdam", "working_hours": "08:30-12:00, 13:00-17:30",
        "working_days": ["mon", "tue", "wed", "thu"], "country": "NL", "subdivision": "", "extra": "2024-12-24"}


def _post(client, values: dict, workflow: str = WORKFLOW):
    page = client.get("/admin").text
    return client.post(f"/admin/calendars/{workflow}", data={"csrf_token": csrf_of(page), **values})


def _error_of(page: str, name: str) -> str:
    found = re.search(rf'<p class="field-error" id="cal-{name}-error">([^<]*)</p>', page)
    assert found, f"no error shown beside {name}"
    return found.group(1)


def test_the_form_shows_the_calendar_the_latest_version_counts_on(site):
    page = site.client(ADMIN).get(f"/admin/calendars/{WORKFLOW}")
    assert page.status_code == 200
    assert 'name="timezone" type="text" value="UTC"' in page.text and 'value="09:00-17:00"' in page.text
    assert 'value="mon" checked' in page.text and 'value="sat">' in page.text
    assert f'href="/admin/calendars/{WORKFLOW}"' in site.client(ADMIN).get("/admin").text


def test_an_administrator_deploys_the_next_version_and_running_cases_keep_their_calendar(site):
    from .test_front_door_http import GOOD as SUPPLY
    running = int(site.start("alice", WORKFLOW, SUPPLY).headers["location"].rsplit("/", 1)[1])
    answer = _post(site.client(ADMIN), GOOD)
    assert answer.status_code == 303 and answer.headers["location"] == "/admin#calendars"
    latest = site.engine.running(WORKFLOW)
    assert latest.definition.version == 2
    calendar = latest.definition.calendar
    assert (calendar.name, calendar.timezone, [str(d) for d in calendar.working_days]) == (
        "head-office", "Europe/Amsterdam", ["mon", "tue", "wed", "thu"])
    assert calendar.holidays.country == "NL" and calendar.holidays.extra == [date(2024, 12, 24)]
    # Everything else is the version before's, comments and all.
    before = site.engine.running(WORKFLOW, 1)
    assert latest.definition.model_copy(update={"calendar": None, "version": 1}) == before.definition.model_copy(
        update={"calendar": None})
    assert "# The web tests' workflow" in site.engine.versions(WORKFLOW)[-1].source
    assert site.engine.case(running).definition_version == 1
    deployed = [r for r in site.engine.store.audit_records() if r.action == "workflow.deployed" and r.version == 2]
    assert [r.actor for r in deployed] == [ADMIN]


def test_mistakes_are_shown_beside_their_fields_and_nothing_is_deployed(site):
    wrong = {**GOOD, "timezone": "Mars/Olympus", "working_hours": "17:00-09:00", "country": "ZZ",
             "extra": "christmas eve", "working_days": []}
    answer = _post(site.client(ADMIN), wrong)
    assert answer.status_code == 422
    page = answer.text
    assert _error_of(page, "timezone").startswith("Unknown time zone &#39;Mars/Olympus&#39;")
    assert "is not a time range" in _error_of(page, "working_hours")
    assert _error_of(page, "working_days") == "Expected at least one working day."
    assert 'value="Mars/Olympus"' in page and "christmas eve" in page        # what was typed is kept
    assert 'aria-invalid="true"' in page and 'role="alert"' in page
    assert site.engine.running(WORKFLOW).definition.version == 1


def test_a_country_and_a_date_that_are_wrong_are_named_beside_theirs(site):
    answer = _post(site.client(ADMIN), {**GOOD, "country": "ZZ"})
    assert answer.status_code == 422 and "Holidays country &#39;ZZ&#39; is not known" in _error_of(answer.text,
                                                                                                    "country")
    answer = _post(site.client(ADMIN), {**GOOD, "extra": "2024-13-45"})
    assert answer.status_code == 422 and _error_of(answer.text, "extra")
    assert site.engine.running(WORKFLOW).definition.version == 1


def test_a_non_administrator_is_refused_by_the_core(site):
    answer = _post(site.client("alice"), GOOD)
    assert answer.status_code == 403
    assert site.engine.running(WORKFLOW).definition.version == 1
    assert site.client("alice").get(f"/admin/calendars/{WORKFLOW}").status_code == 403
    with pytest.raises(NotAdministrator):
        site.engine.change_calendar(WORKFLOW, CalendarSpec(timezone="UTC", working_hours="08:00-16:00"),
                                    actor="alice", now=T0)
    assert site.engine.running(WORKFLOW).definition.version == 1


def test_the_form_needs_the_csrf_token(sqlite_site):
    answer = sqlite_site.client(ADMIN).post(f"/admin/calendars/{WORKFLOW}", data=GOOD)
    assert answer.status_code == 403
    assert sqlite_site.engine.running(WORKFLOW).definition.version == 1
