"""The worker: fires due timers, runs the automated steps and notifications in the outbox, settles each attempt.

    worker = Worker(engine, registry, account="svc-erp")   # a principal granted the worker role
    report = worker.run_once(now)      # the CLI's loop calls this on its own clock

Each `run_once` first hands overdue approvals to their secondary approver and fires the
reminders and escalations due by `now` (see `backoffice.engine.timers`); then it sets aside as
"in doubt" every step whose lease ran out while it ran (its worker died or hung mid-call: the
call may have reached the other system, so a person checks before anything is done again, see
`backoffice.engine.in_doubt`); then it leases the due entries whose action it has, one at a
time, calls each one's action with the entry's idempotency key, and settles it (see
`backoffice.engine.automation`). Steps whose action it does not have are left to a worker that
has it, and counted in the report.

An action runs in a thread of its own while the worker watches it: the lease is renewed while
it runs (a slow action is never taken by a second worker), and a call that runs past the step's
`timeout:` is abandoned and set aside as in doubt. Time is passed in; the jitter of retries
comes from the `random.Random` given, and the elapsed time of a call from `clock`, so tests
are repeatable.
"""

from __future__ import annotations

import os
import random
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from backoffice.engine.actions import Action, ActionCall, ActionRegistry, RaiseException
from backoffice.engine.audit_verify import checkpoint
from backoffice.engine.automation import MAYBE_DELIVERED, StepLeaseLost
from backoffice.engine.cases import Case, utc
from backoffice.engine.engine import Engine
from backoffice.engine.notifications import NOTIFICATION_RETRY
from backoffice.engine.identity import canonical_id
from backoffice.engine.outbox import NOTIFY_ACTION, OutboxEntry, OutboxKind, retry_delay
from backoffice.engine.roles import PlatformRole, require_role
from backoffice.errors import (AuditKeyError, BackofficeError, CaseAltered, CheckpointStoreError, TrailWentBack,
                               UnknownCase)
from backoffice.limits import check_lease, check_payload

DEFAULT_LEASE = timedelta(minutes=5)
NOTIFICATION_TIMEOUT = timedelta(minutes=1)
"""How long a notification's delivery may take (a step's own timeout comes from its definition)."""


@dataclass(frozen=True)
class WorkerReport:
    """What one `run_once` did: approvals handed on, timers fired, entries run and how they settled.

    `elsewhere` counts, by action, the due steps this worker left to a worker that has their action;
    `timers_refused` says why each due timer held back was not fired (its row, or its case's, was edited
    outside the engine).
    """

    escalated_approvals: int = 0
    timers: int = 0
    claimed: int = 0
    done: int = 0
    retried: int = 0
    dead: int = 0
    manual: int = 0
    lost: int = 0
    checkpoint: int | None = None
    checkpoint_refused: str | None = None
    in_doubt: int = 0
    timed_out: int = 0
    elsewhere: Mapping[str, int] = field(default_factory=dict)
    timers_refused: tuple[str, ...] = ()


class _Abandoned(Exception):
    """The call ran past its timeout, or the lease was lost while it ran: the worker stops waiting for it."""

    def __init__(self, why: str, *, lease_lost: bool = False) -> None:
        super().__init__(why)
        self.lease_lost = lease_lost


