"""The audit trail: append-only records, each sealed with a hash over the one before it.

A record's hash is sha256 over the previous record's hash followed by the canonical JSON of
the record (sorted keys, no spaces, times in UTC with microseconds). Changing any field of a
stored record, its link to the previous one, or deleting records breaks the chain; `verify`
walks it and names the first record that no longer matches.

The chain head (the last sequence number and hash) is kept by the store and locked by each
writing transaction, so concurrent writers append one after another and never fork it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any, Protocol

GENESIS = "0" * 64
"""The previous hash of the first record."""


class AuditAction(StrEnum):
    WORKFLOW_DEPLOYED = "workflow.deployed"
    CASE_STARTED = "case.started"
    CASE_TRANSITIONED = "case.transitioned"
    TASK_CLAIMED = "task.claimed"
    TASK_RELEASED = "task.released"
    TASK_REASSIGNED = "task.reassigned"
    APPROVAL_VOTED = "approval.voted"
    APPROVAL_DELEGATED = "approval.delegated"
    APPROVAL_ESCALATED = "approval.escalated"
    EVIDENCE_ATTACHED = "evidence.attached"
    WORKFLOW_MODE_CHANGED = "workflow.mode_changed"
    OUTBOX_REPLAYED = "outbox.replayed"
    STEP_IN_DOUBT = "step.in_doubt"
    STEP_CONFIRMED = "step.confirmed"
    TIMER_FIRED = "timer.fired"
    CASES_MIGRATED = "cases.migrated"
    DIRECTORY_BOOTSTRAPPED = "directory.bootstrapped"
    DIRECTORY_IMPORTED = "directory.imported"
    PERSON_ADDED = "person.added"
    PERSON_DEACTIVATED = "person.deactivated"
    PERSON_REACTIVATED = "person.reactivated"
    SERVICE_ACCOUNT_ADDED = "service_account.added"
    GROUP_ADDED = "group.added"
    GROUP_MEMBER_ADDED = "group.member_added"
    GROUP_MEMBER_REMOVED = "group.member_removed"
    ROLE_GRANTED = "role.granted"
    ROLE_REVOKED = "role.revoked"
    QUEUE_MEMBER_ADDED = "queue.member_added"
    QUEUE_MEMBER_REMOVED = "queue.member_removed"
    TOKEN_CREATED = "token.created"
    TOKEN_REVOKED = "token.revoked"
    DELEGATION_ADDED = "delegation.added"
    DELEGATION_REVOKED = "delegation.revoked"


@dataclass(frozen=True)
class AuditHead:
    """The end of the chain: the last record's sequence number and hash (0 and GENESIS when empty)."""

    seq: int = 0
    hash: str = GENESIS


@dataclass(frozen=True)
class AuditEntry:
    """What happened, before it is sealed into the chain: who, in which role, when, to what."""

    action: AuditAction
    actor: str
    at: datetime
    role: str | None = None
    case_id: int | None = None
    workflow: str | None = None
    version: int | None = None
    detail: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class AuditRecord:
    """A sealed audit record, as stored. `detail` is the canonical JSON text that was hashed."""

    seq: int
    action: str
    actor: str
    at: datetime
    role: str | None
    case_id: int | None
    workflow: str | None
    version: int | None
    detail: str
    prev_hash: str
    hash: str

    def body(self) -> dict[str, Any]:
        """Return the fields the hash covers (every field but the hash itself)."""
        return {"seq": self.seq, "action": self.action, "actor": self.actor, "at": _instant(self.at),
                "role": self.role, "case_id": self.case_id, "workflow": self.workflow, "version": self.version,
                "detail": self.detail, "prev_hash": self.prev_hash}

    def expected_hash(self) -> str:
        """Return the hash this record should carry, computed from its fields."""
        return chain_hash(self.prev_hash, self.body())


