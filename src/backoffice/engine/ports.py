"""The storage the engine needs, as a small protocol: the engine imports no database library.

`backoffice.store.SqlStore` implements it on SQLite and PostgreSQL; a test may implement it
in memory. Everything one change writes (the case, its event, its audit record) goes through
one `StoreTransaction`, which commits all of it or none of it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from backoffice.definitions.model import Priority
from backoffice.engine.audit import AuditHead, AuditRecord, RowSeal
from backoffice.engine.branches_model import BranchStatus, CaseBranch, NewBranch
from backoffice.engine.cases import Case
from backoffice.engine.comments import Comment
from backoffice.engine.events import EngineEvent
from backoffice.engine.outbox import NewOutboxEntry, OutboxEntry, OutboxKind, OutboxStatus
from backoffice.engine.sla import PausedTime
from backoffice.engine.tasks import Assignment, NewTask, Task, TaskStatus
from backoffice.engine.timers import NewTimer, ScheduledTimer, TimerClock, TimerStatus


@dataclass(frozen=True)
class StoredVersion:
    """A deployed definition version, as stored: immutable once written.

    Attributes:
        definition_json: the validated definition as canonical JSON; the engine runs on this.
        source: the YAML text deployed, kept for people (reviews, audits).
        contract_source, contract_name: the data contract's YAML text and file name, when the
            definition names one; stored with the version so later edits of the file change nothing.
        content_hash: sha256 over what the engine runs on; the same content deploys to the same version.
    """

    workflow: str
    version: int
    content_hash: str
    definition_json: str
    source: str
    status: str
    deployed_at: datetime
    deployed_by: str
    contract_source: str | None = None
    contract_name: str | None = None
    id: int | None = None


@dataclass(frozen=True)
class VersionChange:
    """A version that waits for a second person before it is deployed, and what became of it.

    Attributes:
        candidate: the version as it will be deployed once approved (its content hash is what
            the second person approves).
        status: pending, approved (then deployed) or rejected.
        reasons: why it waits: the control diff against the deployed version, as JSON, and
            whether the workflow's change rules ask for a second approver.
    """

    candidate: StoredVersion
    status: str
    reasons: Mapping[str, Any]
    requested_by: str
    requested_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    note: str | None = None
    id: int | None = None


@dataclass(frozen=True)
class Vote:
    """One approver's decision in one visit (round) of a case to an approval state."""

    case_id: int
    state: str
    round: int
    task_id: int
    approver: str
    decision: str
    at: datetime
    role: str | None = None
    on_behalf_of: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class RaisedException:
    """An exception raised on a case: its reason code, where it was raised, and its resolution once resolved."""

    id: int
    case_id: int
    reason: str
    raised_in: str
    raised_by: str
    raised_at: datetime
    note: str | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    resolution: str | None = None


@dataclass(frozen=True)
class NewCase:
    """A case about to be stored; the store gives it its id and version 1."""

    workflow: str
    definition_version: int
    state: str
    data: Mapping[str, Any]
    requester: str
    created_at: datetime
    priority: Priority = Priority.NORMAL
    queue: str | None = None
    owner: str | None = None
    idempotency_key: str | None = None
    intake_hash: str | None = None
    duplicate_key: str | None = None
    parent_id: int | None = None
    parent_state: str | None = None
    branch: str | None = None


