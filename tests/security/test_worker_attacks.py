"""Attacks on the worker and the manual fallback, on SQLite and PostgreSQL.

The double purchase order: a worker killed during its call, again and again, must neither burn
the step's attempts nor hand the step to its manual twin while the other system may have done
the work; nothing runs again, and no person moves the case on, until a person has checked the
other system and said what they found there.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
from collections import Counter
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from backoffice.engine import Actor
from backoffice.engine.actions import ActionRegistry
from backoffice.engine.in_doubt import NotHappened
from backoffice.engine.outbox import OutboxStatus
from backoffice.engine.worker import Worker
from backoffice.errors import NotDeadLettered, NotEligibleForTask, RoleRequired, TransitionNotAllowed, UnknownActor

from ..directory_fixtures import WORKER_ACCOUNT, seed
from ..engine.automated_steps import ACTION, deploy_automated
from ..engine.conftest import definition_copy  # noqa: F401 (fixture)
from ..engine.loopback import send_json
from ..engine.service_request import ANN, DESK, later, payload

DRIVER = Path(__file__).resolve().parents[1] / "engine" / "crash_worker.py"
LEASE = timedelta(minutes=5)
SPAN = timedelta(minutes=10)
KILLS = 5
CHECKER = Actor("olga", "service-desk")


class Desk(ThreadingHTTPServer):
    """The other system: kills the worker during its first KILLS calls, before applying them; then applies once."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), DeskHandler)
        self.deliveries: list[str] = []
        self.effects: Counter[str] = Counter()
        self.worker: subprocess.Popen | None = None
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/desk"


