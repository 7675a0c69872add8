"""The worker: fires due timers, runs the automated steps and notifications in the outbox, settles each attempt.

    worker = Worker(engine, registry)
    report = worker.run_once(now)      # the CLI's loop calls this on its own clock

Each `run_once` first hands overdue approvals to their secondary approver and fires the
reminders and escalations due by `now` (see `backoffice.engine.timers`); then it leases the due
entries (a lease that runs out, so a worker that dies loses
nothing: another takes the entry again), calls each one's action with the entry's
idempotency key, and settles it (see `backoffice.engine.automation`). Time is passed in; the
jitter of retries comes from the `random.Random` given, so tests are repeatable.
"""

from __future__ import annotations

import os
import random
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from backoffice.engine.actions import ActionCall, ActionRegistry, RaiseException
from backoffice.engine.audit_verify import checkpoint
from backoffice.engine.automation import StepLeaseLost
from backoffice.engine.cases import utc
from backoffice.engine.engine import Engine
from backoffice.engine.notifications import NOTIFICATION_RETRY
from backoffice.engine.outbox import NOTIFY_ACTION, OutboxEntry, OutboxKind, retry_delay
from backoffice.errors import (AuditKeyError, BackofficeError, CheckpointStoreError, TrailWentBack,
                               UnknownAction)

DEFAULT_LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class WorkerReport:
    """What one `run_once` did: approvals handed on, timers fired, entries run and how they settled."""

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


class Worker:
    """Runs automated steps from the outbox with the actions of a registry."""

    def __init__(self, engine: Engine, registry: ActionRegistry, *, name: str | None = None,
                 rng: random.Random | None = None, lease: timedelta = DEFAULT_LEASE, batch: int = 10,
                 checkpoint_every: timedelta | None = None) -> None:
        self.engine = engine
        self.registry = registry
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.rng = rng or random.Random()
        self.lease = lease
        self.batch = batch
        # Signed checkpoints of the audit chains on a schedule: they bound how much of the trail's
        # end could be cut off unseen (see backoffice.engine.checkpoints).
        self.checkpoint_every = checkpoint_every
        self._last_checkpoint: datetime | None = None

    def run_once(self, now: datetime) -> WorkerReport:
        """Lease the entries due at `now` (up to the batch size), run them, and settle each one."""
        now = utc(now)
        escalated = len(self.engine.tick(now))
        fired = len(self.engine.fire_timers(now))
        # Without a notify action this worker leaves notifications to one that has it.
        kinds = (OutboxKind.STEP, OutboxKind.NOTIFICATION) if NOTIFY_ACTION in self.registry else (OutboxKind.STEP,)
        counts = {"done": 0, "retried": 0, "dead": 0, "manual": 0, "lost": 0}
        claimed = 0
        # One entry leased at a time, just before it runs: a claim counts an attempt, so a worker
        # killed in the middle of a batch leased at once would use up attempts it never made.
        while claimed < self.batch:
            with self.engine.store.transaction() as tx:
                entries = tx.claim_outbox(worker=self.name, now=now, until=now + self.lease, limit=1, kinds=kinds)
            if not entries:
                break
            claimed += 1
            entry = entries[0]
            try:
                if entry.attempts > entry.max_attempts:
                    counts[self._worker_died(entry, now)] += 1
                    continue
                run = self._deliver if entry.kind is OutboxKind.NOTIFICATION else self._run
                counts[run(entry, now)] += 1
            except StepLeaseLost:
                counts["lost"] += 1
        return WorkerReport(escalated_approvals=escalated, timers=fired, claimed=claimed, **counts,
                            **self._checkpoint_if_due(now))

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
        """Park an entry whose last attempt never settled: its worker died (perhaps of this very entry)."""
        error = f"the worker died during attempt {entry.max_attempts} of {entry.max_attempts}"
        if entry.kind is OutboxKind.NOTIFICATION:
            if not self.engine._notification_settled(entry, now=now, error=error):
                raise StepLeaseLost(entry.id)
        else:
            self.engine._step_failed(entry, error, now=now, retry_at=None)
        return "dead"

    def _deliver(self, entry: OutboxEntry, now: datetime) -> str:
        """Hand a notification to the notify action; retry it with backoff, park it dead after the last attempt."""
        try:
            self.registry.get(NOTIFY_ACTION)(ActionCall(
                case_id=entry.case_id, action=NOTIFY_ACTION, data=dict(entry.payload or {}),
                idempotency_key=entry.idempotency_key, attempt=entry.attempts, workflow=entry.workflow,
                state=entry.state, at=now))
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
        case = engine.store.case(entry.case_id)
        if case is None or case.state != entry.state:
            engine._step_skipped(entry, now=now, why=f"the case left {entry.state!r} before the step ran")
            return "done"
        if engine.store.manual_mode(entry.workflow):
            engine._step_to_people(entry, now=now)
            return "manual"
        try:
            action = self.registry.get(entry.action)
            result = action(ActionCall(case_id=case.id, action=entry.action, data=case.data,
                                       idempotency_key=entry.idempotency_key, attempt=entry.attempts,
                                       workflow=case.workflow, state=entry.state, at=now))
        except RaiseException as raised:
            try:
                engine._step_raised(entry, raised.reason, note=raised.note, now=now)
            except BackofficeError as exc:  # a reason the taxonomy does not allow here: people decide
                engine._step_failed(entry, f"the action raised {raised.reason!r}, which cannot be raised here: {exc}",
                                    now=now, retry_at=None)
                return "dead"
            return "done"
        except Exception as exc:  # an action's failure, whatever it is, is this attempt's outcome
            retryable = getattr(exc, "retryable", True) and not isinstance(exc, UnknownAction)
            return self._failed(entry, f"{type(exc).__name__}: {exc}", now=now, retryable=retryable)
        try:
            engine._step_succeeded(entry, result, now=now)
        except BackofficeError as exc:
            # The effect happened but the case cannot move on (a guard, the contract, a racing
            # move): park it for people; a replay repeats the effect under the same key.
            engine._step_failed(entry, f"the action succeeded but the case cannot move on: {exc}", now=now,
                                retry_at=None)
            return "dead"
        return "done"

    def _failed(self, entry: OutboxEntry, error: str, *, now: datetime, retryable: bool) -> str:
        case = self.engine.case(entry.case_id)
        step = self.engine.running(case.workflow, case.definition_version).definition.automated_step(entry.state)
        if retryable and step is not None and entry.attempts < entry.max_attempts:
            retry_at = now + retry_delay(step.retry, entry.attempts, self.rng)
            self.engine._step_failed(entry, error, now=now, retry_at=retry_at)
            return "retried"
        self.engine._step_failed(entry, error, now=now, retry_at=None)
        return "dead"
