"""The worker: runs automated steps at least once with one key, retries with backoff, parks dead letters."""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from backoffice.engine.actions import ActionCall, ActionFailed, ActionRegistry
from backoffice.engine.automation import EXHAUSTED
from backoffice.engine.outbox import OutboxStatus
from backoffice.engine.tasks import TaskKind
from backoffice.engine.webhook import webhook_action
from backoffice.engine.worker import Worker, WorkerReport

from .automated_steps import ACTION, deploy_automated, replacements
from .loopback import send_json
from .service_request import ANN, DESK, OPERATOR, T0, later, payload
from ..directory_fixtures import WORKER_ACCOUNT


class Flaky:
    """An action that fails its first `failures` calls, and records every call."""

    def __init__(self, failures: int = 0, *, retryable: bool = True, delivered: bool | None = None) -> None:
        self.failures = failures
        self.retryable = retryable
        self.delivered = delivered
        self.calls: list[ActionCall] = []

    def __call__(self, call: ActionCall) -> dict[str, object]:
        self.calls.append(call)
        if len(self.calls) <= self.failures:
            raise ActionFailed(f"desk mailbox down (call {len(self.calls)})", retryable=self.retryable,
                               delivered=self.delivered)
        return {"department": "notified"}


@pytest.fixture
def automated(engine, definition_copy):
    return deploy_automated(engine, definition_copy)


def worker_for(engine, action) -> Worker:
    registry = ActionRegistry()
    registry.register(ACTION, action)
    return Worker(engine, registry, account=WORKER_ACCOUNT, name="w1", rng=random.Random(7))


def case_in_step(engine):
    case = engine.start_case("service-request", payload(), actor=ANN, now=T0)
    return engine.transition(case.id, "notify", actor=DESK, expected_version=1, now=later(1))


def test_a_step_that_succeeds_moves_the_case_on_with_its_result(automated):
    case = case_in_step(automated)
    action = Flaky()
    report = worker_for(automated, action).run_once(later(1))
    assert report == WorkerReport(claimed=1, done=1)
    moved = automated.case(case.id)
    assert (moved.state, moved.data["department"]) == ("triage", "notified")
    [entry] = automated.outbox(case_id=case.id)
    assert (entry.status, entry.attempts) == (OutboxStatus.DONE, 1)
    [call] = action.calls
    assert (call.case_id, call.attempt, call.idempotency_key) == (case.id, 1, entry.idempotency_key)
    last = automated.history(case.id)[-1]
    assert (last.activity, last.resource) == ("notified", WORKER_ACCOUNT)  # the account the worker runs as
    # Triage is a human task: the step's success made its task in the same transaction.
    assert [task.state for task in automated.tasks(case_id=case.id)] == ["triage"]


def test_a_failed_attempt_is_retried_after_a_backoff_with_jitter_then_succeeds(automated):
    case = case_in_step(automated)
    action = Flaky(failures=1)
    worker = worker_for(automated, action)
    assert worker.run_once(later(1)) == WorkerReport(claimed=1, retried=1)
    [entry] = automated.outbox(case_id=case.id)
    assert (entry.status, entry.attempts) == (OutboxStatus.PENDING, 1)
    assert "desk mailbox down" in (entry.last_error or "")
    # Backoff 1m: half kept, half drawn at random.
    assert later(1) + timedelta(seconds=30) <= entry.next_attempt_at <= later(1) + timedelta(seconds=60)
    assert worker.run_once(later(1) + timedelta(seconds=29)) == WorkerReport()
    assert automated.case(case.id).state == "notify"
    assert worker.run_once(entry.next_attempt_at) == WorkerReport(claimed=1, done=1)
    assert automated.case(case.id).state == "triage"
    assert [call.attempt for call in action.calls] == [1, 2]
    assert {call.idempotency_key for call in action.calls} == {entry.idempotency_key}


def test_retry_waits_grow_by_the_factor():
    from backoffice.definitions.model import RetryPolicy
    from backoffice.engine.outbox import retry_delay
    policy = RetryPolicy(attempts=5, backoff="1m", factor=2, max="3m")
    rng = random.Random(1)
    waits = [retry_delay(policy, attempt, rng).total_seconds() for attempt in (1, 2, 3, 4)]
    assert 30 <= waits[0] <= 60 and 60 <= waits[1] <= 120 and 90 <= waits[2] <= 180 and 90 <= waits[3] <= 180


