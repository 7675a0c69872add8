"""Reminders and escalations: scheduled in business time, paused with the SLA, fired once, sent through the outbox.

The service-request template's calendar is Europe/Amsterdam, 08:30-17:30 on weekdays (9 working
hours a day); its SLA is a first response in 4h and a resolution in 3d (27 working hours),
paused in waiting-on-requester and blocked. T0 is Monday 2024-03-04 09:00 UTC, 10:00 in
Amsterdam. The due times below are worked out by hand from that:

- first response due soon, 75% of 4h = 3h: Monday 13:00 local = 12:00 UTC;
- halfway, 50% of 27h = 13.5h: Monday's 7.5h, then 6h of Tuesday: 14:30 local = 13:30 UTC;
- nearly late, 75% = 20.25h: 7.5h + 9h, then 3.75h of Wednesday: 12:15 local = 11:15 UTC;
- late, 100% = 27h: 7.5h + 9h + 9h, then 1.5h of Thursday: 10:00 local = 09:00 UTC.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from backoffice.definitions.model import Priority, TimerKind
from backoffice.engine.actions import ActionCall, ActionFailed, ActionRegistry
from backoffice.engine.outbox import OutboxKind, OutboxStatus
from backoffice.engine.timers import TimerClock, TimerStatus
from backoffice.engine.worker import Worker
from backoffice.errors import StaleVersion

from .service_request import ANN, DESK, RESOLVER, T0, payload
from ..directory_fixtures import WORKER_ACCOUNT


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2024, 3, day, hour, minute, tzinfo=timezone.utc)


FIRST_RESPONSE_DUE = utc(4, 12)
HALFWAY_DUE = utc(5, 13, 30)
NEARLY_LATE_DUE = utc(6, 11, 15)
LATE_DUE = utc(7, 9)


def pending(engine, case_id):
    return {timer.name: timer for timer in engine.timers(case_id) if timer.status is TimerStatus.PENDING}


def notifications(engine, case_id):
    return [entry for entry in engine.outbox(case_id=case_id) if entry.kind is OutboxKind.NOTIFICATION]


def in_progress(engine, now=T0):
    case = engine.start_case("service-request", payload(), actor=ANN, now=now)
    case = engine.transition(case.id, "triage", actor=DESK, expected_version=case.version, now=now)
    return engine.transition(case.id, "in-progress", actor=DESK, expected_version=case.version, now=now)


def test_a_new_case_schedules_its_sla_timers_in_business_time(deployed):
    case = deployed.start_case("service-request", payload(), actor=ANN, now=T0)
    timers = pending(deployed, case.id)
    assert {name: timer.due_at for name, timer in timers.items()} == {
        "first response due soon": FIRST_RESPONSE_DUE, "halfway": HALFWAY_DUE,
        "nearly late": NEARLY_LATE_DUE, "late": LATE_DUE}
    assert timers["late"].kind is TimerKind.ESCALATION and timers["late"].clock is TimerClock.RESOLUTION
    assert timers["halfway"].kind is TimerKind.REMINDER


def test_timers_fire_when_due_and_not_a_moment_before(deployed):
    case = deployed.start_case("service-request", payload(), actor=ANN, now=T0)
    assert deployed.fire_timers(FIRST_RESPONSE_DUE - timedelta(seconds=1)) == []
    [fired] = deployed.fire_timers(FIRST_RESPONSE_DUE)
    assert (fired.timer.name, fired.to) == ("first response due soon", "role service-desk")
    assert deployed.fire_timers(FIRST_RESPONSE_DUE) == []  # once only
    [message] = notifications(deployed, case.id)
    assert message.status is OutboxStatus.PENDING and message.action == "notify"
    assert (message.payload["type"], message.payload["subject"], message.payload["to"], message.payload["case_id"]) \
        == ("reminder", "first response due soon", "role service-desk", case.id)
    assert message.payload["detail"]["recipient"] == {"queue": "service-desk", "role": "service-desk"}
    # A reminder changes nothing about the case, and leaves its proof in the audit trail.
    assert deployed.case(case.id).version == 1
    assert [r.action for r in deployed.store.audit_records()][-1] == "timer.fired"


def test_the_first_response_timer_is_over_once_the_case_leaves_intake(deployed):
    case = deployed.start_case("service-request", payload(), actor=ANN, now=T0)
    deployed.transition(case.id, "triage", actor=DESK, expected_version=1, now=T0 + timedelta(hours=1))
    assert "first response due soon" not in pending(deployed, case.id)
    assert deployed.fire_timers(FIRST_RESPONSE_DUE) == []
    statuses = {timer.name: timer.status for timer in deployed.timers(case.id)}
    assert statuses["first response due soon"] is TimerStatus.CANCELLED


def test_a_paused_case_is_not_reminded_and_its_timers_move_by_the_paused_business_time(deployed):
    case = in_progress(deployed)
    # Monday 13:00 local to Tuesday 13:00 local is 4.5h + 4.5h = 9 working hours: one working day.
    asked = deployed.transition(case.id, "waiting-on-requester", actor=RESOLVER, expected_version=case.version,
                                now=utc(4, 12))
    timers = pending(deployed, case.id)
    assert timers["late"].due_at is None and timers["halfway"].due_at is None
    assert timers["nudge requester"].clock is TimerClock.STATE
    assert deployed.fire_timers(HALFWAY_DUE) == []  # due during the pause: nothing fires
    deployed.transition(case.id, "triage", actor=ANN, expected_version=asked.version, now=utc(5, 12))
    timers = pending(deployed, case.id)
    assert timers["halfway"].due_at == utc(6, 13, 30)
    assert timers["late"].due_at == utc(8, 9)
    assert "nudge requester" not in timers  # it counts time in waiting-on-requester only


def test_a_state_timer_counts_business_time_in_its_state(deployed):
    case = in_progress(deployed)
    deployed.transition(case.id, "waiting-on-requester", actor=RESOLVER, expected_version=case.version,
                        now=utc(4, 12))
    # 2d = 18 working hours from Monday 13:00 local: 4.5h + 9h + 4.5h, Wednesday 13:00 local.
    assert pending(deployed, case.id)["nudge requester"].due_at == utc(6, 12)
    [fired] = deployed.fire_timers(utc(6, 12))
    assert (fired.timer.name, fired.to) == ("nudge requester", "person ann")


def test_an_escalation_raises_the_case_and_its_tasks_one_priority_and_conflicts_with_stale_writers(deployed):
    case = in_progress(deployed)
    assert case.priority is Priority.NORMAL
    fired = {f.timer.name: f for f in deployed.fire_timers(LATE_DUE)}
    assert set(fired) == {"halfway", "nearly late", "late"}
    assert fired["late"].priority is Priority.HIGH
    escalated = deployed.case(case.id)
    assert (escalated.priority, escalated.version, escalated.state) == (Priority.HIGH, case.version + 1, "in-progress")
    last = deployed.history(case.id)[-1]
    assert (last.activity, last.attributes["priority"]) == ("escalate: late", "high")
    [task] = deployed.tasks(case_id=case.id)
    assert task.priority is Priority.HIGH
    [message] = [m for m in notifications(deployed, case.id) if m.payload["type"] == "escalation"]
    assert message.payload["to"] == "role service-desk-lead"
    with pytest.raises(StaleVersion):
        deployed.transition(case.id, "blocked", actor=RESOLVER, expected_version=case.version, now=LATE_DUE)


def test_every_timer_is_over_when_the_case_ends(deployed):
    case = in_progress(deployed)
    deployed.transition(case.id, "done", actor=RESOLVER, expected_version=case.version, now=T0 + timedelta(hours=2),
                        data={"resolution_note": "Cleared the jam"})
    assert pending(deployed, case.id) == {}
    assert deployed.fire_timers(LATE_DUE + timedelta(days=30)) == []


def test_workers_ticking_at_once_fire_each_timer_once(deployed):
    cases = [deployed.start_case("service-request", payload(), actor=ANN, now=T0) for _ in range(5)]
    barrier = threading.Barrier(4)
    fired: list[int] = []

    def tick() -> None:
        barrier.wait()
        fired.extend(f.timer.id for f in deployed.fire_timers(LATE_DUE))

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(fired) == len(set(fired)) == 5 * 4
    for case in cases:
        assert len(notifications(deployed, case.id)) == 4
        assert deployed.case(case.id).priority is Priority.HIGH


class Inbox:
    """A notify action that fails its first `failures` calls and keeps what it was sent."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.received: list[ActionCall] = []
        self.calls = 0

    def __call__(self, call: ActionCall) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise ActionFailed("mail gateway down")
        self.received.append(call)


