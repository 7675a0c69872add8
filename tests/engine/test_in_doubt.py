"""Steps in doubt and the manual twin: a person confirms what happened before anything is done again.

The step's way out reads the action's result (`has(result.ticket)`), as the purchase-request
template's create-po step does (`has(result.po_number)`).
"""

from __future__ import annotations

import random
import threading
from datetime import timedelta

import pytest

from backoffice.engine import Actor
from backoffice.engine.actions import ActionCall, ActionFailed, ActionRegistry
from backoffice.engine.in_doubt import NotHappened
from backoffice.engine.outbox import OutboxStatus
from backoffice.engine.tasks import TaskKind
from backoffice.engine.worker import Worker, WorkerReport
from backoffice.errors import (InputRefused, NoResultForConfirmation, NotEligibleForTask, RoleNotHeld, StepNotInDoubt,
                               TransitionNotAllowed, UnknownActor)

from ..directory_fixtures import WORKER_ACCOUNT, seed
from .automated_steps import ACTION, replacements
from .service_request import ANN, DESK, T0, later, payload

GUARDED = "{from: notify, to: triage, name: notified, guard: \"has(result.ticket)\"}"
CHECKER = Actor("olga", "service-desk")
OUTSIDER = Actor("carl", "resolver")   # in the directory, but not in the in-doubt task's role


def guarded(timeout: str | None = None):
    changes = [(old, new.replace("{from: notify, to: triage, name: notified}", GUARDED)) for old, new in replacements()]
    if timeout:
        changes = [(old, new.replace("on_exhausted: notify-by-hand}", f"on_exhausted: notify-by-hand, timeout: {timeout}}}"))
                   for old, new in changes]
    return tuple(changes)


@pytest.fixture
def automated(engine, definition_copy):
    seed(engine, {"olga": ("service-desk",)})   # checks the desk's system when a step is in doubt
    engine.deploy(definition_copy(*guarded()), actor="lead", now=T0)
    return engine


def case_in_step(engine):
    case = engine.start_case("service-request", payload(), actor=ANN, now=T0)
    return engine.transition(case.id, "notify", actor=DESK, expected_version=1, now=later(1))


def worker_with(engine, action, **options) -> Worker:
    registry = ActionRegistry()
    registry.register(ACTION, action)
    return Worker(engine, registry, account=WORKER_ACCOUNT, name="w1", rng=random.Random(3), **options)


def died_mid_call(engine, case) -> int:
    """A worker took the step and died during the call; the next one sets it aside. Return the entry id."""
    with engine.store.transaction() as tx:
        [entry] = tx.claim_outbox(worker="died", now=later(1), until=later(1) + timedelta(minutes=5), limit=1)
    assert worker_with(engine, lambda call: {"ticket": "never"}).run_once(later(2)).in_doubt == 1
    return entry.id


def test_nothing_moves_the_case_while_its_step_is_in_doubt(automated):
    case = case_in_step(automated)
    entry_id = died_mid_call(automated, case)
    current = automated.case(case.id)
    with pytest.raises(TransitionNotAllowed, match=f"in doubt.*step confirm {entry_id}"):
        automated.transition(case.id, "triage", actor=DESK, expected_version=current.version, now=later(3),
                             data={"ticket": "T-1"})
    [task] = automated.tasks(case_id=case.id)
    assert task.kind is TaskKind.IN_DOUBT and f"outbox {entry_id}" in (task.reason or "")
    automated.claim(task.id, actor=CHECKER, now=later(3))
    with pytest.raises(TransitionNotAllowed, match="in doubt"):
        automated.complete(task.id, actor=CHECKER, now=later(3), to="triage", data={"ticket": "T-1"})
    assert automated.case(case.id).state == "notify"