def test_exhausted_retries_park_a_dead_letter_and_a_replay_succeeds(automated):
    case = case_in_step(automated)
    # Not one attempt reached the desk (no connection): nothing can have happened there.
    action = Flaky(failures=3, delivered=False)
    worker = worker_for(automated, action)
    now = later(1)
    for _ in range(3):
        worker.run_once(now)
        now += timedelta(hours=1)
    [dead] = automated.dead_letters()
    assert (dead.case_id, dead.status, dead.attempts) == (case.id, OutboxStatus.DEAD, 3)
    parked = automated.case(case.id)
    assert parked.state == "notify-by-hand"
    assert automated.history(case.id)[-1].reason == EXHAUSTED
    assert worker.run_once(now) == WorkerReport()

    replayed = automated.replay(dead.id, actor=OPERATOR, now=now)
    assert (replayed.status, replayed.attempts, replayed.idempotency_key) == (
        OutboxStatus.PENDING, 0, dead.idempotency_key)
    assert automated.case(case.id).state == "notify"
    assert automated.dead_letters() == []
    assert worker.run_once(now) == WorkerReport(claimed=1, done=1)
    assert automated.case(case.id).state == "triage"
    assert len(automated.outbox(case_id=case.id)) == 1
    assert {call.idempotency_key for call in action.calls} == {dead.idempotency_key}


def test_a_failure_that_cannot_be_retried_goes_to_the_dead_letter_queue_at_once(automated):
    case = case_in_step(automated)
    worker = worker_for(automated, Flaky(failures=1, retryable=False))
    assert worker.run_once(later(1)) == WorkerReport(claimed=1, dead=1)
    assert automated.case(case.id).state == "notify-by-hand"


def test_a_worker_without_the_action_leaves_the_step_to_one_that_has_it(automated):
    # Before: the step was claimed and dead-lettered, and the case fell to the manual step.
    case = case_in_step(automated)
    report = Worker(automated, ActionRegistry(), account=WORKER_ACCOUNT, rng=random.Random(1)).run_once(later(1))
    assert report == WorkerReport(elsewhere={ACTION: 1})
    [entry] = automated.outbox(case_id=case.id)
    assert (entry.status, entry.attempts) == (OutboxStatus.PENDING, 0)
    assert automated.dead_letters() == [] and automated.case(case.id).state == "notify"
    assert worker_for(automated, Flaky()).run_once(later(1)) == WorkerReport(claimed=1, done=1)


def test_a_step_whose_worker_died_mid_call_is_in_doubt_not_run_again(automated, store):
    # Before: the step was run again after the lease. Its call may have reached the other system.
    case = case_in_step(automated)
    with store.transaction() as tx:
        [taken] = tx.claim_outbox(worker="died", now=later(1), until=later(1) + timedelta(minutes=5), limit=10)
    action = Flaky()
    worker = worker_for(automated, action)
    assert worker.run_once(later(1) + timedelta(minutes=1)) == WorkerReport()
    assert worker.run_once(later(1) + timedelta(minutes=6)) == WorkerReport(in_doubt=1)
    assert action.calls == []
    [entry] = automated.steps_in_doubt()
    assert entry.id == taken.id and "the lease of died ran out during attempt 1" in (entry.last_error or "")
    [task] = automated.tasks(case_id=case.id)
    assert (task.kind, task.state, task.role) == (TaskKind.IN_DOUBT, "notify", "service-desk")
    assert worker.run_once(later(2)) == WorkerReport()
    assert action.calls == [] and automated.case(case.id).state == "notify"


def test_a_workflow_switched_to_manual_mode_sends_a_pending_step_to_people(automated):
    case = case_in_step(automated)
    automated.set_mode("service-request", manual=True, now=later(1), actor=OPERATOR)
    action = Flaky()
    assert worker_for(automated, action).run_once(later(1)) == WorkerReport(claimed=1, manual=1)
    assert action.calls == []
    [entry] = automated.outbox(case_id=case.id)
    assert entry.status is OutboxStatus.MANUAL
    [task] = automated.tasks(case_id=case.id)
    assert (task.state, task.kind) == ("notify", TaskKind.WORK)


def test_two_workers_run_each_step_once(automated):
    cases = [case_in_step(automated) for _ in range(6)]
    action = Flaky()
    first, second = worker_for(automated, action), worker_for(automated, action)
    second.name, first.batch, second.batch = "w2", 3, 3
    reports = [first.run_once(later(1)), second.run_once(later(1))]
    assert sum(report.done for report in reports) == 6
    assert sorted(call.case_id for call in action.calls) == sorted(case.id for case in cases)


