"""The audit trail: append-only records in one hash chain per case, keyed, and bound to the rows they wrote.

Each case has a chain of its own (`case:42`); records of no case (deploys, modes, the
directory) go to the `system` chain. Writers on different cases lock different chain heads,
so they never wait for each other; signed checkpoints (`backoffice.engine.checkpoints`)
seal all the heads together.

A record's `hash` is sha256 over the previous record's hash followed by the canonical JSON of
the record (sorted keys, no spaces, times in UTC with microseconds): anyone can check the
links, offline too. Its `mac` is HMAC-SHA256 of that hash under the audit key, which lives
outside the database (`backoffice.engine.audit_keys`): someone who can write to the database
but not read the key can re-hash an edited chain with plain sha256, but cannot seal it, so
`verify` names the first record they touched.

A record also lists every row its change wrote (`rows`): the table, the row's key, a sha256
digest of the row as written, and a short digest per field. The latest record that lists a
row must match the row as it is now; `verify` names a row changed, removed or added outside
the engine, and the field.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any, Protocol

GENESIS = "0" * 64
"""The previous hash of the first record of a chain."""

SYSTEM_CHAIN = "system"
"""The chain of records about no case: deploys, modes, the directory."""

LEGACY_CHAIN = "legacy"
"""The records written before chains were keyed (migration 0008): one plain sha256 chain, never written again."""

FIELD_DIGEST_LENGTH = 8
"""Hex digits of a field's digest: enough to say which field changed; the row digest is what proves it."""


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
    CASE_REROUTED = "case.rerouted"
    BRANCHES_OPENED = "branches.opened"
    BRANCH_CLOSED = "branch.closed"
    SLA_PAUSED = "sla.paused"
    SLA_RESUMED = "sla.resumed"
    CHANGE_PENDING = "change.pending"
    CHANGE_APPROVED = "change.approved"
    CHANGE_REJECTED = "change.rejected"
    STEP_TO_PEOPLE = "step.to_people"
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
    PASSWORD_SET = "password.set"
    ACCOUNT_LOCKED = "account.locked"
    COMMENT_ADDED = "comment.added"


def chain_of(case_id: int | None) -> str:
    """Return the name of the chain a record about this case (or no case) goes to."""
    return f"case:{case_id}" if case_id is not None else SYSTEM_CHAIN


class AuditHeadMoved(Exception):
    """The chain's head is no longer the one a record was sealed after: seal it again after the locked head.

    Not an error anyone sees: the engine first seals after the head its store last wrote (no read,
    no lock), and the store appends only if that is still the head (a compare-and-set); when
    another writer moved the chain meanwhile, the engine locks the head, reads it, and seals anew.
    """


@dataclass(frozen=True)
class AuditHead:
    """The end of one chain: its name, the last record's sequence number and hash (0 and GENESIS when empty)."""

    seq: int = 0
    hash: str = GENESIS
    chain: str = SYSTEM_CHAIN


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
class RowSeal:
    """A row as a change wrote it: its table and key, the case it belongs to, and its digests."""

    table: str
    key: Any
    case_id: int | None
    digest: str | None
    fields: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    fields_text: str | None = field(default=None, compare=False, repr=False)
    """The canonical JSON of `fields`, when the seal built it (see `listed_text`)."""

    def listed(self) -> list[Any]:
        """Return the row as the record lists it: [table, key, digest, {field: short digest}]."""
        return [self.table, self.key, self.digest, dict(self.fields)]

    def listed_text(self) -> str:
        """Return canonical_json(self.listed()), from texts `seal_row` made as it sealed the row.

        A record lists every row its change wrote; encoding those lists whole, each field's name again,
        cost more than the rest of sealing the record.
        """
        fields = self.fields_text if self.fields_text is not None else canonical_json(dict(self.fields))
        return f"[{_encode_text(self.table)},{canonical_json(self.key)},{canonical_json(self.digest)},{fields}]"


def seal_row(table: str, key: Any, values: Mapping[str, Any], *, case_id: int | None) -> RowSeal:
    """Return the digests of a row: sha256 over the canonical JSON of its non-null fields, and one per field.

    Null fields are left out, so a migration that adds a nullable column changes no digest.
    """
    texts = {name: canonical_json(value) for name, value in values.items() if value is not None}
    fields = {name: _field_digest(text) for name, text in texts.items()}
    names = sorted(texts)
    fields_text = ",".join([f"{_encode_text(name)}:{_encode_text(fields[name])}" for name in names])
    return RowSeal(table, key, case_id, _digest(_row_text(table, key, texts, names)), fields, dict(values),
                   f"{{{fields_text}}}")


