"""The outbox: side effects recorded with the change that caused them, then delivered by a worker.

A case entering an automated state writes one outbox entry ("run action X for case C") in the
transaction of the move, so the effect is never lost and never runs for a move that did not
commit. Notifications (a reminder, an escalation, an approval handed on) are outbox entries
too, of kind "notification", delivered by the worker's `notify` action. The worker delivers it at least once; every attempt carries the same idempotency key,
so the receiving side can make delivery exactly once. Retries wait longer each time (the step's
`RetryPolicy`), with jitter so that a burst of failures does not come back as a burst.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from backoffice.definitions.model import RetryPolicy


class OutboxStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    DEAD = "dead"
    MANUAL = "manual"
    """Handed to people: the workflow was switched to manual mode before the worker ran it, or a person
    found that an attempt in doubt did not happen and chose the manual step."""
    IN_DOUBT = "in_doubt"
    """Its outcome is unknown (the worker died or timed out mid-call, or its attempts ran out after a
    delivery may have happened): nothing more is done until a person confirms what happened."""


class OutboxKind(StrEnum):
    STEP = "step"
    """An automated step of the case's state: the worker runs its action and moves the case on."""
    NOTIFICATION = "notification"
    """A message to people: the worker hands it to the `notify` action; the case does not move."""


NOTIFY_ACTION = "notify"
"""The action that delivers notifications (a webhook, a mail gateway...), registered like any other."""


@dataclass(frozen=True)
class NewOutboxEntry:
    """An outbox entry about to be stored, pending from `created_at`."""

    case_id: int
    workflow: str
    state: str
    action: str
    idempotency_key: str
    max_attempts: int
    created_at: datetime
    kind: OutboxKind = OutboxKind.STEP
    payload: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class OutboxEntry:
    """A stored outbox entry and where its delivery stands."""

    id: int
    case_id: int
    workflow: str
    state: str
    action: str
    idempotency_key: str
    status: OutboxStatus
    attempts: int
    max_attempts: int
    next_attempt_at: datetime
    created_at: datetime
    last_error: str | None = None
    claimed_by: str | None = None
    lease_expires_at: datetime | None = None
    finished_at: datetime | None = None
    kind: OutboxKind = OutboxKind.STEP
    payload: Mapping[str, Any] | None = None

    def as_json(self) -> dict[str, object]:
        def when(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment else None
        return {"id": self.id, "case_id": self.case_id, "workflow": self.workflow, "state": self.state,
                "action": self.action, "idempotency_key": self.idempotency_key, "status": str(self.status),
                "attempts": self.attempts, "max_attempts": self.max_attempts,
                "next_attempt_at": when(self.next_attempt_at), "last_error": self.last_error,
                "finished_at": when(self.finished_at), "kind": str(self.kind),
                **({"payload": dict(self.payload)} if self.payload is not None else {})}


def step_key(workflow: str, case_id: int, state: str, case_version: int) -> str:
    """Return the idempotency key of one visit of a case to an automated state.

    The case version the move produced tells visits apart: a case sent back to the same step
    later is a new effect, while every attempt and replay of one visit shares the key.
    """
    return f"{workflow}/{case_id}/{state}/{case_version}"


def retry_delay(policy: RetryPolicy, attempt: int, rng: random.Random) -> timedelta:
    """Return how long to wait after failed `attempt` (1-based): the policy's backoff, with jitter.

    "Equal jitter": half the backoff is kept and the other half drawn at random, so waits still
    grow with each attempt while failures that happened together spread out.
    """
    seconds = policy.delay(attempt)
    return timedelta(seconds=seconds / 2 + rng.uniform(0, seconds / 2))
