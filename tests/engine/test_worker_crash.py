"""Crash: a worker killed with SIGKILL in the middle of automated steps, 20 times over a run.

After the restarts no step is lost, no side effect happens twice and no step is delivered
twice: a step whose worker was killed during its call is in doubt (its call may have reached
the receiver), and a person confirms it from what the receiver shows, instead of a redelivery. The worker is a real
process (`crash_worker.py`) posting CloudEvents to a real endpoint on loopback, which records
every delivery and applies its effect once per idempotency key, the way a receiver must when
delivery is at least once. The endpoint itself pulls the trigger: at planned deliveries it
kills the worker with SIGKILL, either before answering (the effect happened, the worker never
learns it: a redelivery under the same key is certain) or just after answering (the worker
dies while settling the step, or just after it committed). Kills follow progress, never a
timer, and the plan comes from a seeded random generator, so a run can be repeated.

Time is passed in: each worker's clock starts past the end of the previous one's clock plus
the lease, so the leases of a killed worker have run out when the next one starts, with no
waiting.

The last test covers the other side's death: a receiver that drops a request unanswered, and
the webhook action's own client, which must keep working after it.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from backoffice.engine import Actor, Engine
from backoffice.engine.actions import ActionCall, ActionFailed, ActionRegistry
from backoffice.engine.outbox import OutboxEntry, OutboxStatus
from backoffice.engine.webhook import webhook_action
from backoffice.engine.worker import Worker

from ..directory_fixtures import WORKER_ACCOUNT, seed
from .automated_steps import ACTION, deploy_automated
from .loopback import send_json
from .service_request import ANN, DESK, later, payload

CASES = 300
KILLS = 20
BATCH = 10
LEASE = timedelta(minutes=5)
CLOCK_SPAN = timedelta(hours=1)
"""How far one worker's clock may run: 3,600 one-second loops, some 30 times what a whole run needs."""
SEED = 20240304
RUN_TIMEOUT = 150.0
"""Seconds the whole run of workers may take before the test gives up (it takes far less)."""
DRIVER = Path(__file__).with_name("crash_worker.py")
AHEAD = 3
"""Worker processes started ahead, in standby, so that a restart does not wait for one to import."""


class Phase(StrEnum):
    BEFORE_ANSWER = "before answer"
    """The effect happened and the worker dies waiting for the answer: the step must be delivered again."""
    AFTER_ANSWER = "after answer"
    """The worker dies while it settles the step, or just after: it may or may not have committed."""


@dataclass(frozen=True)
class Delivery:
    """One POST the endpoint received."""

    key: str
    case_id: int
    attempt: int
    event_id: str


@dataclass(frozen=True)
class Kill:
    """One SIGKILL the endpoint sent: at which delivery, of which key, in which phase, to which worker."""

    delivery: int
    key: str
    phase: Phase
    pid: int