_FIELD_DIGESTS: dict[str, str] = {}
_FIELD_DIGESTS_LIMIT = 20_000
_FIELD_TEXT_CACHED = 200
"""Short field texts whose digests are kept: most fields of the rows a change writes (its workflow, state, queue,
actor, time, case id) repeat from row to row and change to change, and a lookup costs less than a sha256."""


def _field_digest(text: str) -> str:
    """Return a field's short digest: the first hex digits of sha256 over its canonical JSON."""
    found = _FIELD_DIGESTS.get(text)
    if found is None:
        found = hashlib.sha256(text.encode("utf-8")).hexdigest()[:FIELD_DIGEST_LENGTH]
        if len(text) <= _FIELD_TEXT_CACHED:
            if len(_FIELD_DIGESTS) >= _FIELD_DIGESTS_LIMIT:
                _FIELD_DIGESTS.clear()
            _FIELD_DIGESTS[text] = found
    return found


def _row_text(table: str, key: Any, texts: Mapping[str, str], names: Sequence[str]) -> str:
    """Return canonical_json([table, key, {name: value}]) from each value's canonical JSON (`names`: sorted).

    The encoder gives a value inside a list or object the same text it gives it alone (the same
    separators, sorted keys and default), so the row's text is its fields' texts joined.
    """
    fields = ",".join([f"{_encode_text(name)}:{texts[name]}" for name in names])
    return f"[{_encode_text(table)},{canonical_json(key)},{{{fields}}}]"


def listed_rows(rows_text: str) -> list[list[Any]]:
    """Return the rows a record's `rows` text lists: [table, key, digest, {field: short digest}] each (empty when
    the text is not a JSON list)."""
    try:
        rows = json.loads(rows_text)
    except ValueError:
        return []
    return [row for row in rows if isinstance(row, list) and len(row) == 4] if isinstance(rows, list) else []


def removed_row(table: str, key: Any) -> RowSeal:
    """Return the listing of a row a change deleted (a grant revoked, a member removed): no digest."""
    return RowSeal(table, key, None, None)


@dataclass(frozen=True)
class AuditRecord:
    """A sealed audit record, as stored. `detail` and `rows` are the canonical JSON texts that were hashed.

    Attributes:
        id: the order of arrival over all chains (given by the database).
        chain, seq: the chain and the record's place in it, from 1 without gaps.
        rows: the rows the change wrote, as JSON: [[table, key, digest, {field: short digest}], ...].
        key_id: which audit key sealed it; mac: HMAC-SHA256 of `hash` under that key.
    """

    chain: str
    seq: int
    action: str
    actor: str
    at: datetime
    role: str | None
    case_id: int | None
    workflow: str | None
    version: int | None
    detail: str
    rows: str
    prev_hash: str
    hash: str
    key_id: str | None = None
    mac: str | None = None
    id: int | None = None

    def body(self) -> dict[str, Any]:
        """Return the fields the hash covers (every field but the hash, the seal and the arrival id)."""
        return {"chain": self.chain, "seq": self.seq, "action": self.action, "actor": self.actor,
                "at": _instant(self.at), "role": self.role, "case_id": self.case_id, "workflow": self.workflow,
                "version": self.version, "detail": self.detail, "rows": self.rows, "prev_hash": self.prev_hash,
                "key_id": self.key_id}

    def expected_hash(self) -> str:
        """Return the hash this record should carry, computed from its fields."""
        if self.chain == LEGACY_CHAIN:
            return chain_hash(self.prev_hash, _legacy_body(self))
        return _digest(self.prev_hash + _body_text(self))

    def bound_rows(self) -> list[list[Any]]:
        """Return the rows this record lists (empty when its `rows` text is not a JSON list)."""
        return listed_rows(self.rows)

    def as_json(self) -> dict[str, Any]:
        return {**self.body(), "id": self.id, "hash": self.hash, "mac": self.mac}

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> AuditRecord:
        names = set(cls.__dataclass_fields__)
        fields = {name: value.get(name) for name in names}
        fields["at"] = datetime.fromisoformat(str(value["at"]).replace("Z", "+00:00"))
        return cls(**fields)


class Sealer(Protocol):
    """What seals records: the audit key (see `backoffice.engine.audit_keys.AuditKey`)."""

    key_id: str

    def mac(self, record_hash: str) -> str: ...


