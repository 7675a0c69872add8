"""The engine's tables, in SQLAlchemy Core, for SQLite and PostgreSQL alike.

Constraint names follow one convention, so the store can tell which rule a write broke
from the name the database reports (`uq_cases_workflow_idempotency_key` means a retried
intake). The first migration (migrations/versions) creates exactly these tables; a test
checks that the two never drift apart.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

NAMING = {
    "pk": "pk_%(table_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
}
metadata = sa.MetaData(naming_convention=NAMING)


class UtcDateTime(sa.TypeDecorator):
    """A time stored in UTC and read back as an aware UTC time, on SQLite as on PostgreSQL.

    SQLite has no time zone type: without this, times would come back naive there and aware on
    PostgreSQL, and an audit hash computed over them would differ between the two.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"{value!r} has no time zone; the store keeps aware times only")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


# JSONB on PostgreSQL: indexable, and compact on disk.
Json: Any = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
# 64-bit ids on PostgreSQL; on SQLite only INTEGER PRIMARY KEY is the rowid and counts up by itself.
Id: Any = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Hash = sa.String(64)

workflow_versions = sa.Table(
    "workflow_versions", metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("workflow", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("content_hash", Hash, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("definition_json", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("contract_name", sa.Text),
    sa.Column("contract_source", sa.Text),
    sa.Column("deployed_at", UtcDateTime, nullable=False),
    sa.Column("deployed_by", sa.Text, nullable=False),
    sa.UniqueConstraint("workflow", "version"),
)

definition_changes = sa.Table(
    "definition_changes", metadata,
    # A version that waits for a second person (it weakens a control, or its workflow's change
    # rules ask for a second approver); approved, it is copied into workflow_versions.
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("workflow", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("content_hash", Hash, nullable=False),
    sa.Column("definition_status", sa.Text, nullable=False),
    sa.Column("definition_json", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("contract_name", sa.Text),
    sa.Column("contract_source", sa.Text),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("reasons", Json, nullable=False),
    sa.Column("requested_by", sa.Text, nullable=False),
    sa.Column("requested_at", UtcDateTime, nullable=False),
    sa.Column("decided_by", sa.Text),
    sa.Column("decided_at", UtcDateTime),
    sa.Column("note", sa.Text),
    sa.Index(None, "workflow", "status"),
)

cases = sa.Table(
    "cases", metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("workflow", sa.Text, nullable=False),
    sa.Column("definition_version", sa.Integer, nullable=False),
    sa.Column("workflow_version_id", Id, sa.ForeignKey("workflow_versions.id"), nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("previous_state", sa.Text),
    sa.Column("data", Json, nullable=False),
    sa.Column("priority", sa.Text, nullable=False),
    sa.Column("queue", sa.Text),
    sa.Column("owner", sa.Text),
    sa.Column("requester", sa.Text, nullable=False),
    # The optimistic-concurrency counter: every change adds one, and states the one it read.
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("idempotency_key", sa.Text),
    sa.Column("intake_hash", Hash),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    # A hash of the values of the definition's duplicate-rule fields: equal hashes, the same work.
    sa.Column("duplicate_key", Hash),
    # A branch of parallel work, or a sub-case, runs as a case of its own under its parent: the
    # parent's id, the state that opened it (the parallel, checklist or subcase state) and the
    # branch's name (its path, "it" or "it/laptop" when nested). Null for a case of its own.
    sa.Column("parent_id", Id),
    sa.Column("parent_state", sa.Text),
    sa.Column("branch", sa.Text),
    sa.UniqueConstraint("workflow", "idempotency_key"),
    sa.Index(None, "workflow", "state"),
    sa.Index(None, "queue", "state"),
    sa.Index(None, "workflow", "duplicate_key"),
    sa.Index(None, "parent_id"),
    # A requester's cases by id: the visibility rule's first arm, and the API's list (migration 0012).
    sa.Index(None, "requester", "id"),
)

events = sa.Table(
    "events", metadata,
    # The id is the order of arrival: ties in timestamp keep it (DESIGN.md, the event schema).
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("case_id", Id, sa.ForeignKey("cases.id"), nullable=False),
    sa.Column("activity", sa.Text, nullable=False),
    sa.Column("timestamp", UtcDateTime, nullable=False),
    sa.Column("resource", sa.Text),
    sa.Column("role", sa.Text),
    sa.Column("system", sa.Text),
    sa.Column("lifecycle", sa.Text),
    sa.Column("reason", sa.Text),
    sa.Column("workflow", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("attributes", Json, nullable=False),
    # The branch of parallel work the event happened in (its path), null outside branches: the
    # map and conformance follow each branch's path apart from the others.
    sa.Column("branch", sa.Text),
    sa.Index(None, "case_id"),
    sa.Index(None, "workflow", "timestamp"),
)

case_branches = sa.Table(
    "case_branches", metadata,
    # The work a case waits for while it stands in a parallel, checklist or subcase state: one row
    # per branch (or sub-case) opened, with where it ended. The join reads these rows under the
    # parent's lock, so two branches finishing at once join exactly once.
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("case_id", Id, sa.ForeignKey("cases.id"), nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    # The parent's case version when the state was entered: a second visit opens a new round.
    sa.Column("round", sa.Integer, nullable=False),
    sa.Column("branch", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("child_id", Id, sa.ForeignKey("cases.id"), nullable=False),
    sa.Column("required", sa.Boolean, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("outcome", sa.Text),
    sa.Column("opened_at", UtcDateTime, nullable=False),
    sa.Column("due_at", UtcDateTime),
    sa.Column("closed_at", UtcDateTime),
    sa.Column("reason", sa.Text),
    sa.UniqueConstraint("case_id", "state", "round", "branch"),
    sa.Index(None, "child_id"),
)

audit_records = sa.Table(
    "audit_records", metadata,
    # The order of arrival over all chains; a record's place is (chain, seq), given by the engine.
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    # "case:42" for the records of case 42, "system" for records of no case (see engine/audit.py).
    sa.Column("chain", sa.Text, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("role", sa.Text),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("case_id", Id),
    sa.Column("workflow", sa.Text),
    sa.Column("version", sa.Integer),
    # The canonical JSON texts that were hashed, kept as text so they read back byte for byte.
    sa.Column("detail", sa.Text, nullable=False),
    # The rows the change wrote: [[table, key, digest, {field: short digest}], ...].
    sa.Column("rows", sa.Text, nullable=False),
    sa.Column("prev_hash", Hash, nullable=False),
    sa.Column("hash", Hash, nullable=False),
    # Which audit key sealed the record, and its seal: HMAC-SHA256 of the hash (None: before 0008).
    sa.Column("key_id", sa.String(16)),
    sa.Column("mac", Hash),
    sa.UniqueConstraint("chain", "seq"),
    sa.Index(None, "case_id"),
    # The records that wrote a definition version or a workflow's mode, read when the engine loads
    # one (migration 0014); only the system chain's records, so a case's records cost nothing more.
    sa.Index("ix_audit_records_system_workflow_version", "workflow", "version",
             sqlite_where=sa.text("chain = 'system'"), postgresql_where=sa.text("chain = 'system'")),
)

audit_chains = sa.Table(
    "audit_chains", metadata,
    # One row per chain: its last seq and hash. A writer locks its own chain's row only, so
    # writers on different cases never wait for each other.
    sa.Column("chain", sa.Text, primary_key=True),
    sa.Column("case_id", Id),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", Hash, nullable=False),
)

audit_legacy_rows = sa.Table(
    "audit_legacy_rows", metadata,
    # The last row id of each bound table before rows were bound to records (migration 0008);
    # signed into every checkpoint, so moving a mark is found like moving a chain's head.
    sa.Column("table_name", sa.Text, primary_key=True),
    sa.Column("last_id", sa.BigInteger, nullable=False),
)

tasks = sa.Table(
    "tasks", metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("case_id", Id, sa.ForeignKey("cases.id"), nullable=False),
    sa.Column("workflow", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    # The case version when the task was made: the approval tasks of one visit to a state share it.
    sa.Column("round", sa.Integer, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("queue", sa.Text),
    sa.Column("role", sa.Text),
    sa.Column("assignee", sa.Text),
    sa.Column("priority", sa.Text, nullable=False),
    # Higher first when `next` picks; the text above is for people.
    sa.Column("priority_rank", sa.Integer, nullable=False),
    sa.Column("due_at", UtcDateTime),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("claimed_by", sa.Text),
    sa.Column("claimed_at", UtcDateTime),
    sa.Column("claim_expires_at", UtcDateTime),
    sa.Column("closed_by", sa.Text),
    sa.Column("closed_at", UtcDateTime),
    sa.Column("reason", sa.Text),
    sa.Column("escalate_at", UtcDateTime),
    sa.Column("escalated", sa.Boolean, nullable=False),
    sa.Column("delegated_by", sa.Text),
    sa.Index(None, "status", "queue", "priority_rank", "due_at"),
    sa.Index(None, "case_id", "status"),
    sa.Index(None, "status", "escalate_at"),
    # My work (migration 0011): a person's own tasks, and every open task in SLA order.
    sa.Index(None, "status", "assignee"),
    sa.Index(None, "status", "claimed_by"),
    sa.Index(None, "status", "due_at", "created_at"),
    # The API's keyset pages of a queue (migration 0012).
    sa.Index(None, "queue", "status", "id"),
)

approval_votes = sa.Table(
    "approval_votes", metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("case_id", Id, sa.ForeignKey("cases.id"), nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("round", sa.Integer, nullable=False),
    sa.Column("task_id", Id, sa.ForeignKey("tasks.id"), nullable=False),
    sa.Column("approver", sa.Text, nullable=False),
    sa.Column("role", sa.Text),
    sa.Column("decision", sa.Text, nullable=False),
    sa.Column("on_behalf_of", sa.Text),
    sa.Column("note", sa.Text),
    sa.Column("at", UtcDateTime, nullable=False),
    # One vote per person per visit to an approval state, and one per task.
    sa.UniqueConstraint("case_id", "round", "approver"),
    sa.UniqueConstraint("task_id"),
)

evidence = sa.Table(
    "evidence", metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("case_id", Id, sa.ForeignKey("cases.id"), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("reference", sa.Text),
    sa.Column("attached_by", sa.Text, nullable=False),
    sa.Column("attached_at", UtcDateTime, nullable=False),
    sa.Index(None, "case_id"),
)

case_exceptions = sa.Table(
    "case_exceptions", metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("case_id", Id, sa.ForeignKey("cases.id"), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("raised_in", sa.Text, nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("raised_by", sa.Text, nullable=False),
    sa.Column("raised_at", UtcDateTime, nullable=False),
    sa.Column("resolved_by", sa.Text),
    sa.Column("resolved_at", UtcDateTime),
    sa.Column("resolution", sa.Text),
    sa.Index(None, "case_id", "resolved_at"),
)

sla_clocks = sa.Table(
    "sla_clocks", metadata,
    # Business seconds the case spent in the definition's pause_in states, and since when it is paused now.
    sa.Column("case_id", Id, sa.ForeignKey("cases.id"), primary_key=True, autoincrement=False),
    sa.Column("paused_seconds", sa.Float, nullable=False),
    sa.Column("paused_since", UtcDateTime),
)

outbox = sa.Table(
    "outbox", metadata,
    # One side effect to deliver, written in the transaction of the change that caused it.
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("case_id", Id, sa.ForeignKey("cases.id"), nullable=False),
    sa.Column("workflow", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    # The same on every attempt and replay, so the receiving side can drop a second delivery.
    sa.Column("idempotency_key", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("max_attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", UtcDateTime, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("claimed_by", sa.Text),
    sa.Column("lease_expires_at", UtcDateTime),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("finished_at", UtcDateTime),
    # An automated step of the case's state ("step"), or a message to people ("notification").
    sa.Column("kind", sa.Text, nullable=False, server_default="step"),
    # What a notification says (to whom, about what); steps read the case instead.
    sa.Column("payload", Json),
    sa.UniqueConstraint("idempotency_key"),
    sa.Index(None, "status", "next_attempt_at"),
    sa.Index(None, "case_id"),
)

timers = sa.Table(
    "timers", metadata,
    # One reminder or escalation of one case, scheduled when the case started or entered a state.
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("case_id", Id, sa.ForeignKey("cases.id"), nullable=False),
    sa.Column("workflow", sa.Text, nullable=False),
    # The timer's place in the definition version's `timers` list, and its name for people.
    sa.Column("timer", sa.Integer, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    # first_response or resolution (a share of that SLA), or state (a time spent in `state`).
    sa.Column("clock", sa.Text, nullable=False),
    sa.Column("state", sa.Text),
    sa.Column("status", sa.Text, nullable=False),
    # None while the case's SLA clock stands still: a paused case is not late.
    sa.Column("due_at", UtcDateTime),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("settled_at", UtcDateTime),
    sa.Index(None, "status", "due_at"),
    sa.Index(None, "case_id", "status"),
)

workflow_modes = sa.Table(
    "workflow_modes", metadata,
    # A workflow in manual mode sends its automated steps to people (the fallback) instead of the worker.
    sa.Column("workflow", sa.Text, primary_key=True),
    sa.Column("manual", sa.Boolean, nullable=False),
    sa.Column("changed_by", sa.Text, nullable=False),
    sa.Column("changed_at", UtcDateTime, nullable=False),
)

webhook_deliveries = sa.Table(
    "webhook_deliveries", metadata,
    # A signed webhook delivery is used once (migration 0013): its signature names the one workflow
    # and idempotency key it was first sent for, neither of which the signature covers, so a captured
    # delivery replayed to another workflow or under another Idempotency-Key is refused.
    sa.Column("source", sa.Text, primary_key=True),
    sa.Column("signature_sha256", Hash, primary_key=True),
    sa.Column("workflow", sa.Text, nullable=False),
    sa.Column("idempotency_key", sa.Text, nullable=False),
    sa.Column("received_at", UtcDateTime, nullable=False),
)

# --- the directory: who people are and what they may do (migration 0006) ---
# Ids are canonical (`backoffice.engine.identity.canonical_id`): one spelling per person, so a
# unique key here is a unique person.

people = sa.Table(
    "people", metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("email", sa.Text),
    sa.Column("active", sa.Boolean, nullable=False),
    # The operating-system account a command run on this machine acts as; one person per account.
    sa.Column("os_user", sa.Text, unique=True),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

service_accounts = sa.Table(
    "service_accounts", metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

person_groups = sa.Table(
    "person_groups", metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

group_members = sa.Table(
    "group_members", metadata,
    sa.Column("group_id", sa.Text, sa.ForeignKey("person_groups.id"), primary_key=True),
    sa.Column("person_id", sa.Text, sa.ForeignKey("people.id"), primary_key=True),
    sa.Index(None, "person_id"),
)

role_grants = sa.Table(
    "role_grants", metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    # "person", "group" or "service": whom the role is granted to.
    sa.Column("grantee_kind", sa.Text, nullable=False),
    sa.Column("grantee", sa.Text, nullable=False),
    sa.Column("role", sa.Text, nullable=False),
    # "" grants the role in every workflow; a name, in that workflow only. Not NULL, so the
    # unique key below also holds for unscoped grants.
    sa.Column("workflow", sa.Text, nullable=False),
    sa.Column("granted_by", sa.Text, nullable=False),
    sa.Column("granted_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("grantee_kind", "grantee", "role", "workflow"),
)

queue_members = sa.Table(
    "queue_members", metadata,
    sa.Column("queue", sa.Text, primary_key=True),
    sa.Column("person_id", sa.Text, sa.ForeignKey("people.id"), primary_key=True),
    sa.Index(None, "person_id"),
)

api_tokens = sa.Table(
    "api_tokens", metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    # sha256 of the token: the token itself is shown once and never stored.
    sa.Column("token_hash", Hash, nullable=False, unique=True),
    sa.Column("principal", sa.Text, nullable=False),
    sa.Column("principal_kind", sa.Text, nullable=False),
    sa.Column("label", sa.Text, nullable=False),
    # The roles the token may act in (a JSON list); empty: every role its principal holds.
    sa.Column("roles", Json, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    sa.Column("revoked_at", UtcDateTime),
    sa.Index(None, "principal"),
)

delegations = sa.Table(
    "delegations", metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("delegator", sa.Text, sa.ForeignKey("people.id"), nullable=False),
    sa.Column("delegate", sa.Text, sa.ForeignKey("people.id"), nullable=False),
    sa.Column("workflow", sa.Text),
    sa.Column("role", sa.Text),
    sa.Column("starts_at", UtcDateTime, nullable=False),
    sa.Column("ends_at", UtcDateTime, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("revoked_at", UtcDateTime),
    sa.Index(None, "delegate", "delegator"),
)

# --- the web app: local accounts, browser sign-ins, the key that signs cookies, case comments (0009) ---

local_accounts = sa.Table(
    "local_accounts", metadata,
    sa.Column("person_id", sa.Text, sa.ForeignKey("people.id"), primary_key=True),
    # Argon2id, in its PHC string form ($argon2id$v=19$m=...,t=...,p=...$salt$hash): never the password.
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("set_by", sa.Text, nullable=False),
    sa.Column("set_at", UtcDateTime, nullable=False),
    # Wrong passwords in a row since the last sign-in; at the limit the account locks until locked_until.
    sa.Column("failed_attempts", sa.Integer, nullable=False),
    sa.Column("locked_until", UtcDateTime),
)

web_sessions = sa.Table(
    "web_sessions", metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    # sha256 of the session's secret: the cookie carries the secret, the database only its hash.
    sa.Column("token_hash", Hash, nullable=False, unique=True),
    sa.Column("person_id", sa.Text, sa.ForeignKey("people.id"), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("seen_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    # Set by signing out (or by deactivating the person): the session proves nothing after it.
    sa.Column("ended_at", UtcDateTime),
    sa.Index(None, "person_id"),
)

web_keys = sa.Table(
    "web_keys", metadata,
    # One secret per purpose ("cookies"), made on first use and shared by every server process.
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("secret", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

case_comments = sa.Table(
    "case_comments", metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("case_id", Id, sa.ForeignKey("cases.id"), nullable=False),
    sa.Column("author", sa.Text, nullable=False),
    sa.Column("on_behalf_of", sa.Text),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Index(None, "case_id"),
)

saved_filters = sa.Table(
    "saved_filters", metadata,
    # A person's named search of their work (migration 0011): the page's query string, kept as
    # the URL says it, so a saved filter is a link. Shared with a queue, its members see it too.
    # A preference, not a record of work: not bound to the audit trail.
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("owner", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("query", sa.Text, nullable=False),
    sa.Column("shared_queue", sa.Text),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("owner", "name"),
    sa.Index(None, "shared_queue"),
)