class StoreTransaction(Protocol):
    """The writes of one change; all are committed together or none is."""

    def insert_version(self, version: StoredVersion) -> StoredVersion:
        """Store a new definition version.

        Raises:
            VersionAlreadyDeployed: the workflow has this version number already.
        """

    def insert_change(self, change: VersionChange) -> VersionChange:
        """Store a version that waits for a second person (status pending)."""

    def decide_change(self, change_id: int, *, status: str, by: str, at: datetime, note: str | None) -> bool:
        """Mark a pending change approved or rejected; False when it is no longer pending."""

    def insert_case(self, case: NewCase) -> Case:
        """Store a new case at version 1.

        Raises:
            DuplicateIdempotencyKey: a case of the workflow has this idempotency key already.
        """

    def earlier_duplicate(self, workflow: str, duplicate_key: str, *, since: datetime | None) -> int | None:
        """Return the id of the first case of the workflow with this duplicate key (started since `since`), or None.

        Holds a lock on the key until the transaction ends (PostgreSQL), so two intakes of the
        same work at once cannot both find none.
        """

    def update_case(self, case: Case, *, expected_version: int) -> Case:
        """Write the case's new state, data and routing, if it is still at `expected_version`.

        Returns the case at version expected_version + 1.

        Raises:
            StaleVersion: the stored case is at another version (the update is refused, not merged).
            UnknownCase: there is no such case.
        """

    def move_case_to_version(self, case: Case, *, expected_version: int) -> Case:
        """Put a case on another deployed version (its `definition_version`), adding one to its version.

        Raises:
            StaleVersion: the case is no longer at `expected_version`.
        """

    def insert_event(self, event: EngineEvent) -> EngineEvent:
        """Store an event and return it with its sequence number."""

    def written_rows(self) -> Sequence[RowSeal]:
        """Return the bound rows written since the last audit record of this transaction, sealed as they now are."""

    def lock_audit_chain(self, chain: str, case_id: int | None = None) -> AuditHead:
        """Return the end of one audit chain, locked until this transaction ends (created empty when new)."""

    def known_audit_head(self, chain: str) -> AuditHead | None:
        """Return the head this store last wrote to the chain (neither read nor locked), or None."""

    def insert_audit(self, record: AuditRecord) -> None:
        """Append a sealed record to its chain and move the chain's head to it.

        Raises:
            AuditHeadMoved: the chain's head is not the one the record follows (nothing is written).
        """

    # --- tasks ---

    def insert_task(self, task: NewTask) -> Task:
        """Store a new open task."""

    def close_case_tasks(self, case_id: int, *, status: TaskStatus, by: str, at: datetime,
                         reason: str | None = None) -> int:
        """Close every open task of a case (recording `reason` on them when given); return how many."""

    def lock_case(self, case_id: int) -> Case:
        """Return a case as it is now, locked until the transaction ends."""

    def insert_branch(self, branch: NewBranch) -> int:
        """Record a branch or sub-case a case opened."""

    def branch_of_child_now(self, child_id: int) -> CaseBranch | None:
        """Return the branch row of a child case, read in this transaction."""

    def branches_of(self, case_id: int, state: str, round: int) -> Sequence[CaseBranch]:
        """Return the branches a case opened on one visit (`round`) of a state."""

    def branches_as_written(self, case_id: int, state: str, round: int
                            ) -> tuple[list[tuple[CaseBranch, RowSeal | None]], list[AuditRecord]]:
        """Return `branches_of`, each sealed as it is now (None: written by this transaction, not yet recorded),
        and the records that may have written them, newest first (see `Engine._branches_checked`)."""

    def evidence_as_written(self, case_id: int, names: Sequence[str]
                            ) -> tuple[list[tuple[str, RowSeal | None]], list[AuditRecord]]:
        """Return the case's evidence of these names, each sealed as it is now (None: written by this transaction,
        not yet recorded), and the case's records that may have written it, newest first."""

    def approval_as_written(self, case_id: int, task_id: int, round: int
                            ) -> tuple[RowSeal | None, list[tuple[Vote, RowSeal | None]], list[AuditRecord]]:
        """Return an approval task's row and its round's votes, each sealed as it is now (None: written by this
        transaction, not yet recorded), and the case's records that may have written them, newest first."""

    def pending_writes(self, table: str) -> Any:
        """Return the keys of the rows of a bound table written since this transaction's last audit record."""

    def open_branches_of(self, case_id: int) -> Sequence[CaseBranch]:
        """Return a case's branches still open."""

    def close_branch(self, branch_id: int, *, status: BranchStatus, at: datetime, outcome: str | None = None,
                     reason: str | None = None) -> bool:
        """Close an open branch; False when it was closed already."""

    def claim_task(self, task_id: int, *, actor: str, now: datetime, until: datetime) -> bool:
        """Claim an open task nobody holds a live claim on (or that `actor` holds); False when not taken."""

    def claim_next(self, queues: Sequence[str], *, actor: str, roles: Sequence[str], now: datetime,
                   until: datetime, roles_by_workflow: Mapping[str, Sequence[str]] | None = None) -> Task | None:
        """Claim the most urgent open, unheld task of the queues the actor may take, or return None.

        `roles_by_workflow`, when given, replaces `roles`: the roles held in each workflow, for its tasks only.
        """

    def release_task(self, task_id: int, *, actor: str, now: datetime) -> bool:
        """Drop `actor`'s live claim on a task; False when they hold none."""

    def close_task(self, task_id: int, *, status: TaskStatus, by: str, at: datetime,
                   holder: str | None = None) -> bool:
        """Close an open task (only when `holder` holds a live claim on it, if given); False when not closed."""

    def reassign_task(self, task_id: int, assignment: Assignment, *, escalated: bool | None = None,
                      delegated_by: str | None = None) -> bool:
        """Give an open task to another queue, role or person, dropping its claim; False when not open."""

    # --- approvals, exceptions, clocks ---

    def insert_vote(self, vote: Vote) -> None:
        """Store a vote.

        Raises:
            NotAnApprover: the approver voted in this round already, or the task has a vote.
        """

    def insert_evidence(self, case_id: int, name: str, *, reference: str | None, by: str, at: datetime) -> None:
        """Attach a named piece of evidence to a case."""

    def insert_comment(self, comment: Comment) -> Comment:
        """Store a comment on a case; return it with its id."""

    def insert_exception(self, case_id: int, reason: str, *, raised_in: str, note: str | None, by: str,
                         at: datetime) -> RaisedException:
        """Store a raised exception."""

    def resolve_exception(self, exception_id: int, *, resolution: str, by: str, at: datetime) -> bool:
        """Mark an open exception resolved; False when it was resolved already."""

    def paused_time_as_written(self, case_id: int) -> tuple[PausedTime, RowSeal | None, list[AuditRecord]]:
        """Return the case's paused SLA time (none stored: zero, running), its clock row sealed as it is now (None:
        no row, or one this change wrote), and its chain's records that may give the row, newest first."""

    def set_paused_time(self, case_id: int, paused: PausedTime) -> None:
        """Store the case's paused SLA time; its next record gives the row (`clock_listing`)."""

    def clock_listing(self, case_id: int | None) -> dict[str, object]:
        """Return what the case's next record gives of its clock row (sealed_rows.SLA_CLOCK_ROW), or {}."""

    # --- the outbox and manual mode ---

    def insert_outbox(self, entry: NewOutboxEntry) -> OutboxEntry:
        """Store a pending outbox entry, due at once."""

    def claim_outbox(self, *, worker: str, now: datetime, until: datetime, limit: int,
                     kinds: Collection[OutboxKind] = tuple(OutboxKind),
                     actions: Collection[str] | None = None) -> Sequence[OutboxEntry]:
        """Lease up to `limit` due entries (pending and due, or notifications with a lapsed lease), adding one
        attempt; only entries of `actions` when given."""

    def renew_outbox_lease(self, entry: OutboxEntry, *, until: datetime) -> bool:
        """Extend a held lease while its action runs; False when the claim was lost meanwhile."""

    def mark_in_doubt(self, entry: OutboxEntry, *, at: datetime, error: str) -> bool:
        """Set a running attempt aside as in doubt; False when it was settled meanwhile."""

    def settle_in_doubt(self, entry_id: int, *, status: OutboxStatus, at: datetime, note: str,
                        attempts: int | None = None) -> bool:
        """Settle an entry in doubt as a person confirmed it; False when it is not in doubt (any more)."""

    def finish_outbox(self, entry: OutboxEntry, *, status: OutboxStatus, at: datetime,
                      error: str | None = None, next_attempt_at: datetime | None = None,
                      payload: Mapping[str, Any] | None = None) -> bool:
        """Settle a leased attempt; False when the lease was lost meanwhile (nothing is changed)."""

    def close_pending_steps(self, case_id: int, state: str, *, at: datetime, why: str) -> int:
        """Settle a case's pending (unclaimed) steps of `state` without running them; return how many."""

    def requeue_outbox(self, entry_id: int, *, at: datetime) -> bool:
        """Make a dead entry pending again with fresh attempts and the same key; False when it is not dead."""

    # --- timers ---

    def insert_timer(self, timer: NewTimer) -> None:
        """Store a pending timer."""

    def case_timers(self, case_id: int) -> Sequence[ScheduledTimer]:
        """Return all of a case's timers, settled ones too."""

    def pending_timers(self, case_id: int) -> Sequence[ScheduledTimer]:
        """Return a case's pending timers."""

    def cancel_timers(self, case_id: int, *, at: datetime, clock: TimerClock | None = None,
                      state: str | None = None) -> int:
        """Cancel a case's pending timers (of one clock, one state, when given); return how many."""

    def set_timer_due(self, timer_id: int, due_at: datetime | None) -> None:
        """Move a pending timer's due time (None: not due while the SLA clock stands still)."""

    def settle_timer(self, timer_id: int, *, status: TimerStatus, at: datetime) -> bool:
        """Settle a pending timer; False when it was settled meanwhile."""

    def written_timers(self, case_id: int | None) -> list[list[object]]:
        """Return the case's timers written since its last record, as the next one lists them (see sealed_rows)."""

    def set_case_tasks_priority(self, case_id: int, priority: Priority) -> int:
        """Give a case's open tasks a new priority; return how many."""

    def mode_row(self, workflow: str) -> Mapping[str, Any] | None:
        """Return the workflow's mode row (manual, changed_by, changed_at), or None when never set (automatic)."""

    def set_manual_mode(self, workflow: str, manual: bool, *, by: str, at: datetime) -> None:
        """Switch the workflow's automated steps to people (True) or back to the worker."""


