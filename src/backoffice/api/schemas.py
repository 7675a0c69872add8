"""The shapes of the API's requests and answers (pydantic): what /openapi.json documents.

Requests forbid unknown fields, so a misspelt field is a 422 naming it, not silently ignored;
none of them has a field that names who acts (the caller is the authenticated principal).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from backoffice.api.problems import Problem
from backoffice.engine import Case, EngineEvent, OutboxEntry
from backoffice.engine.comments import MAX_COMMENT, Comment
from backoffice.engine.ports import StoredVersion, Vote
from backoffice.engine.tasks import Task
from backoffice.services.branch_view import BranchSeen

Name = Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")
Note = Field(None, max_length=4000)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- requests ---


class DeployRequest(Strict):
    """A definition to deploy: its YAML text, and the contract files it names (by the name it uses)."""

    definition: str = Field(min_length=1, max_length=512 * 1024, description="The definition YAML.")
    files: dict[str, str] = Field(default_factory=dict, max_length=20,
                                  description="Files the definition names (its data contract), by relative name.")


# A calendar's words: short, one line, no control characters (a NUL is refused here, not by the database).
CalendarWord = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f]+$")]


class HolidaysRequest(Strict):
    country: CalendarWord = Field(description="An ISO 3166 country code, such as NL.")
    subdivision: CalendarWord | None = Field(None, description="A state or province code, such as BY.")
    extra: list[CalendarWord] = Field(default_factory=list, max_length=366,
                                      description="Extra closure dates, such as 2024-12-24.")


class CalendarRequest(Strict):
    """A workflow's business calendar, as a definition's `calendar:` says it (checked by the definition's rules)."""

    name: CalendarWord = "default"
    timezone: CalendarWord = Field(description="An IANA zone name, such as Europe/Amsterdam.")
    working_hours: CalendarWord | Annotated[list[CalendarWord], Field(min_length=1, max_length=24)] = Field(
        description="Such as 09:00-17:00, or a list of ranges.")
    working_days: list[CalendarWord] = Field(["mon", "tue", "wed", "thu", "fri"], min_length=1, max_length=7,
                                             description="mon to sun.")
    holidays: HolidaysRequest | None = None


class TransitionRequest(Strict):
    to: str = Name
    data: dict[str, Any] | None = Field(None, description="Fields to add or replace in the case data.")


class CompleteRequest(Strict):
    to: str = Name
    data: dict[str, Any] | None = None


class ReassignRequest(Strict):
    """Where the task goes: a queue (and the role that works it), or a person; at least one."""

    queue: str | None = Field(None, min_length=1, max_length=200)
    role: str | None = Field(None, min_length=1, max_length=200)
    person: str | None = Field(None, min_length=1, max_length=200)


class BulkTaskRequest(Strict):
    """One action on many tasks; each gets its own result."""

    action: Literal["claim", "release", "reassign"]
    task_ids: list[Annotated[int, Field(ge=1, le=2**63 - 1)]] = Field(min_length=1, max_length=100)
    reassign: ReassignRequest | None = Field(None, description="Where to, for action reassign.")


class NextTaskRequest(Strict):
    queues: list[str] = Field(min_length=1, max_length=50)


class VoteRequest(Strict):
    decision: Literal["approve", "reject"]
    note: str | None = Note


class RaiseExceptionRequest(Strict):
    reason: str = Name
    note: str | None = Note


class ResolveExceptionRequest(Strict):
    note: str | None = Note
    data: dict[str, Any] | None = Field(None, description="Fields the resolution adds to or replaces in the case "
                                                          "data (what \"needs info\" asked for); the result must "
                                                          "still pass the inputs.")


class CommentRequest(Strict):
    body: str = Field(min_length=1, max_length=MAX_COMMENT, description="The comment's text.")


# --- answers ---


class VersionOut(BaseModel):
    workflow: str
    version: int
    status: str
    content_hash: str
    deployed_at: datetime
    deployed_by: str

    @classmethod
    def of(cls, stored: StoredVersion) -> VersionOut:
        return cls(workflow=stored.workflow, version=stored.version, status=stored.status,
                   content_hash=stored.content_hash, deployed_at=stored.deployed_at, deployed_by=stored.deployed_by)


class DeployOut(VersionOut):
    created: bool = Field(description="False when the same content was deployed already (same version).")


class WorkflowOut(BaseModel):
    workflow: str
    latest_version: int
    versions: list[VersionOut]


class CaseOut(BaseModel):
    id: int
    workflow: str
    definition_version: int
    state: str
    previous_state: str | None
    version: int = Field(description="The case version: send it back in If-Match to move the case.")
    priority: str
    queue: str | None
    owner: str | None
    requester: str
    idempotency_key: str | None
    created_at: datetime
    updated_at: datetime
    data: dict[str, Any]

    @classmethod
    def of(cls, case: Case) -> CaseOut:
        return cls(id=case.id, workflow=case.workflow, definition_version=case.definition_version,
                   state=case.state, previous_state=case.previous_state, version=case.version,
                   priority=str(case.priority), queue=case.queue, owner=case.owner, requester=case.requester,
                   idempotency_key=case.idempotency_key, created_at=case.created_at, updated_at=case.updated_at,
                   data=dict(case.data))


class CasePage(BaseModel):
    items: list[CaseOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null at the end.")


class EventOut(BaseModel):
    id: int | None
    activity: str
    timestamp: datetime
    resource: str | None
    role: str | None
    reason: str | None
    attributes: dict[str, Any]

    @classmethod
    def of(cls, event: EngineEvent) -> EventOut:
        return cls(id=event.id, activity=event.activity, timestamp=event.timestamp, resource=event.resource,
                   role=event.role, reason=event.reason, attributes=dict(event.attributes))


class TaskOut(BaseModel):
    id: int
    case_id: int
    workflow: str
    state: str
    kind: str
    status: str
    queue: str | None
    role: str | None
    assignee: str | None
    priority: str
    due_at: datetime | None
    created_at: datetime
    claimed_by: str | None
    claim_expires_at: datetime | None
    closed_by: str | None
    closed_at: datetime | None
    reason: str | None
    escalated: bool
    delegated_by: str | None

    @classmethod
    def of(cls, task: Task) -> TaskOut:
        return cls(id=task.id, case_id=task.case_id, workflow=task.workflow, state=task.state, kind=str(task.kind),
                   status=str(task.status), queue=task.queue, role=task.role, assignee=task.assignee,
                   priority=str(task.priority), due_at=task.due_at, created_at=task.created_at,
                   claimed_by=task.claimed_by, claim_expires_at=task.claim_expires_at, closed_by=task.closed_by,
                   closed_at=task.closed_at, reason=task.reason, escalated=task.escalated,
                   delegated_by=task.delegated_by)


class TaskPage(BaseModel):
    items: list[TaskOut]
    next_cursor: str | None


class BulkItemResult(BaseModel):
    task_id: int
    status: int = Field(description="The status this task alone would have had.")
    task: TaskOut | None = None
    problem: Problem | None = None


class BulkResult(BaseModel):
    succeeded: int
    failed: int
    results: list[BulkItemResult]


class VoteOut(BaseModel):
    state: str
    round: int
    task_id: int
    approver: str
    decision: str
    at: datetime
    role: str | None
    on_behalf_of: str | None
    note: str | None

    @classmethod
    def of(cls, vote: Vote) -> VoteOut:
        return cls(state=vote.state, round=vote.round, task_id=vote.task_id, approver=vote.approver,
                   decision=vote.decision, at=vote.at, role=vote.role, on_behalf_of=vote.on_behalf_of, note=vote.note)


class ExceptionOut(BaseModel):
    exception_id: int | None
    reason: str
    raised_in: str | None
    raised_by: str | None
    raised_at: datetime
    note: str | None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    resolution: str | None = None


class TimerOut(BaseModel):
    name: str
    kind: str
    clock: str
    state: str | None
    status: str
    due_at: datetime | None = Field(description="null while the case's SLA clock stands still")
    settled_at: datetime | None


class SlaOut(BaseModel):
    resolution_due_at: datetime | None = Field(description="When the resolution SLA falls due, after pauses; "
                                                           "null without one, or while paused")
    paused: bool
    paused_seconds: float
    paused_because: str | None = Field(default=None, description="Why the clock stands still: the case waits in "
                                                                  "a pause state, or every open branch does")


class BranchOut(BaseModel):
    case_id: int = Field(description="The branch's own case (a sub-case: a case of another workflow).")
    name: str = Field(description="The branch's name in its parallel state (a checklist item, a sub-case's "
                                  "workflow).")
    kind: str = Field(description="branch or subcase")
    state: str = Field(description="The state of this case that opened it.")
    case_state: str = Field(description="Where the branch's own case stands now.")
    status: str = Field(description="open, done (joined), ended (in an end state of its own) or cancelled")
    outcome: str | None = Field(description="The state the branch case ended in, once closed by itself.")
    required: bool
    opened_at: datetime
    due_at: datetime | None
    closed_at: datetime | None
    reason: str | None = Field(description="Why it was cancelled.")

    @classmethod
    def of(cls, seen: BranchSeen) -> BranchOut:
        row = seen.row
        return cls(case_id=row.child_id, name=row.branch, kind=str(row.kind), state=row.state,
                   case_state=seen.case_state, status=str(row.status), outcome=row.outcome, required=row.required,
                   opened_at=row.opened_at, due_at=row.due_at, closed_at=row.closed_at, reason=row.reason)


class ParentOut(BaseModel):
    case_id: int = Field(description="The case this one is a branch or sub-case of.")
    state: str = Field(description="The state of that case that opened this one.")
    branch: str | None = Field(description="This case's branch name there (null for a sub-case).")


class CommentOut(BaseModel):
    id: int
    case_id: int
    author: str
    on_behalf_of: str | None
    body: str
    created_at: datetime

    @classmethod
    def of(cls, comment: Comment) -> CommentOut:
        return cls(id=comment.id, case_id=comment.case_id, author=comment.author, on_behalf_of=comment.on_behalf_of, body=comment.body,
                   created_at=comment.created_at)


class CaseDetail(CaseOut):
    timeline: list[EventOut]
    tasks: list[TaskOut]
    votes: list[VoteOut]
    exceptions: list[ExceptionOut]
    evidence: list[str] = Field(description="The names of the documents attached.")
    sla: SlaOut
    timers: list[TimerOut]
    comments: list[CommentOut] = Field(default_factory=list, description="The comments, oldest first.")
    branches: list[BranchOut] = Field(default_factory=list, description="The branches and sub-cases this case "
                                                                       "opened, open and closed, in the order opened.")
    parent: ParentOut | None = Field(default=None, description="The case this one is a branch of, when you may "
                                                               "see it; null otherwise.")


class OutboxOut(BaseModel):
    id: int
    case_id: int
    workflow: str
    state: str
    action: str
    kind: str
    idempotency_key: str
    status: str
    attempts: int
    max_attempts: int
    next_attempt_at: datetime
    last_error: str | None
    finished_at: datetime | None

    @classmethod
    def of(cls, entry: OutboxEntry) -> OutboxOut:
        return cls(id=entry.id, case_id=entry.case_id, workflow=entry.workflow, state=entry.state,
                   action=entry.action, kind=str(entry.kind), idempotency_key=entry.idempotency_key,
                   status=str(entry.status), attempts=entry.attempts, max_attempts=entry.max_attempts,
                   next_attempt_at=entry.next_attempt_at, last_error=entry.last_error, finished_at=entry.finished_at)


class OutboxPage(BaseModel):
    items: list[OutboxOut]
    next_cursor: str | None


class EvidenceOut(BaseModel):
    case_id: int
    name: str
    sha256: str
    size: int
    media_type: str = Field(description="The kind read from the file's bytes, not from its name or header.")


class AuditVerifyOut(BaseModel):
    """The trail checked (see backoffice.engine.audit_verify): ok, or the first record or row touched."""

    ok: bool
    records: int
    chains: int
    rows: int
    checkpoint: int | None
    problem: str | None
    chain: str | None
    seq: int | None
    table: str | None
    key: str | int | None
    field: str | None
    summary: str


class PrincipalOut(BaseModel):
    id: str
    roles: list[str]
    queues: list[str]
    service: bool


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "not ready"]
    database: str
    revision: str | None
    expected_revision: str
    detail: str | None = None