def test_a_step_confirmed_done_records_the_result_read_in_the_other_system_and_moves_on(automated):
    case = case_in_step(automated)
    entry_id = died_mid_call(automated, case)
    with pytest.raises(NotEligibleForTask):
        automated.confirm_step(entry_id, happened=True, result={"ticket": "T-77"}, actor=OUTSIDER, now=later(3))
    # Confirming goes through the gate: the role must be granted by the directory, not claimed.
    with pytest.raises(RoleNotHeld, match="service-desk"):
        automated.confirm_step(entry_id, happened=True, result={"ticket": "T-77"}, actor=Actor("carl", "service-desk"),
                               now=later(3))
    with pytest.raises(UnknownActor):
        automated.confirm_step(entry_id, happened=True, result={"ticket": "T-77"}, actor=Actor("mallory", "service-desk"),
                               now=later(3))
    assert automated.outbox_entry(entry_id).status is OutboxStatus.IN_DOUBT
    # The result must take the case out by the step's way out: without the ticket, nothing is written.
    with pytest.raises(TransitionNotAllowed, match="result.ticket"):
        automated.confirm_step(entry_id, happened=True, result={}, actor=CHECKER, now=later(3))
    assert automated.outbox_entry(entry_id).status is OutboxStatus.IN_DOUBT
    with pytest.raises(InputRefused, match="NUL"):
        automated.confirm_step(entry_id, happened=True, result={"ticket": "T\x00"}, actor=CHECKER, now=later(3))
    moved = automated.confirm_step(entry_id, happened=True, result={"ticket": "T-77"}, actor=CHECKER, now=later(3))
    assert (moved.state, moved.data["ticket"]) == ("triage", "T-77")
    entry = automated.outbox_entry(entry_id)
    assert entry.status is OutboxStatus.DONE and "confirmed done by olga" in (entry.last_error or "")
    last = automated.history(case.id)[-1]
    assert last.attributes["confirmed_by"] == "olga" and last.attributes["outbox_id"] == entry_id
    assert [task.state for task in automated.tasks(case_id=case.id)] == ["triage"]
    with pytest.raises(StepNotInDoubt):
        automated.confirm_step(entry_id, happened=False, actor=CHECKER, now=later(4))


def test_a_step_confirmed_not_done_runs_again_without_counting_the_unknown_attempt(automated):
    case = case_in_step(automated)
    entry_id = died_mid_call(automated, case)
    with pytest.raises(NoResultForConfirmation):
        automated.confirm_step(entry_id, happened=False, result={"ticket": "x"}, actor=CHECKER, now=later(3))
    automated.confirm_step(entry_id, happened=False, then=NotHappened.RETRY, actor=CHECKER, now=later(3))
    entry = automated.outbox_entry(entry_id)
    assert (entry.status, entry.attempts) == (OutboxStatus.PENDING, 0)
    calls: list[ActionCall] = []
    worker = worker_with(automated, lambda call: calls.append(call) or {"ticket": "T-9"})
    assert worker.run_once(later(3)) == WorkerReport(claimed=1, done=1)
    assert [(call.attempt, call.idempotency_key) for call in calls] == [(1, entry.idempotency_key)]
    assert automated.case(case.id).state == "triage"


def test_a_step_confirmed_not_done_goes_to_its_manual_twin_and_a_person_completes_it(automated):
    case = case_in_step(automated)
    entry_id = died_mid_call(automated, case)
    moved = automated.confirm_step(entry_id, happened=False, then=NotHappened.MANUAL, actor=CHECKER, now=later(3))
    assert moved.state == "notify-by-hand"
    assert automated.outbox_entry(entry_id).status is OutboxStatus.MANUAL
    [task] = automated.tasks(case_id=case.id)
    automated.claim(task.id, actor=DESK, now=later(3))
    automated.complete(task.id, actor=DESK, now=later(3), to="triage")
    assert automated.case(case.id).state == "triage"


def test_the_manual_twin_of_a_step_whose_way_out_reads_result_can_be_completed_by_a_person(automated):
    # Before: `has(result.ticket)` could never hold for a person, so the fallback task was a dead end.
    case = case_in_step(automated)
    automated.set_mode("service-request", manual=True, now=later(1), actor="ops-admin")
    assert worker_with(automated, lambda call: {}).run_once(later(1)).manual == 1
    [task] = automated.tasks(case_id=case.id)
    automated.claim(task.id, actor=DESK, now=later(2))
    with pytest.raises(TransitionNotAllowed, match="result.ticket"):
        automated.complete(task.id, actor=DESK, now=later(2), to="triage")
    automated.complete(task.id, actor=DESK, now=later(2), to="triage", data={"ticket": "T-by-hand"})
    moved = automated.case(case.id)
    assert (moved.state, moved.data["ticket"]) == ("triage", "T-by-hand")