class Worker:
    """Runs automated steps from the outbox with the actions of a registry.

    Args:
        account: who the worker is: a principal of the directory holding the `worker` role (a service
            account, as a rule). The moves its steps make are recorded as that account's.
        lease: how long a claim on an entry lasts before another worker may act on it; renewed
            while the action runs. Bounded by `backoffice.limits` (1 second to 24 hours).
        clock: seconds on a monotonic clock (time.monotonic); tests pass their own.
        watch_every: real seconds between two looks at a running call (lease renewal, timeout).
    """

    def __init__(self, engine: Engine, registry: ActionRegistry, *, account: str, name: str | None = None,
                 rng: random.Random | None = None, lease: timedelta = DEFAULT_LEASE, batch: int = 10,
                 checkpoint_every: timedelta | None = None, clock: Callable[[], float] = time.monotonic,
                 watch_every: float | None = None) -> None:
        self.engine = engine
        self.registry = registry
        self.account = canonical_id(account)
        self.name = name or f"{self.account}@{socket.gethostname()}:{os.getpid()}"
        self.rng = rng or random.Random()
        self.lease = check_lease(lease, "the worker's lease")
        self.batch = batch
        # Signed checkpoints of the audit chains on a schedule: they bound how much of the trail's
        # end could be cut off unseen (see backoffice.engine.checkpoints).
        self.checkpoint_every = checkpoint_every
        self._last_checkpoint: datetime | None = None
        self.clock = clock
        # Renew well before the lease runs out: three looks per lease, and at least one a second.
        self.watch_every = watch_every if watch_every is not None else min(1.0, lease.total_seconds() / 3)

    def run_once(self, now: datetime) -> WorkerReport:
        """Lease the entries due at `now` (up to the batch size) whose action it has, run them, settle each."""
        now = utc(now)
        # Asked of the directory at every poll, not once: a revoked grant or a deactivated
        # account stops the worker before it claims anything more.
        require_role(self.engine.identify(self.account, workflow=None, now=now), PlatformRole.WORKER,
                     what="run automated steps")
        escalated = len(self.engine.tick(now))
        refused: list[CaseAltered] = []
        fired = len(self.engine.fire_timers(now, refused=refused))
        doubted = self.engine._sweep_in_doubt(now)
        # Without a notify action this worker leaves notifications to one that has it.
        kinds = (OutboxKind.STEP, OutboxKind.NOTIFICATION) if NOTIFY_ACTION in self.registry else (OutboxKind.STEP,)
        actions = [name for name in self.registry if name != NOTIFY_ACTION] + \
            ([NOTIFY_ACTION] if NOTIFY_ACTION in self.registry else [])
        counts = {"done": 0, "retried": 0, "dead": 0, "manual": 0, "lost": 0, "in_doubt": doubted, "timed_out": 0}
        claimed = 0
        # One entry leased at a time, just before it runs: a claim counts an attempt, so a worker
        # killed in the middle of a batch leased at once would use up attempts it never made.
        while claimed < self.batch:
            with self.engine.store.transaction() as tx:
                entries = tx.claim_outbox(worker=self.name, now=now, until=now + self.lease, limit=1, kinds=kinds,
                                          actions=actions)
            if not entries:
                break
            claimed += 1
            entry = entries[0]
            try:
                if entry.attempts > entry.max_attempts:
                    counts[self._worker_died(entry, now)] += 1
                    continue
                run = self._deliver if entry.kind is OutboxKind.NOTIFICATION else self._run
                outcome = run(entry, now)
                if outcome == "timed_out":
                    counts["in_doubt"] += 1
                counts[outcome] += 1
            except StepLeaseLost:
                counts["lost"] += 1
        elsewhere = self.engine.store.due_elsewhere(now, actions)
        return WorkerReport(escalated_approvals=escalated, timers=fired, claimed=claimed, elsewhere=elsewhere,
                            timers_refused=tuple(str(altered) for altered in refused),
                            **counts, **self._checkpoint_if_due(now))

    def _checkpoint_if_due(self, now: datetime) -> dict[str, object]:
        if self.checkpoint_every is None or (self._last_checkpoint is not None
                                             and now - self._last_checkpoint < self.checkpoint_every):
            return {}
        self._last_checkpoint = now
        try:
            signed = checkpoint(self.engine.store, now=now, key=self.engine.audit_key)
        except (TrailWentBack, CheckpointStoreError, AuditKeyError) as exc:
            # Nothing signed over a trail that went back (or where it cannot be kept): the operator must
            # look, and the steps keep running meanwhile.
            return {"checkpoint_refused": str(exc)}
        return {"checkpoint": signed.number}

    def _worker_died(self, entry: OutboxEntry, now: datetime) -> str:
        """Park a notification whose last attempt never settled: its worker died (perhaps of this very entry)."""
        error = f"the worker died during attempt {entry.max_attempts} of {entry.max_attempts}"
        if not self.engine._notification_settled(entry, now=now, error=error):
            raise StepLeaseLost(entry.id)
        return "dead"

    def _deliver(self, entry: OutboxEntry, now: datetime) -> str:
        """Hand a notification to the notify action; retry it with backoff, park it dead after the last attempt."""
        call = ActionCall(case_id=entry.case_id, action=NOTIFY_ACTION, data=dict(entry.payload or {}),
                          idempotency_key=entry.idempotency_key, attempt=entry.attempts, workflow=entry.workflow,
                          state=entry.state, at=now)
        try:
            self._call(self.registry.get(NOTIFY_ACTION), call, entry, now, timeout=NOTIFICATION_TIMEOUT)
        except _Abandoned as abandoned:
            if abandoned.lease_lost:
                raise StepLeaseLost(entry.id) from None
            error, retry = str(abandoned), entry.attempts < entry.max_attempts
            retry_at = now + retry_delay(NOTIFICATION_RETRY, entry.attempts, self.rng) if retry else None
            if not self.engine._notification_settled(entry, now=now, error=error, retry_at=retry_at):
                raise StepLeaseLost(entry.id) from None
            return "retried" if retry else "dead"
        except Exception as exc:  # a failed delivery, whatever it is, is this attempt's outcome
            error = f"{type(exc).__name__}: {exc}"
            retry = getattr(exc, "retryable", True) and entry.attempts < entry.max_attempts
            retry_at = now + retry_delay(NOTIFICATION_RETRY, entry.attempts, self.rng) if retry else None
            if not self.engine._notification_settled(entry, now=now, error=error, retry_at=retry_at):
                raise StepLeaseLost(entry.id) from None
            return "retried" if retry else "dead"
        if not self.engine._notification_settled(entry, now=now):
            raise StepLeaseLost(entry.id)
        return "done"

    def _run(self, entry: OutboxEntry, now: datetime) -> str:
        engine = self.engine
        try:
            # Held to the audit record that last wrote it (Engine.case), before anything is called for it.
            case: Case | None = engine.case(entry.case_id)
        except UnknownCase:
            case = None
        except CaseAltered as altered:
            engine._step_refused(entry, now=now, why=f"{altered}; nothing was called")
            return "dead"
        if case is None or case.state != entry.state:
            engine._step_skipped(entry, now=now, why=f"the case left {entry.state!r} before the step ran")
            return "done"
        step = engine.running(case.workflow, case.definition_version).definition.automated_step(entry.state)
        if step is None or step.action != entry.action:
            # The outbox is no record of what to run (its rows change at every poll, unsealed): the case's
            # definition is. A row edited or added in SQL to run another action is parked, never called.
            named = f"names {step.action!r}" if step is not None else "names no automated step there"
            engine._step_refused(entry, now=now, why=f"the entry asks for action {entry.action!r} in state "
                                                     f"{entry.state!r}, but version {case.definition_version} of "
                                                     f"{case.workflow} {named}: it was not written by the engine, "
                                                     f"and nothing was called")
            return "dead"
        if engine._manual_mode(engine.store, entry.workflow):
            engine._step_to_people(entry, now=now, by=self.account)
            return "manual"
        timeout = timedelta(seconds=step.timeout.seconds) if step is not None and step.timeout else None
        call = ActionCall(case_id=case.id, action=entry.action, data=case.data,
                          idempotency_key=entry.idempotency_key, attempt=entry.attempts,
                          workflow=case.workflow, state=entry.state, at=now)
        try:
            result = self._call(self.registry.get(entry.action), call, entry, now, timeout=timeout)
            if result is not None and not isinstance(result, Mapping):
                raise TypeError(f"the action returned {type(result).__name__}, not a mapping of fields")
            check_payload(dict(result or {}), what=f"the result of {entry.action}")
        except _Abandoned as abandoned:
            if abandoned.lease_lost:
                raise StepLeaseLost(entry.id) from None
            if not engine._step_in_doubt(entry, error=str(abandoned), now=now):
                raise StepLeaseLost(entry.id) from None
            return "timed_out"
        except RaiseException as raised:
            try:
                engine._step_raised(entry, raised.reason, note=raised.note, now=now, by=self.account)
            except BackofficeError as exc:  # a reason the taxonomy does not allow here: people decide
                engine._step_failed(entry, f"the action raised {raised.reason!r}, which cannot be raised here: {exc}",
                                    now=now, by=self.account, retry_at=None)
                return "dead"
            return "done"
        except Exception as exc:  # an action's failure, whatever it is, is this attempt's outcome
            return self._failed(entry, exc, now=now)
        try:
            engine._step_succeeded(entry, result, now=now, by=self.account)
        except BackofficeError as exc:
            # The effect happened but the case cannot move on (a guard, the contract, a racing
            # move): park it for people; a replay repeats the effect under the same key.
            engine._step_failed(entry, f"the action succeeded but the case cannot move on: {exc}", now=now,
                                by=self.account, retry_at=None)
            return "dead"
        return "done"

    def _failed(self, entry: OutboxEntry, exc: Exception, *, now: datetime) -> str:
        error = f"{type(exc).__name__}: {exc}"
        retryable = getattr(exc, "retryable", True)
        maybe_delivered = getattr(exc, "delivered", None) is not False or \
            bool((entry.payload or {}).get(MAYBE_DELIVERED))
        case = self.engine.case(entry.case_id)
        step = self.engine.running(case.workflow, case.definition_version).definition.automated_step(entry.state)
        if retryable and step is not None and entry.attempts < entry.max_attempts:
            retry_at = now + retry_delay(step.retry, entry.attempts, self.rng)
            self.engine._step_failed(entry, error, now=now, by=self.account, retry_at=retry_at,
                                     maybe_delivered=maybe_delivered)
            return "retried"
        # Out of attempts. Unless the other system refused the request, or certainly got none of
        # them (no attempt connected), one may have reached it: handing the step to its manual
        # twin now could make the effect twice. A person checks first.
        if retryable and maybe_delivered:
            if not self.engine._step_in_doubt(entry, error=f"attempts ran out after {error}", now=now):
                raise StepLeaseLost(entry.id)
            return "in_doubt"
        self.engine._step_failed(entry, error, now=now, by=self.account, retry_at=None)
        return "dead"

    def _call(self, action: Action, call: ActionCall, entry: OutboxEntry, now: datetime, *,
              timeout: timedelta | None) -> Any:
        """Run `action` in a thread, renewing the lease while it runs; abandon it past `timeout`.

        Raises:
            _Abandoned: the timeout passed, or the lease was lost (the call may still be running).
            whatever the action raised.
        """
        outcome: dict[str, Any] = {}
        finished = threading.Event()

        def run() -> None:
            try:
                outcome["result"] = action(call)
            except BaseException as exc:  # noqa: BLE001 (handed to the worker's thread as it is)
                outcome["error"] = exc
            finally:
                finished.set()

        started = self.clock()
        renewed = started
        # A daemon thread: an abandoned call must not keep the process alive when the worker stops.
        threading.Thread(target=run, name=f"action-{entry.id}", daemon=True).start()
        while not finished.wait(self.watch_every):
            elapsed = self.clock() - started
            if timeout is not None and elapsed >= timeout.total_seconds():
                raise _Abandoned(f"the call ran past the step's timeout of {timeout} (attempt {entry.attempts} of "
                                 f"{entry.max_attempts}) and was abandoned; it may have reached the other system")
            if self.clock() - renewed >= self.lease.total_seconds() / 3:
                with self.engine.store.transaction() as tx:
                    if not tx.renew_outbox_lease(entry, until=now + timedelta(seconds=elapsed) + self.lease):
                        raise _Abandoned("the lease was lost while the action ran", lease_lost=True)
                renewed = self.clock()
        error = outcome.get("error")
        if error is not None:
            raise error
        return outcome.get("result")