def canonical_json(value: Any) -> str:
    """Return one fixed JSON text for a value: sorted keys, no spaces, UTF-8 kept, times in UTC."""
    # A row's seal encodes each field alone, most of them plain text or numbers: those take the
    # encoder's own steps directly (the same text, byte for byte), the rest the whole encoder.
    kind = type(value)
    if kind is str:
        return _encode_text(value)
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if kind is datetime:
        return _encode_text(_instant(value))
    return _ENCODER.encode(value)


def chain_hash(prev_hash: str, body: Mapping[str, Any]) -> str:
    """Return sha256 (hex) over the previous hash followed by the canonical JSON of the record."""
    return _digest(prev_hash + canonical_json(body))


def mac_of(mac_key: bytes, record_hash: str) -> str:
    """Return HMAC-SHA256 (hex) of a record's hash under a key."""
    return hmac.digest(mac_key, record_hash.encode("ascii"), "sha256").hex()


def seal(entry: AuditEntry, head: AuditHead, sealer: Sealer, rows: Sequence[RowSeal] = ()) -> AuditRecord:
    """Return the record that follows `head` in its chain for this entry, listing the rows it wrote, sealed.

    Raises:
        ValueError: a row of another case than the entry's (a bug: a change binds only its own case's rows).
    """
    chain = chain_of(entry.case_id)
    if head.chain != chain:
        raise ValueError(f"the entry goes to chain {chain!r}, not {head.chain!r}")
    strays = [f"{row.table} {row.key}" for row in rows if row.case_id != entry.case_id]
    if strays:
        raise ValueError(f"a record of {chain} cannot bind rows of another case: {', '.join(strays)}")
    unsealed = AuditRecord(chain=chain, seq=head.seq + 1, action=str(entry.action), actor=entry.actor,
                           at=entry.at.astimezone(timezone.utc), role=entry.role, case_id=entry.case_id,
                           workflow=entry.workflow, version=entry.version,
                           detail=canonical_json(dict(entry.detail or {})),
                           rows=f"[{','.join([row.listed_text() for row in rows])}]", prev_hash=head.hash, hash="",
                           key_id=sealer.key_id)
    record_hash = unsealed.expected_hash()
    return AuditRecord(**{**unsealed.__dict__, "hash": record_hash, "mac": sealer.mac(record_hash)})


def __getattr__(name: str) -> Any:
    # `verify` lived here before the chains were keyed; it imports this module, so it is found late.
    if name == "verify":
        from backoffice.engine.audit_verify import verify
        return verify
    raise AttributeError(name)


def _body_text(record: AuditRecord) -> str:
    """Return canonical_json(record.body()), each field encoded alone and joined in the order of their names.

    The same text byte for byte (the encoder gives a value inside an object the text it gives it
    alone; tests/engine/test_audit_texts.py compares them): every record sealed or verified encodes
    one, and a whole encoder's pass over the dictionary cost about twice this.
    """
    return (f'{{"action":{canonical_json(record.action)},"actor":{canonical_json(record.actor)},'
            f'"at":{_encode_text(_instant(record.at))},"case_id":{canonical_json(record.case_id)},'
            f'"chain":{canonical_json(record.chain)},"detail":{canonical_json(record.detail)},'
            f'"key_id":{canonical_json(record.key_id)},"prev_hash":{canonical_json(record.prev_hash)},'
            f'"role":{canonical_json(record.role)},"rows":{canonical_json(record.rows)},'
            f'"seq":{canonical_json(record.seq)},"version":{canonical_json(record.version)},'
            f'"workflow":{canonical_json(record.workflow)}}}')


def _legacy_body(record: AuditRecord) -> dict[str, Any]:
    # Before 0008 one chain held every record; its hash covered these fields, `seq` being the global one.
    return {"seq": record.seq, "action": record.action, "actor": record.actor, "at": _instant(record.at),
            "role": record.role, "case_id": record.case_id, "workflow": record.workflow, "version": record.version,
            "detail": record.detail, "prev_hash": record.prev_hash}


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _instant(moment: datetime) -> str:
    if moment.tzinfo is timezone.utc:
        return _utc_instant(moment)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@functools.lru_cache(maxsize=1024)
def _utc_instant(moment: datetime) -> str:
    # Cached: one change seals the same few times (its `now`, the case's creation) in many fields and
    # rows, and strftime costs more than the lookup. Only UTC times: equal ones are one instant (in a
    # zone with daylight saving, two times an hour apart compare equal when only their `fold` differs).
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return _instant(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


# One encoder for every canonical text (json.dumps would build a new one on each call).
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False,
                            default=_json_default)
_encode_text = json.encoder.encode_basestring