def kill_plan(rng: random.Random) -> dict[int, Phase]:
    """Return the delivery numbers at which to kill the worker, and how, for KILLS kills.

    More than half kill before the answer, which makes redeliveries certain; the rest land in
    the worker's settling. The last kill comes well before the last case's first delivery, so
    every planned kill finds a worker still at work.
    """
    numbers = sorted(rng.sample(range(2, CASES - 2 * BATCH), KILLS))
    phases = [Phase.BEFORE_ANSWER] * (KILLS // 2 + 2) + [Phase.AFTER_ANSWER] * (KILLS - KILLS // 2 - 2)
    rng.shuffle(phases)
    return dict(zip(numbers, phases))


class Endpoint(ThreadingHTTPServer):
    """A webhook receiver on loopback that applies each key's effect once, and kills the worker as planned."""

    daemon_threads = True

    def __init__(self, plan: dict[int, Phase]) -> None:
        super().__init__(("127.0.0.1", 0), DeliveryHandler)
        self.plan = plan
        self.lock = threading.Lock()
        self.deliveries: list[Delivery] = []
        self.keys_applied: set[str] = set()
        # The side effect, per case (a ticket opened at the desk, say): the key is what keeps it single.
        self.effects: Counter[int] = Counter()
        self.kills: list[Kill] = []
        self.worker: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/desk"

    def receive(self, key: str, body: dict) -> tuple[int, Phase | None]:
        """Record a delivery and apply its effect unless its key was applied before; return its number and plan."""
        with self.lock:
            self.deliveries.append(Delivery(key, body["data"]["case_id"], body["data"]["attempt"], body["id"]))
            if key not in self.keys_applied:
                self.keys_applied.add(key)
                self.effects[body["data"]["case_id"]] += 1
            number = len(self.deliveries)
            return number, self.plan.get(number)

    def kill_worker(self, number: int, key: str, phase: Phase) -> None:
        """Send SIGKILL to the running worker.

        The worker posts one request at a time and is blocked on the one being answered, so
        the process this kills is the live sender of that request, never a reaped one.
        """
        with self.lock:
            worker = self.worker
            assert worker is not None, f"delivery {number} came while no worker was running"
            os.kill(worker.pid, signal.SIGKILL)
            self.kills.append(Kill(number, key, phase, worker.pid))

    def watch(self, worker: subprocess.Popen | None) -> None:
        with self.lock:
            self.worker = worker


class DeliveryHandler(BaseHTTPRequestHandler):
    server: Endpoint

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        key = self.headers["idempotency-key"]
        number, phase = self.server.receive(key, body)
        if phase is Phase.BEFORE_ANSWER:
            self.server.kill_worker(number, key, phase)
            self.close_connection = True
            return
        send_json(self, {"desk_ticket": f"T-{body['data']['case_id']}"})
        self.wfile.flush()
        if phase is Phase.AFTER_ANSWER:
            self.server.kill_worker(number, key, phase)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def endpoint():
    server = Endpoint(kill_plan(random.Random(SEED)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def steps(engine: Engine) -> list[OutboxEntry]:
    """Return the outbox entries of the automated step (the outbox holds notifications too)."""
    found, after = [], 0
    while page := engine.outbox(after_id=after, limit=500):
        found += [entry for entry in page if entry.action == ACTION]
        after = page[-1].id
    return found


class WorkerProcesses:
    """The worker processes of a run, each started in standby while those before it work.

    A worker process spends a second or two importing before it runs; started ahead and let go
    when its turn comes, twenty restarts do not cost the test twenty start-ups.
    """

    def __init__(self, database: str, endpoint: Endpoint, log: Path) -> None:
        self.database = database
        self.endpoint = endpoint
        self.log = log
        self.started: list[subprocess.Popen] = []

    def standby(self, clock_start: datetime) -> subprocess.Popen:
        """Start a worker whose clock runs from `clock_start`, waiting to be let go."""
        with self.log.open("a") as stderr:
            process = subprocess.Popen(
                [sys.executable, str(DRIVER), self.database, self.endpoint.url, clock_start.isoformat(),
                 (clock_start + CLOCK_SPAN).isoformat(), "--action", ACTION,
                 "--lease-seconds", str(LEASE.total_seconds()), "--batch", str(BATCH), "--standby"],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=stderr)
        self.started.append(process)
        return process

    def let_go(self, process: subprocess.Popen) -> None:
        self.endpoint.watch(process)
        assert process.stdin is not None
        process.stdin.write(b"go\n")
        process.stdin.close()

    def stop_all(self) -> None:
        """Kill whatever still runs (a failed test must leave no worker behind)."""
        for process in self.started:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
            if process.stdin is not None and not process.stdin.closed:
                process.stdin.close()


def test_a_worker_killed_twenty_times_mid_step_loses_no_step_and_doubles_no_effect(
        engine, definition_copy, database, endpoint, tmp_path, capsys):
    deploy_automated(engine, definition_copy)
    began = time.monotonic()
    cases = []
    for _ in range(CASES):
        case = engine.start_case("service-request", payload(), actor=ANN, now=later(1))
        cases.append(engine.transition(case.id, "notify", actor=DESK, expected_version=case.version, now=later(1)))
    log = tmp_path / "workers.log"
    exits: list[int] = []
    # A worker's clock stays below its start + CLOCK_SPAN, so the leases it takes end before the next one starts.
    clocks = [later(2) + run * (CLOCK_SPAN + LEASE) for run in range(KILLS + 1)]
    started = time.monotonic()
    workers = WorkerProcesses(database, endpoint, log)
    try:
        waiting = deque(workers.standby(clock) for clock in clocks[:AHEAD])
        for run in range(KILLS + 1):
            worker = waiting.popleft()
            workers.let_go(worker)
            if run + AHEAD < len(clocks):
                waiting.append(workers.standby(clocks[run + AHEAD]))
            try:
                exits.append(worker.wait(timeout=max(1.0, RUN_TIMEOUT - (time.monotonic() - started))))
            except subprocess.TimeoutExpired:
                pytest.fail(f"worker {run + 1} still runs after {RUN_TIMEOUT:.0f} s; steps not done: "
                            f"{[entry.as_json() for entry in steps(engine) if entry.status is not OutboxStatus.DONE]}"
                            f"\n{log.read_text()}")
            endpoint.watch(None)
            assert exits[-1] == (-signal.SIGKILL if run < KILLS else 0), log.read_text()
            assert len(endpoint.kills) == min(run + 1, KILLS)
    finally:
        workers.stop_all()
    elapsed = time.monotonic() - started

    # A step whose worker was killed during its call is in doubt: nothing ran it again. A person
    # checks the desk (the endpoint, the other system) and confirms each one as they find it.
    in_doubt = list(engine.steps_in_doubt(limit=500))
    killed_keys = {kill.key for kill in endpoint.kills}
    assert {entry.idempotency_key for entry in in_doubt} <= killed_keys
    assert {kill.key for kill in endpoint.kills if kill.phase is Phase.BEFORE_ANSWER} <= \
        {entry.idempotency_key for entry in in_doubt}
    checker = Actor("olga", "service-desk")
    seed(engine, {"olga": ("service-desk",)})
    for entry in in_doubt:
        assert entry.idempotency_key in endpoint.keys_applied  # it did happen there
        engine.confirm_step(entry.id, happened=True, result={"desk_ticket": f"T-{entry.case_id}"},
                            actor=checker, now=clocks[-1] + CLOCK_SPAN)

    entries = steps(engine)
    keys = {entry.idempotency_key for entry in entries}
    delivered = Counter(delivery.key for delivery in endpoint.deliveries)
    with capsys.disabled():
        print(f"\n{engine.store.engine.dialect.name}: {CASES} steps, {len(exits)} workers, "
              f"{len(endpoint.kills)} killed ({sum(k.phase is Phase.BEFORE_ANSWER for k in endpoint.kills)} before "
              f"the answer); {len(endpoint.deliveries)} deliveries, {len(in_doubt)} steps in doubt confirmed by a "
              f"person; cases started in {started - began:.1f} s, workers ran {elapsed:.1f} s")

    # Every step settled, and done: none lost, parked, or left to a lease.
    assert len(entries) == CASES and len(keys) == CASES
    assert Counter(entry.status for entry in entries) == {OutboxStatus.DONE: CASES}
    # Every case left the automated state exactly once, by the step's way out.
    for case in cases:
        moves_out = [event for event in engine.history(case.id)
                     if event.attributes.get("from_state") == "notify" != event.attributes.get("to_state")]
        assert [(event.activity, event.attributes["to_state"]) for event in moves_out] == [("notified", "triage")]
        moved = engine.case(case.id)
        assert (moved.state, moved.data["desk_ticket"]) == ("triage", f"T-{case.id}")
    # Every key was delivered once: a kill never led to a second delivery, and each effect happened once.
    assert delivered == Counter({key: 1 for key in keys})
    assert all(delivery.event_id == delivery.key for delivery in endpoint.deliveries)
    assert sorted(delivery.case_id for delivery in endpoint.deliveries) == sorted(case.id for case in cases)
    assert endpoint.effects == Counter({case.id: 1 for case in cases})
    # No kill burnt an attempt of a step it did not reach: one attempt per step.
    assert {entry.attempts for entry in entries} == {1}
    assert len({kill.pid for kill in endpoint.kills}) == KILLS


# --- the attempts of steps a killed worker never reached ---

class WorkerKilled(BaseException):
    """SIGKILL within one process: the worker catches no BaseException, so it settles nothing, like a dead one."""


def test_workers_killed_mid_call_leave_the_step_in_doubt_and_the_next_step_to_run(engine, definition_copy):
    # Before: each killed worker used an attempt, and the third death parked the step for the
    # manual twin (notify-by-hand) though its call may have reached the desk three times.
    deploy_automated(engine, definition_copy, attempts=3)
    first, step = (engine.transition(case.id, "notify", actor=DESK, expected_version=case.version, now=later(1))
                   for case in [engine.start_case("service-request", payload(), actor=ANN, now=later(1))
                                for _ in range(2)])
    now = later(2)
    calls: list[ActionCall] = []

    def killed_at_its_first_entry(call: ActionCall) -> None:
        calls.append(call)
        raise WorkerKilled(f"killed while running the step of case {call.case_id}")

    with pytest.raises(WorkerKilled):
        worker_with(engine, killed_at_its_first_entry, name="killed").run_once(now)
    now += LEASE + timedelta(seconds=1)

    def busy_once_for_the_step(call: ActionCall) -> dict[str, str]:
        calls.append(call)
        if call.case_id == step.id and len([c for c in calls if c.case_id == step.id]) == 1:
            raise ActionFailed("POST answered 503")
        return {"desk_ticket": f"T-{call.case_id}"}

    worker = worker_with(engine, busy_once_for_the_step, name="alive")
    report = worker.run_once(now)
    assert report.in_doubt == 1
    # The other step was never reached by the killed worker: its attempt is its own, and retried.
    [entry] = [entry for entry in steps(engine) if entry.case_id == step.id]
    assert (entry.status, entry.attempts, engine.case(step.id).state) == (OutboxStatus.PENDING, 1, "notify")
    assert worker.run_once(entry.next_attempt_at).done == 1
    assert engine.case(step.id).state == "triage"
    # The step whose call was in flight when its worker died runs no more, and goes to no manual step.
    [doubt] = engine.steps_in_doubt()
    assert doubt.case_id == first.id and doubt.attempts == 1
    assert engine.case(first.id).state == "notify" and engine.dead_letters() == []
    assert [call.case_id for call in calls].count(first.id) == 1


def worker_with(engine: Engine, action: Callable[[ActionCall], object], *, name: str) -> Worker:
    registry = ActionRegistry()
    registry.register(ACTION, action)
    return Worker(engine, registry, account=WORKER_ACCOUNT, name=name, rng=random.Random(SEED), lease=LEASE, batch=BATCH)


# --- the webhook's own client, when the receiver is the side that dies mid-request ---

class DroppingHandler(BaseHTTPRequestHandler):
    """Keeps connections open (HTTP/1.1); closes, unanswered, the connection of a key it was told to drop once."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        key = self.headers["idempotency-key"]
        self.server.seen.append((key, self.client_address[1]))
        if key in self.server.drop_once:
            self.server.drop_once.discard(key)
            self.close_connection = True
            return
        send_json(self, {"desk_ticket": f"T-{body['data']['case_id']}"})

    def log_message(self, *args: object) -> None:
        pass


def test_the_webhook_keeps_its_connection_and_gets_over_a_request_dropped_unanswered():
    server = ThreadingHTTPServer(("127.0.0.1", 0), DroppingHandler)
    server.daemon_threads = True
    server.seen, server.drop_once = [], {"second"}
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        post = webhook_action(f"http://127.0.0.1:{server.server_address[1]}/desk")

        def call(key: str) -> ActionCall:
            return ActionCall(case_id=7, action=ACTION, data={}, idempotency_key=key, attempt=1)

        assert post(call("first")) == {"desk_ticket": "T-7"}
        with pytest.raises(ActionFailed) as dropped:
            post(call("second"))
        assert dropped.value.retryable
        assert post(call("second")) == {"desk_ticket": "T-7"}
        assert post(call("third")) == {"desk_ticket": "T-7"}
    finally:
        server.shutdown()
        server.server_close()
    [(_, first), (_, dropped_port), (_, again), (_, third)] = server.seen
    # One client for every call: its connection is kept, and the dropped one is replaced, then kept too.
    assert first == dropped_port != again == third