def canonical_json(value: Any) -> str:
    """Return one fixed JSON text for a value: sorted keys, no spaces, UTF-8 kept, times in UTC."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False,
                      default=_json_default)


def chain_hash(prev_hash: str, body: Mapping[str, Any]) -> str:
    """Return sha256 (hex) over the previous hash followed by the canonical JSON of the record."""
    return hashlib.sha256((prev_hash + canonical_json(body)).encode("utf-8")).hexdigest()


def seal(entry: AuditEntry, head: AuditHead) -> AuditRecord:
    """Return the record that follows `head` in the chain for this entry."""
    unsealed = AuditRecord(seq=head.seq + 1, action=str(entry.action), actor=entry.actor,
                           at=entry.at.astimezone(timezone.utc), role=entry.role, case_id=entry.case_id,
                           workflow=entry.workflow, version=entry.version,
                           detail=canonical_json(dict(entry.detail or {})), prev_hash=head.hash, hash="")
    return AuditRecord(**{**unsealed.__dict__, "hash": unsealed.expected_hash()})


class AuditSource(Protocol):
    """What `verify` reads: the records in sequence order, and the head the store keeps."""

    def audit_records(self, *, after_seq: int = 0, limit: int = 1000) -> Sequence[AuditRecord]: ...

    def audit_head(self) -> AuditHead: ...


@dataclass(frozen=True)
class AuditReport:
    """The result of `verify`: ok, or the first record that was altered (`first_altered`) and how.

    Attributes:
        records: how many records were checked.
        head: the last sequence number and hash; write the hash down elsewhere (a ticket, a
            signed email) to prove later that the whole chain was not rewritten since.
    """

    ok: bool
    records: int
    head: AuditHead
    first_altered: int | None = None
    problem: str | None = None

    def __str__(self) -> str:
        if self.ok:
            return f"audit chain ok: {self.records} records, last {self.head.seq}, hash {self.head.hash}"
        return f"audit chain broken at record {self.first_altered}: {self.problem}"


def verify(store: AuditSource, *, batch: int = 1000) -> AuditReport:
    """Check the whole chain and name the first record that was altered, removed or re-linked."""
    head = store.audit_head()
    previous: AuditRecord | None = None
    checked = 0
    while True:
        records = store.audit_records(after_seq=previous.seq if previous else 0, limit=batch)
        for record in records:
            checked += 1
            found = _check(record, previous)
            if found is not None:
                return AuditReport(False, checked, head, *found)
            previous = record
        if len(records) < batch:
            break
    last_seq, last_hash = (previous.seq, previous.hash) if previous else (0, GENESIS)
    if head.seq > last_seq:
        return AuditReport(False, checked, head, last_seq + 1,
                           f"records {last_seq + 1} to {head.seq} are missing (the chain head is at {head.seq})")
    if head.seq < last_seq or head.hash != last_hash:
        return AuditReport(False, checked, head, last_seq or None,
                           f"record {last_seq} does not match the chain head the store keeps "
                           f"(seq {head.seq}, hash {head.hash[:12]}...)")
    return AuditReport(True, checked, head)


def _check(record: AuditRecord, previous: AuditRecord | None) -> tuple[int, str] | None:
    expected_seq = previous.seq + 1 if previous else 1
    if record.seq != expected_seq:
        return expected_seq, f"record {expected_seq} is missing (the next record is {record.seq})"
    intact = record.hash == record.expected_hash()
    expected_link = previous.hash if previous else GENESIS
    if record.prev_hash != expected_link:
        if intact and previous is not None:
            # This record still matches its own link: the one before it was changed (and re-hashed).
            return previous.seq, (f"record {previous.seq} was altered: its hash is not the one record "
                                  f"{record.seq} was chained to")
        return record.seq, f"record {record.seq} was altered: its link to the previous record was changed"
    if not intact:
        return record.seq, f"record {record.seq} was altered: its content no longer matches its hash"
    return None


def _instant(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return _instant(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON")