# --- the webhook, against a real HTTP endpoint on loopback ---

class Receiver(BaseHTTPRequestHandler):
    """Counts deliveries, and effects by idempotency key: a key seen before has no second effect."""

    deliveries: Counter
    effects: Counter
    bodies: list

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        key = self.headers["idempotency-key"]
        self.server.deliveries[key] += 1
        self.server.bodies.append(({name.lower(): value for name, value in self.headers.items()}, body))
        if self.path == "/refuse":
            self.send_response(422)
            self.send_header("content-length", "0")
            self.end_headers()
            return
        if key not in self.server.effects:
            self.server.effects[key] += 1
        send_json(self, {"department": "notified"})

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def endpoint():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.deliveries, server.effects, server.bodies = Counter(), Counter(), []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_the_webhook_posts_a_cloud_event_keyed_by_the_step(automated, endpoint):
    case = case_in_step(automated)
    url = f"http://127.0.0.1:{endpoint.server_address[1]}/hook"
    assert worker_for(automated, webhook_action(url)).run_once(later(1)).done == 1
    [(headers, body)] = endpoint.bodies
    [entry] = automated.outbox(case_id=case.id)
    assert body["specversion"] == "1.0" and body["id"] == entry.idempotency_key
    assert headers["idempotency-key"] == entry.idempotency_key
    assert headers["content-type"] == "application/cloudevents+json"
    assert (body["type"], body["subject"], body["time"]) == (
        f"org.backoffice.step.{ACTION}", f"case/{case.id}", later(1).isoformat())
    assert body["data"]["case"]["summary"] == "Printer jammed"
    assert automated.case(case.id).data["department"] == "notified"


def test_a_delivery_whose_answer_is_lost_is_sent_again_with_one_effect(automated, endpoint):
    cases = [case_in_step(automated) for _ in range(3)]
    url = f"http://127.0.0.1:{endpoint.server_address[1]}/hook"
    post = webhook_action(url)
    lost = set()

    def answer_lost_once(call: ActionCall):
        post(call)  # delivered; then the answer never reaches the worker
        if call.case_id not in lost:
            lost.add(call.case_id)
            raise ActionFailed("read timeout")
        return None

    worker = worker_for(automated, answer_lost_once)
    worker.run_once(later(1))
    worker.run_once(later(2))
    assert all(automated.case(case.id).state == "triage" for case in cases)
    assert sorted(endpoint.deliveries.values()) == [2, 2, 2]
    assert sorted(endpoint.effects.values()) == [1, 1, 1]


def test_a_webhook_answering_4xx_is_not_retried(automated, endpoint):
    case = case_in_step(automated)
    url = f"http://127.0.0.1:{endpoint.server_address[1]}/refuse"
    assert worker_for(automated, webhook_action(url)).run_once(later(1)) == WorkerReport(claimed=1, dead=1)
    [dead] = automated.dead_letters()
    assert "answered 422" in (dead.last_error or "")
    assert automated.case(case.id).state == "notify-by-hand"


