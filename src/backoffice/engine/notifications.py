"""Notifications: messages to people, written to the outbox with the change that caused them.

A reminder that fires, an escalation, an approval handed to the secondary approver: each writes
one outbox entry of kind "notification" in its own transaction, so a message is never lost and
never sent for a change that did not commit. The worker delivers it through the registered
`notify` action (a webhook to a mail or chat gateway, a Python callable) at least once, with
one idempotency key per message, retried with backoff and parked as a dead letter when every
attempt failed. A worker without a `notify` action leaves notifications pending for one that has.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from backoffice.definitions.model import RetryPolicy
from backoffice.engine.cases import Case
from backoffice.engine.outbox import NOTIFY_ACTION, NewOutboxEntry, OutboxEntry, OutboxKind, OutboxStatus

if TYPE_CHECKING:
    from backoffice.engine.engine import Engine
    from backoffice.engine.ports import StoreTransaction

NOTIFICATION_RETRY = RetryPolicy(attempts=5)
"""Messages are cheap to resend and costly to lose: more attempts than a step's default."""


class NotificationOperations:
    """Writing and settling notifications; mixed into `Engine`."""

    def _notify(self: Engine, tx: StoreTransaction, case: Case, *, kind: str, subject: str, to: str,
                now: datetime, key: str, detail: Mapping[str, Any] | None = None) -> OutboxEntry:
        """Write a notification about `case` to `to` in `tx`; `key` tells this message apart within the case."""
        payload = {"type": kind, "subject": subject, "to": to, "case_id": case.id, "workflow": case.workflow,
                   "state": case.state, "priority": str(case.priority), "requester": case.requester,
                   "at": now.isoformat(), **({"detail": dict(detail)} if detail else {})}
        return tx.insert_outbox(NewOutboxEntry(
            case_id=case.id, workflow=case.workflow, state=case.state, action=NOTIFY_ACTION,
            idempotency_key=f"{case.workflow}/{case.id}/{key}", max_attempts=NOTIFICATION_RETRY.attempts,
            created_at=now, kind=OutboxKind.NOTIFICATION, payload=payload))

    def _notification_settled(self: Engine, entry: OutboxEntry, *, now: datetime, error: str | None = None,
                              retry_at: datetime | None = None) -> bool:
        """Mark a leased notification sent (no error), due again at `retry_at`, or dead; False when the lease was lost."""
        if error is None:
            status = OutboxStatus.DONE
        else:
            status = OutboxStatus.PENDING if retry_at is not None else OutboxStatus.DEAD
        with self.store.transaction() as tx:
            return tx.finish_outbox(entry, status=status, at=now, error=error, next_attempt_at=retry_at)
