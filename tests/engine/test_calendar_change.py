"""A calendar change is recorded as one: who changed it, from which version, the calendar before and after.

The audit record is written in the transaction that deploys the version (or stores the change that
waits for a second person), names no temporary file, and the trail still verifies.
"""

from __future__ import annotations

import json

import pytest

from backoffice.definitions.model import CalendarSpec
from backoffice.engine import Engine, verify
from backoffice.errors import InputRefused, NotAdministrator

from ..directory_fixtures import ADMIN
from .service_request import T0, later

NEW = CalendarSpec(name="head-office", timezone="Europe/Amsterdam", working_hours="08:00-16:00",
                   working_days=["mon", "tue", "wed", "thu"])


def _last_system_record(engine: Engine):
    return engine.store.audit_records(chain="system")[-1]


def _detail(engine: Engine) -> dict:
    return json.loads(_last_system_record(engine).detail)


def test_the_deploy_record_says_a_calendar_was_changed_by_whom_from_which_version(deployed):
    before = deployed.running("service-request").definition.calendar
    answer = deployed.change_calendar("service-request", NEW, actor=ADMIN, now=later(1))
    assert (answer.version, answer.created, answer.pending) == (2, True, False)
    record = _last_system_record(deployed)
    assert (record.action, record.actor, record.workflow, record.version) == ("workflow.deployed", ADMIN,
                                                                              "service-request", 2)
    detail = json.loads(record.detail)
    assert detail["change"] == "calendar" and detail["from_version"] == 1
    assert detail["calendar_before"] == before.model_dump(mode="json", exclude_none=True)
    assert detail["calendar_after"]["timezone"] == "Europe/Amsterdam"
    assert detail["calendar_after"]["working_days"] == ["mon", "tue", "wed", "thu"]
    assert detail["content_hash"] == deployed.versions("service-request")[-1].content_hash
    assert "file" not in detail and "calendar-" not in record.detail
    assert verify(deployed.store).ok


def test_each_change_is_a_new_version_recorded_from_the_one_before(deployed):
    deployed.change_calendar("service-request", NEW, actor=ADMIN, now=later(1))
    head = _last_system_record(deployed).seq
    again = deployed.change_calendar("service-request", NEW, actor=ADMIN, now=later(2))
    # The next version would be 3 with the same calendar: new content, a new version, recorded as such.
    assert again.version == 3 and _detail(deployed)["from_version"] == 2
    assert _last_system_record(deployed).seq == head + 1


def test_a_change_waiting_for_a_second_person_is_recorded_as_a_calendar_change(engine, definition_copy):
    path = definition_copy(("  risk: []\n", "  risk: []\n  needs_second_approver: true\n"))
    engine.deploy(path, actor="lead", now=T0)
    answer = engine.change_calendar("service-request", NEW, actor=ADMIN, now=later(1))
    assert answer.pending and answer.version == 2
    assert engine.running("service-request").definition.version == 1
    record = _last_system_record(engine)
    assert (record.action, record.actor, record.version) == ("change.pending", ADMIN, 2)
    detail = json.loads(record.detail)
    assert detail["change"] == "calendar" and detail["calendar_after"]["name"] == "head-office"
    assert detail["second_approver_required"] is True and "file" not in detail
    assert verify(engine.store).ok


def test_a_non_administrator_changes_nothing_and_writes_no_record(deployed):
    head = _last_system_record(deployed).seq
    with pytest.raises(NotAdministrator):
        deployed.change_calendar("service-request", NEW, actor="lead", now=later(1))
    assert _last_system_record(deployed).seq == head
    assert deployed.running("service-request").definition.version == 1


def test_a_calendar_name_no_database_stores_is_refused_before_anything_is_written(deployed):
    head = _last_system_record(deployed).seq
    for name in ("head\x00office", "head\ud800office"):
        with pytest.raises(InputRefused, match="the calendar"):
            deployed.change_calendar("service-request", NEW.model_copy(update={"name": name}), actor=ADMIN,
                                     now=later(1))
    assert _last_system_record(deployed).seq == head