def worker_with(engine, inbox=None) -> Worker:
    registry = ActionRegistry()
    if inbox is not None:
        registry.register("notify", inbox)
    import random
    return Worker(engine, registry, account=WORKER_ACCOUNT, name="w", rng=random.Random(3))


def test_the_worker_fires_due_timers_and_delivers_their_notifications(deployed):
    case = deployed.start_case("service-request", payload(), actor=ANN, now=T0)
    inbox = Inbox()
    report = worker_with(deployed, inbox).run_once(FIRST_RESPONSE_DUE)
    assert (report.timers, report.claimed, report.done) == (1, 1, 1)
    [call] = inbox.received
    assert (call.data["subject"], call.case_id) == ("first response due soon", case.id)
    [message] = notifications(deployed, case.id)
    assert message.status is OutboxStatus.DONE and call.idempotency_key == message.idempotency_key


def test_a_worker_without_a_notify_action_leaves_notifications_for_one_that_has_it(deployed):
    case = deployed.start_case("service-request", payload(), actor=ANN, now=T0)
    report = worker_with(deployed).run_once(FIRST_RESPONSE_DUE)
    assert (report.timers, report.claimed) == (1, 0)
    [message] = notifications(deployed, case.id)
    assert message.status is OutboxStatus.PENDING
    inbox = Inbox()
    assert worker_with(deployed, inbox).run_once(FIRST_RESPONSE_DUE).done == 1
    assert len(inbox.received) == 1


def test_a_failed_notification_is_retried_then_parked_as_a_dead_letter(deployed):
    case = deployed.start_case("service-request", payload(), actor=ANN, now=T0)
    inbox = Inbox(failures=99)
    worker = worker_with(deployed, inbox)
    now = FIRST_RESPONSE_DUE
    reports = []
    for _ in range(5):
        reports.append(worker.run_once(now))
        now += timedelta(hours=1)
    assert [r.retried for r in reports] == [1, 1, 1, 1, 0] and reports[-1].dead == 1
    [dead] = deployed.dead_letters()
    assert (dead.kind, dead.case_id, dead.attempts) == (OutboxKind.NOTIFICATION, case.id, 5)
    # The case never moves for a message, sent or not.
    assert deployed.case(case.id).state == "new"