class DeskHandler(BaseHTTPRequestHandler):
    server: Desk

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        key = self.headers["idempotency-key"]
        with self.server.lock:
            self.server.deliveries.append(key)
            if len(self.server.deliveries) <= KILLS:
                # Mid-call: the request arrived, the worker dies before any answer.
                os.kill(self.server.worker.pid, signal.SIGKILL)
                self.close_connection = True
                return
            if key not in self.server.effects:
                self.server.effects[key] += 1
        send_json(self, {"desk_ticket": f"T-{body['data']['case_id']}"})

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def desk():
    server = Desk()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def run_worker(database: str, desk: Desk, clock_start, log: Path) -> int:
    with log.open("a") as stderr:
        process = subprocess.Popen(
            [sys.executable, str(DRIVER), database, desk.url, clock_start.isoformat(), (clock_start + SPAN).isoformat(),
             "--action", ACTION, "--lease-seconds", str(LEASE.total_seconds()), "--batch", "5"],
            stdout=subprocess.DEVNULL, stderr=stderr)
        desk.worker = process
        try:
            return process.wait(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()


def test_a_worker_killed_mid_call_five_times_never_burns_the_attempts_nor_falls_to_the_manual_step(
        engine, definition_copy, database, desk, tmp_path):
    deploy_automated(engine, definition_copy, attempts=3)
    seed(engine, {"olga": ("service-desk",)})   # checks the desk when a step is in doubt
    case = engine.start_case("service-request", payload(), actor=ANN, now=later(1))
    case = engine.transition(case.id, "notify", actor=DESK, expected_version=case.version, now=later(1))
    log = tmp_path / "workers.log"
    sweeper = Worker(engine, ActionRegistry(), account=WORKER_ACCOUNT, name="sweeper", rng=random.Random(1), lease=LEASE)
    clock = later(2)
    for kill in range(KILLS):
        assert run_worker(database, desk, clock, log) == -signal.SIGKILL, log.read_text()
        clock += SPAN + LEASE
        # The next worker finds the lease run out during the call: the step is in doubt, not run again.
        assert sweeper.run_once(clock).in_doubt == 1
        [entry] = engine.steps_in_doubt()
        assert (entry.attempts, entry.status) == (1, OutboxStatus.IN_DOUBT)
        current = engine.case(case.id)
        assert current.state == "notify"
        # Nobody moves the case around the doubt, nor replays the step.
        with pytest.raises(TransitionNotAllowed, match="in doubt"):
            engine.transition(case.id, "notify-by-hand", actor=DESK, expected_version=current.version, now=clock)
        with pytest.raises(TransitionNotAllowed, match="in doubt"):
            engine.transition(case.id, "triage", actor=DESK, expected_version=current.version, now=clock)
        with pytest.raises(NotDeadLettered):
            engine.replay(entry.id, actor="ops-admin", now=clock)
        with pytest.raises(UnknownActor):
            engine.confirm_step(entry.id, happened=False, actor=Actor("mallory", "service-desk"), now=clock)
        with pytest.raises(NotEligibleForTask):
            engine.confirm_step(entry.id, happened=False, actor=Actor("carl", "resolver"), now=clock)
        # A person checks the desk: the request never made a ticket. Run it again.
        assert desk.effects == Counter()
        engine.confirm_step(entry.id, happened=False, then=NotHappened.RETRY, actor=CHECKER, now=clock)
        assert engine.outbox_entry(entry.id).attempts == 0
    assert run_worker(database, desk, clock, log) == 0, log.read_text()

    [entry] = engine.outbox(case_id=case.id)
    assert (entry.status, entry.attempts) == (OutboxStatus.DONE, 1)
    assert engine.dead_letters() == [] and engine.steps_in_doubt() == []
    moved = engine.case(case.id)
    assert (moved.state, moved.data["desk_ticket"]) == ("triage", f"T-{case.id}")
    assert "notify-by-hand" not in [event.attributes.get("to_state") for event in engine.history(case.id)]
    assert desk.deliveries == [entry.idempotency_key] * (KILLS + 1)
    assert desk.effects == Counter({entry.idempotency_key: 1})


def test_a_step_in_doubt_that_happened_is_confirmed_once_and_never_sent_again(engine, definition_copy, database,
                                                                                desk, tmp_path):
    deploy_automated(engine, definition_copy, attempts=3)
    seed(engine, {"olga": ("service-desk",)})   # checks the desk when a step is in doubt
    case = engine.start_case("service-request", payload(), actor=ANN, now=later(1))
    engine.transition(case.id, "notify", actor=DESK, expected_version=case.version, now=later(1))
    assert run_worker(database, desk, later(2), tmp_path / "w.log") == -signal.SIGKILL
    clock = later(2) + SPAN + LEASE
    Worker(engine, ActionRegistry(), account=WORKER_ACCOUNT, name="sweeper", lease=LEASE).run_once(clock)
    [entry] = engine.steps_in_doubt()
    moved = engine.confirm_step(entry.id, happened=True, result={"desk_ticket": "T-seen-at-the-desk"},
                                actor=CHECKER, now=clock)
    assert moved.state == "triage"
    # A second worker finds nothing to do: the step is settled by the person's confirmation.
    assert run_worker(database, desk, clock + LEASE, tmp_path / "w.log") == 0
    assert desk.deliveries == [entry.idempotency_key]
    with pytest.raises(Exception, match="not in doubt"):
        engine.confirm_step(entry.id, happened=False, actor=CHECKER, now=clock)


def test_a_worker_without_the_action_leaves_the_step_and_a_worker_with_it_runs_it(engine, definition_copy):
    deploy_automated(engine, definition_copy)
    case = engine.start_case("service-request", payload(), actor=ANN, now=later(1))
    engine.transition(case.id, "notify", actor=DESK, expected_version=case.version, now=later(1))
    for _ in range(5):
        report = Worker(engine, ActionRegistry(), account=WORKER_ACCOUNT, lease=LEASE).run_once(later(2))
        assert (report.claimed, dict(report.elsewhere)) == (0, {ACTION: 1})
    [entry] = engine.outbox(case_id=case.id)
    assert (entry.status, entry.attempts) == (OutboxStatus.PENDING, 0)
    registry = ActionRegistry()
    registry.register(ACTION, lambda call: {"desk_ticket": "T-1"})
    assert Worker(engine, registry, account=WORKER_ACCOUNT, lease=LEASE).run_once(later(2)).done == 1


def test_a_worker_runs_only_as_a_principal_granted_the_worker_role_and_stops_when_it_is_revoked(
        engine, definition_copy):
    deploy_automated(engine, definition_copy)
    case = engine.start_case("service-request", payload(), actor=ANN, now=later(1))
    engine.transition(case.id, "notify", actor=DESK, expected_version=case.version, now=later(1))
    registry = ActionRegistry()
    registry.register(ACTION, lambda call: {"desk_ticket": "T-1"})
    # A person of the desk, or an account nobody granted the role, is no worker: nothing is claimed.
    for who in ("bob", "svc-integration"):
        with pytest.raises(RoleRequired, match="worker"):
            Worker(engine, registry, account=who, lease=LEASE).run_once(later(2))
    with pytest.raises(UnknownActor):
        Worker(engine, registry, account="backoffice-worker-2", lease=LEASE).run_once(later(2))
    [entry] = engine.outbox(case_id=case.id)
    assert (entry.status, entry.attempts) == (OutboxStatus.PENDING, 0)
    # The grant is asked at every poll: revoked between two polls, the running worker stops.
    worker = Worker(engine, registry, account=WORKER_ACCOUNT, lease=LEASE)
    engine.grant("worker", to=WORKER_ACCOUNT, actor="admin", now=later(2), revoke=True)
    with pytest.raises(RoleRequired):
        worker.run_once(later(2))
    assert engine.outbox(case_id=case.id)[0].status is OutboxStatus.PENDING
    engine.grant("worker", to=WORKER_ACCOUNT, actor="admin", now=later(2))
    assert worker.run_once(later(3)).done == 1
    # The move the step made is the account's, in the events the map reads.
    assert engine.history(case.id)[-1].resource == WORKER_ACCOUNT