def test_concurrent_workers_run_every_step_exactly_once(automated):
    cases = [case_in_step(automated) for _ in range(40)]
    seen: Counter = Counter()
    lock = threading.Lock()

    def count(call: ActionCall) -> None:
        with lock:
            seen[call.idempotency_key] += 1

    def drain(index: int) -> None:
        worker = worker_for(automated, count)
        worker.name, worker.batch = f"w{index}", 3
        while worker.run_once(later(1)).claimed:
            pass

    threads = [threading.Thread(target=drain, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 40 and set(seen.values()) == {1}
    assert all(automated.case(case.id).state == "triage" for case in cases)


def test_a_guard_on_the_steps_way_out_reads_the_actions_result(engine, definition_copy):
    guarded = tuple((old, new.replace("{from: notify, to: triage, name: notified}",
                                      '{from: notify, to: triage, name: notified, guard: "result.receipt == \'ok\'"}'))
                    for old, new in replacements())
    engine.deploy(definition_copy(*guarded), actor="lead", now=T0)
    answers = iter([{"receipt": "ok"}, {"receipt": "bounced"}])
    worker = worker_for(engine, lambda call: next(answers))
    first, second = case_in_step(engine), case_in_step(engine)
    assert worker.run_once(later(1)) == WorkerReport(claimed=2, done=1, dead=1)
    assert engine.case(first.id).state == "triage"
    # The guard read the result and said no: the effect happened, so the step is parked, not retried.
    [entry] = engine.outbox(case_id=second.id)
    assert entry.status is OutboxStatus.DEAD and "result.receipt" in (entry.last_error or "")


DESK_UNKNOWN = ("\nexceptions:\n", "\nexceptions:\n  desk_unknown:\n    description: No desk serves the category\n"
                "    resolver: {queue: service-desk}\n    raised_in: [notify]\n    returns_to: triage\n")


@pytest.fixture
def with_reason(engine, definition_copy):
    engine.deploy(definition_copy(*replacements(), DESK_UNKNOWN), actor="lead", now=T0)
    return engine


def test_an_action_that_finds_a_problem_raises_its_exception_instead_of_retrying(with_reason):
    from backoffice.engine.actions import RaiseException

    case = case_in_step(with_reason)

    def finds_no_desk(call: ActionCall) -> None:
        raise RaiseException("desk_unknown", "no desk for category 'it'")

    assert worker_for(with_reason, finds_no_desk).run_once(later(1)) == WorkerReport(claimed=1, done=1)
    raised = with_reason.store.open_exception(case.id)
    assert raised is not None and raised.reason == "desk_unknown"
    [entry] = with_reason.outbox(case_id=case.id)
    assert (entry.status, entry.attempts) == (OutboxStatus.DONE, 1)
    last = with_reason.history(case.id)[-1]
    assert (last.activity, last.resource, last.attributes["note"]) == (
        "raise desk_unknown", WORKER_ACCOUNT, "no desk for category 'it'")


def test_an_action_raising_a_reason_not_allowed_in_the_step_is_parked_for_people(with_reason):
    from backoffice.engine.actions import RaiseException

    case = case_in_step(with_reason)

    def says_duplicate(call: ActionCall) -> None:
        raise RaiseException("duplicate")

    assert worker_for(with_reason, says_duplicate).run_once(later(1)) == WorkerReport(claimed=1, dead=1)
    [entry] = with_reason.outbox(case_id=case.id)
    assert entry.status is OutboxStatus.DEAD and "cannot be raised here" in (entry.last_error or "")
    assert with_reason.store.open_exception(case.id) is None


def test_a_result_that_breaks_the_inputs_parks_the_step_and_leaves_the_case(automated):
    case = case_in_step(automated)
    assert worker_for(automated, lambda call: {"urgency": 42}).run_once(later(1)) == WorkerReport(claimed=1, dead=1)
    [entry] = automated.outbox(case_id=case.id)
    assert "urgency" in (entry.last_error or "")
    moved = automated.case(case.id)
    assert moved.data["urgency"] == "normal" and moved.state == "notify-by-hand"


def test_a_case_that_leaves_the_step_before_the_worker_runs_it_takes_its_step_along(with_reason):
    case = case_in_step(with_reason)
    with_reason.raise_exception(case.id, "desk_unknown", actor=DESK, now=later(1))
    [entry] = with_reason.outbox(case_id=case.id)
    assert entry.status is OutboxStatus.DONE and "exception desk_unknown raised" in (entry.last_error or "")
    action = Flaky()
    assert worker_for(with_reason, action).run_once(later(2)) == WorkerReport()
    assert action.calls == []


def test_a_person_moving_the_case_on_before_the_worker_closes_its_pending_step(automated):
    case = case_in_step(automated)
    automated.transition(case.id, "triage", actor=DESK, expected_version=case.version, now=later(1))
    [entry] = automated.outbox(case_id=case.id)
    assert entry.status is OutboxStatus.DONE and "left 'notify' for 'triage'" in (entry.last_error or "")
    action = Flaky()
    assert worker_for(automated, action).run_once(later(2)) == WorkerReport() and action.calls == []


def test_a_step_whose_worker_died_five_times_never_burns_its_attempts(automated):
    # Before: each death used an attempt; after the last one the case fell to the manual step
    # while the other system may have done the work five times over (the double purchase order).
    case = case_in_step(automated)
    action = Flaky()
    for death in range(5):
        moment = later(1 + death)
        worker = worker_for(automated, action)
        with automated.store.transaction() as tx:
            claimed = tx.claim_outbox(worker=f"dead-{death}", now=moment, until=moment + timedelta(minutes=5),
                                      limit=1)
        worker.run_once(moment + timedelta(minutes=10))
        if death == 0:
            assert len(claimed) == 1
        else:
            assert claimed == []  # nothing runs again while it is in doubt
    assert action.calls == [] and automated.dead_letters() == []
    [entry] = automated.steps_in_doubt()
    assert entry.attempts == 1 and automated.case(case.id).state == "notify"