class Store(Protocol):
    """The engine's storage: reads, and transactions for writes."""

    def transaction(self) -> AbstractContextManager[StoreTransaction]:
        """Open a transaction: committed when the block ends, rolled back when it raises."""

    def version(self, workflow: str, version: int | None = None) -> StoredVersion | None:
        """Return a deployed version (the latest when version is None), or None."""

    def versions(self, workflow: str | None = None) -> Sequence[StoredVersion]:
        """Return deployed versions, by workflow and version number."""

    def audit_records_about(self, workflow: str, version: int | None) -> Sequence[AuditRecord]:
        """Return the system chain's records about a workflow (and version, or of no version), newest first."""

    def legacy_row_marks(self) -> dict[str, int]:
        """Return, per bound table, the last row id written before rows were bound to records (0008)."""

    def latest_version_number(self, workflow: str) -> int | None:
        """Return the number of the workflow's latest deployed version, or None when none is deployed."""

    def workflow_names(self) -> Sequence[str]:
        """Return the names of the deployed workflows, sorted."""

    def changes(self, workflow: str | None = None, *, status: str | None = "pending") -> Sequence[VersionChange]:
        """Return the versions waiting for (or decided by) a second person, oldest first."""

    def case(self, case_id: int) -> Case | None:
        """Return a case, or None."""

    def case_as_written(self, case_id: int) -> tuple[Case, dict[str, Any] | None, AuditRecord | None] | None:
        """Return a case, its row's values as they are now (None: written by an open transaction of this thread,
        not yet recorded) and the newest record of its chain that lists the row (None: none does); None: no case."""

    def case_by_key(self, workflow: str, idempotency_key: str) -> tuple[Case, str | None] | None:
        """Return the case started with this idempotency key and the hash of its intake payload, or None."""

    def cases(self, *, workflow: str | None = None, state: str | None = None, queue: str | None = None,
              after_id: int = 0, limit: int = 100) -> Sequence[Case]:
        """Return cases by id, after `after_id`, filtered by what is given."""

    def case_branches(self, case_id: int) -> Sequence[CaseBranch]:
        """Return every branch and sub-case a case opened, in the order opened."""

    def branch_of_child(self, child_id: int) -> CaseBranch | None:
        """Return the branch row of a child case (None for a case of its own)."""

    def events(self, case_id: int) -> Sequence[EngineEvent]:
        """Return a case's events in order of arrival."""

    @property
    def url(self) -> str:
        """Where the store is (without a password): names the database's audit key and checkpoints."""

    def audit_records(self, *, after_id: int = 0, limit: int = 1000, chain: str | None = None
                      ) -> Sequence[AuditRecord]:
        """Return audit records in order of arrival (of one chain, when given), after an id."""

    def task(self, task_id: int) -> Task | None:
        """Return a task, or None."""

    def tasks(self, *, queue: str | None = None, case_id: int | None = None, status: TaskStatus | None = None,
              kind: str | None = None, after_id: int = 0, limit: int = 100) -> Sequence[Task]:
        """Return tasks by id, filtered by what is given."""

    def due_escalations(self, now: datetime, *, limit: int = 100) -> Sequence[Task]:
        """Return open approval tasks whose timeout passed and that were not escalated yet."""

    def votes(self, case_id: int, round: int) -> Sequence[Vote]:
        """Return the votes of one visit of a case to an approval state."""

    def evidence_names(self, case_id: int) -> set[str]:
        """Return the names of the evidence attached to a case."""

    def comments(self, case_id: int) -> Sequence[Comment]:
        """Return a case's comments, oldest first."""

    def exception_as_written(self, case_id: int, exception_id: int) -> tuple[RowSeal | None, list[AuditRecord]]:
        """Return a case's exception row sealed as it is now (None: none, or written by an open transaction of this
        thread, not yet recorded), and the case's records that may have written it, newest first."""

    def open_exception(self, case_id: int) -> RaisedException | None:
        """Return the case's open exception, or None."""

    def paused_time(self, case_id: int) -> PausedTime:
        """Return the case's paused SLA time (none stored: zero, running)."""

    def outbox_entry(self, entry_id: int) -> OutboxEntry | None:
        """Return an outbox entry, or None."""

    def outbox_entries(self, *, status: OutboxStatus | None = None, case_id: int | None = None,
                       after_id: int = 0, limit: int = 100) -> Sequence[OutboxEntry]:
        """Return outbox entries by id, filtered by what is given."""

    def lapsed_steps(self, now: datetime, *, limit: int = 100) -> Sequence[OutboxEntry]:
        """Return running steps whose lease ran out before `now` (their worker died or hung mid-call)."""

    def due_elsewhere(self, now: datetime, actions: Collection[str]) -> dict[str, int]:
        """Return, by action, how many steps are due at `now` whose action is not among `actions`."""

    def timers(self, case_id: int) -> Sequence[ScheduledTimer]:
        """Return a case's timers in the order they were scheduled."""

    def due_timers(self, now: datetime, *, limit: int = 100,
                   after: tuple[datetime, int] | None = None) -> Sequence[ScheduledTimer]:
        """Return pending timers due by `now`, earliest first (by due time, then id): those after `after` if given."""

    def timer_as_written(self, timer_id: int) -> tuple[ScheduledTimer, RowSeal, list[AuditRecord]] | None:
        """Return a timer, its row sealed as it is now, and its case's records that list timers, newest first."""

    def first_timer_listings(self, *, limit: int = 20) -> list[AuditRecord]:
        """Return the earliest records that list timers, in order of arrival."""

    def mode_row(self, workflow: str) -> Mapping[str, Any] | None:
        """Return the workflow's mode row (manual, changed_by, changed_at), or None when never set (automatic)."""