def test_attempts_that_ran_out_after_a_possible_delivery_are_in_doubt_not_a_dead_letter(automated):
    case = case_in_step(automated)

    def times_out(call: ActionCall) -> None:
        raise ActionFailed("read timed out after the request was sent")

    worker = worker_with(automated, times_out)
    now = later(1)
    for _ in range(3):
        worker.run_once(now)
        now += timedelta(hours=1)
    assert automated.dead_letters() == [] and automated.case(case.id).state == "notify"
    [entry] = automated.steps_in_doubt()
    assert entry.attempts == 3 and "attempts ran out" in (entry.last_error or "")


def test_an_early_unknown_outcome_keeps_the_step_in_doubt_after_later_refused_connections(automated):
    case = case_in_step(automated)
    outcomes = iter([None, False, False])

    def flaky(call: ActionCall) -> None:
        raise ActionFailed("failed", delivered=next(outcomes))

    worker = worker_with(automated, flaky)
    now = later(1)
    for _ in range(3):
        worker.run_once(now)
        now += timedelta(hours=1)
    assert [entry.case_id for entry in automated.steps_in_doubt()] == [case.id]


class FakeClock:
    """A monotonic clock that moves on `step` seconds each time it is read: no waiting on real time."""

    def __init__(self, step: float) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_a_call_past_the_steps_timeout_is_abandoned_and_in_doubt(engine, definition_copy):
    engine.deploy(definition_copy(*guarded(timeout="2m")), actor="lead", now=T0)
    case = case_in_step(engine)
    release = threading.Event()
    started = threading.Event()

    def hangs(call: ActionCall) -> dict[str, str]:
        started.set()
        release.wait(30)
        return {"ticket": "late"}

    try:
        worker = worker_with(engine, hangs, clock=FakeClock(step=10.0), watch_every=0.001)
        report = worker.run_once(later(1))
        assert started.is_set()
        assert (report.claimed, report.timed_out, report.in_doubt, report.done) == (1, 1, 1, 0)
        [entry] = engine.steps_in_doubt()
        assert "past the step's timeout of 0:02:00" in (entry.last_error or "")
        assert engine.case(case.id).state == "notify"
    finally:
        release.set()


def test_the_lease_is_renewed_while_a_slow_action_runs_so_no_second_worker_takes_it(automated):
    case = case_in_step(automated)
    release, started = threading.Event(), threading.Event()
    lease = timedelta(minutes=5)
    clock = FakeClock(step=60.0)  # each look at the call: a minute later

    def slow(call: ActionCall) -> dict[str, str]:
        started.set()
        release.wait(30)
        return {"ticket": "T-slow"}

    worker = worker_with(automated, slow, lease=lease, clock=clock, watch_every=0.001)
    outcome: list[WorkerReport] = []
    runner = threading.Thread(target=lambda: outcome.append(worker.run_once(later(1))))
    runner.start()
    try:
        assert started.wait(10)
        # Wait (on events, not time) until the lease was renewed past its first end.
        for _ in range(10_000):
            entry = automated.outbox(case_id=case.id)[0]
            if entry.lease_expires_at and entry.lease_expires_at > later(1) + lease:
                break
            threading.Event().wait(0.001)
        assert entry.lease_expires_at > later(1) + lease
        second = worker_with(automated, lambda call: {"ticket": "twice"})
        second.name = "w2"
        # Past the first lease's end: the entry is neither claimed again nor set aside.
        assert second.run_once(later(1) + lease + timedelta(seconds=1)) == WorkerReport()
    finally:
        release.set()
        runner.join(30)
    assert outcome[0].done == 1 and automated.case(case.id).data["ticket"] == "T-slow"


@pytest.mark.parametrize("lease", [timedelta(0), timedelta(days=365 * 19), timedelta(seconds=-5)])
def test_an_absurd_lease_is_refused(automated, lease):
    with pytest.raises(InputRefused, match="lease"):
        Worker(automated, ActionRegistry(), account=WORKER_ACCOUNT, lease=lease)


def test_nobody_moves_the_case_while_its_step_is_running(automated):
    case = case_in_step(automated)
    with automated.store.transaction() as tx:
        [entry] = tx.claim_outbox(worker="busy", now=later(1), until=later(1) + timedelta(minutes=5), limit=1)
    with pytest.raises(TransitionNotAllowed, match="running now for busy"):
        automated.transition(case.id, "triage", actor=DESK, expected_version=case.version, now=later(1),
                             data={"ticket": "by hand"})
