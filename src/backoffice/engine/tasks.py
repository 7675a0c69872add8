"""Human tasks and work queues: what a person must do on a case, where it waits, who holds it.

Entering a human_task or review state makes one task in the state's routed queue; entering an
approval state makes one task per approver; raising an exception makes one for its resolver.
Leaving the state closes the case's open tasks. A claim is a lease: it lasts until
`claim_expires_at`, and an expired claim (its holder disappeared) can be taken by anyone
eligible. The store's conditional update is the guard that gives a task one claimant under
any concurrency, whatever the engine read before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from backoffice.definitions.model import REQUESTER, Definition, Party, Priority, StateKind
from backoffice.engine.cases import Actor, Case
from backoffice.engine.sla import calendar_of

PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}
DEFAULT_LEASE = timedelta(minutes=30)


class TaskKind(StrEnum):
    WORK = "work"
    APPROVAL = "approval"
    EXCEPTION = "exception"
    IN_DOUBT = "in_doubt"
    """Check in the other system whether an automated step's attempt, whose outcome is unknown, happened."""


class TaskStatus(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Assignment:
    """Who may take a task: a queue it waits in, and the role or person who may take it."""

    queue: str | None
    role: str | None = None
    assignee: str | None = None

    def describe(self) -> str:
        if self.assignee:
            return f"person {self.assignee}"
        return f"role {self.role}" if self.role else f"anyone in queue {self.queue}"


@dataclass(frozen=True)
class NewTask:
    """A task about to be stored."""

    case_id: int
    workflow: str
    state: str
    round: int
    kind: TaskKind
    assignment: Assignment
    priority: Priority
    created_at: datetime
    due_at: datetime | None = None
    reason: str | None = None
    escalate_at: datetime | None = None


@dataclass(frozen=True)
class Task:
    """A stored task and where it stands."""

    id: int
    case_id: int
    workflow: str
    state: str
    round: int
    kind: TaskKind
    status: TaskStatus
    queue: str | None
    role: str | None
    assignee: str | None
    priority: Priority
    due_at: datetime | None
    created_at: datetime
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    claim_expires_at: datetime | None = None
    closed_by: str | None = None
    closed_at: datetime | None = None
    reason: str | None = None
    escalate_at: datetime | None = None
    escalated: bool = False
    delegated_by: str | None = None

    @property
    def assignment(self) -> Assignment:
        return Assignment(self.queue, self.role, self.assignee)

    def held_by(self, now: datetime) -> str | None:
        """Return who holds a live claim on the task at `now`, or None."""
        if self.claimed_by is not None and self.claim_expires_at is not None and self.claim_expires_at >= now:
            return self.claimed_by
        return None

    def may_be_taken_by(self, actor: Actor) -> bool:
        """Whether the actor is the task's person, or holds its role (anyone, when it names neither)."""
        if self.assignee is not None:
            return self.assignee in actor.persons
        return self.role is None or self.role in actor.roles

    def as_json(self) -> dict[str, object]:
        def when(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment else None
        return {"id": self.id, "case_id": self.case_id, "workflow": self.workflow, "state": self.state,
                "kind": str(self.kind), "status": str(self.status), "queue": self.queue, "role": self.role,
                "assignee": self.assignee, "priority": str(self.priority), "due_at": when(self.due_at),
                "created_at": when(self.created_at), "claimed_by": self.claimed_by,
                "claim_expires_at": when(self.claim_expires_at), "reason": self.reason,
                "escalated": self.escalated, "delegated_by": self.delegated_by}


def assignment_of(definition: Definition, party: Party, case: Case) -> Assignment:
    """Return where work for a party waits: a role's queue, a queue (and its role), or a person."""
    if party.role == REQUESTER:
        return Assignment(queue=None, role=REQUESTER, assignee=case.requester)
    if party.role is not None:
        role = definition.roles.get(party.role)
        return Assignment(queue=role.queue if role else None, role=party.role)
    if party.queue is not None:
        queue = definition.queues.get(party.queue)
        owner = queue.role if queue else next((rid for rid, role in definition.roles.items()
                                               if role.queue == party.queue), None)
        return Assignment(queue=party.queue, role=owner)
    return Assignment(queue=None, assignee=party.person)


def work_on_entering(definition: Definition, case: Case, *, now: datetime, due_at: datetime | None
                     ) -> Sequence[NewTask]:
    """Return the tasks a case entering its state needs: one routed task for work, one per approver."""
    state = definition.state(case.state)
    approval = definition.approval(case.state)
    if state.kind is StateKind.APPROVAL and approval is not None:
        escalate_at = (calendar_of(definition).due(now, approval.timeout.after)
                       if approval.timeout is not None else None)
        return [NewTask(case.id, case.workflow, case.state, case.version, TaskKind.APPROVAL,
                        assignment_of(definition, party, case), case.priority, now, due_at,
                        escalate_at=escalate_at)
                for party in approval.approvers]
    if state.kind in (StateKind.HUMAN_TASK, StateKind.REVIEW, StateKind.APPROVAL):
        if state.role == REQUESTER:
            assignment = Assignment(queue=None, role=REQUESTER, assignee=case.requester)
        else:
            queue = case.queue or definition.queue_of(case.state)
            assignment = Assignment(queue=queue, role=state.role or _role_of_queue(definition, queue))
        return [NewTask(case.id, case.workflow, case.state, case.version, TaskKind.WORK, assignment,
                        case.priority, now, due_at)]
    return []


def _role_of_queue(definition: Definition, queue: str | None) -> str | None:
    if queue is None:
        return None
    if queue in definition.queues:
        return definition.queues[queue].role
    return next((rid for rid, role in definition.roles.items() if role.queue == queue), None)
