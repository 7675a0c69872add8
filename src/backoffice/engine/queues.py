"""Work queues, as the engine's operations on tasks: list, claim, next, release, complete, reassign.

Mixed into `Engine`. Every operation writes its audit record in the transaction of its change;
completing a task moves the case in that same transaction, so a task is never done without
its case moving, nor the other way round.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from backoffice.engine.audit import AuditAction, AuditEntry
from backoffice.engine.cases import Actor, utc
from backoffice.engine.controls import Exit
from backoffice.engine.roles import PlatformRole
from backoffice.engine.tasks import DEFAULT_LEASE, Assignment, Task, TaskKind, TaskStatus
from backoffice.errors import (ApprovalNotReassigned, ContractViolation, ControlBypassed, IdentityError,
                               NotAuthorizedOnBehalf,
                               NotEligibleForTask, RoleNotHeld, RoleRequired, TaskAlreadyClaimed, TaskClosed, TaskNotClaimed,
                               TransitionNotAllowed, UnknownTask)
from backoffice.limits import check_id, check_lease, check_page, check_text

if TYPE_CHECKING:
    from backoffice.engine.engine import Engine

REASSIGNERS = (str(PlatformRole.ADMINISTRATOR), str(PlatformRole.OPERATOR), str(PlatformRole.TEAM_LEAD))
"""Who may give others' work to someone else: platform roles only. A workflow's owner role is not
among them: it is often a whole team's role (every buyer), and reassigning is a lead's act."""


class QueueOperations:
    """The work-queue half of `Engine`."""

    def task(self: Engine, task_id: int) -> Task:
        """Return a task.

        Raises:
            UnknownTask: there is no such task.
        """
        check_id(task_id, "the task id")
        found = self.store.task(task_id)
        if found is None:
            raise UnknownTask(task_id)
        return found

    def tasks(self: Engine, *, queue: str | None = None, case_id: int | None = None,
              status: TaskStatus | None = TaskStatus.OPEN, after_id: int = 0, limit: int = 100) -> Sequence[Task]:
        """Return tasks by id (open ones unless `status` says otherwise), filtered by what is given."""
        check_page(after_id=after_id, limit=limit, case_id=case_id)
        if queue is not None:
            check_text(queue, "the queue filter")   # PostgreSQL stores no NUL: refused, not a database error
        return self.store.tasks(queue=queue, case_id=case_id, status=status, after_id=after_id, limit=limit)

    def claim(self: Engine, task_id: int, *, actor: Actor, now: datetime, lease: timedelta = DEFAULT_LEASE) -> Task:
        """Claim a task for `lease`; claiming again renews it. One claimant at a time, under any concurrency.

        Raises:
            UnknownTask, TaskClosed: no such task, or it is done.
            NotEligibleForTask: the task is for another role or person.
            TaskAlreadyClaimed: someone else holds a live claim.
        """
        now = utc(now)
        check_lease(lease, "the claim's lease")
        task = self.task(task_id)
        actor = self.identify(actor, workflow=task.workflow, now=now)
        self._check_open_and_eligible(task, actor)
        with self.store.transaction() as tx:
            if not tx.claim_task(task_id, actor=actor.id, now=now, until=now + lease):
                raise self._why_not_claimed(task_id, now)
            self._audit(tx, self._task_entry(AuditAction.TASK_CLAIMED, task, actor, now,
                                             {"until": (now + lease).isoformat()}))
        return self.task(task_id)

    def next_task(self: Engine, queues: str | Sequence[str], *, actor: Actor, now: datetime,
                  lease: timedelta = DEFAULT_LEASE) -> Task | None:
        """Claim the most urgent task of the queues that the actor may take; None when there is none.

        Most urgent: highest priority, then earliest SLA due time, then oldest. A task held by a
        live claim is skipped; one whose claim expired is taken over.
        """
        now = utc(now)
        check_lease(lease, "the claim's lease")
        names = [check_text(name, "a queue name") for name in ([queues] if isinstance(queues, str) else queues)]
        # One transaction for the reads of who acts and for the claim (see SqlStore._writing).
        with self.store.transaction() as tx:
            actor, roles = self._identify_in_every_workflow(actor, now)
            task = tx.claim_next(names, actor=actor.id, roles=actor.roles, now=now, until=now + lease,
                                 roles_by_workflow=roles)
            if task is not None:
                self._audit(tx, self._task_entry(AuditAction.TASK_CLAIMED, task, actor, now,
                                                 {"until": (now + lease).isoformat(), "next": True}))
        return task

    def release(self: Engine, task_id: int, *, actor: Actor, now: datetime) -> Task:
        """Give a claimed task back to its queue.

        Raises:
            UnknownTask, TaskClosed: no such task, or it is done.
            TaskNotClaimed: the actor holds no live claim on it.
        """
        now = utc(now)
        task = self.task(task_id)
        actor = self.identify(actor, workflow=task.workflow, now=now)
        if task.status is not TaskStatus.OPEN:
            raise TaskClosed(task_id, str(task.status))
        with self.store.transaction() as tx:
            if not tx.release_task(task_id, actor=actor.id, now=now):
                raise TaskNotClaimed(task_id, actor.id, task.held_by(now))
            self._audit(tx, self._task_entry(AuditAction.TASK_RELEASED, task, actor, now, {}))
        return self.task(task_id)

    def complete(self: Engine, task_id: int, *, actor: Actor, now: datetime, to: str,
                 data: Mapping[str, Any] | None = None) -> Task:
        """Complete a claimed task by moving its case to `to`, in one transaction; return the task.

        Raises:
            UnknownTask, TaskClosed: no such task, or it is done.
            TaskNotClaimed: the actor holds no live claim on it.
            TransitionNotAllowed, ContractViolation, StaleVersion: the case cannot move so.
        """
        now = utc(now)
        # One transaction for the reads the completion is checked on and for its writes.
        with self.store.transaction() as tx:
            task = self.task(task_id)
            actor = self.identify(actor, workflow=task.workflow, now=now)
            if task.status is not TaskStatus.OPEN:
                raise TaskClosed(task_id, str(task.status))
            if task.held_by(now) != actor.id:
                raise TaskNotClaimed(task_id, actor.id, task.held_by(now))
            case = self.case(task.case_id)
            if task.kind is TaskKind.APPROVAL:
                # An approval task is a vote to cast, never a task to complete: completing it would move
                # the case past the approval without a vote.
                raise ControlBypassed(case.id, case.state, to, str(Exit.TASK),
                                      f"task {task_id} is an approval, decided by votes; expected "
                                      f"backoffice approve {case.id} (or --reject)")
            decision, merged = self._decide(case, to, actor=actor, now=now, data=data)
            if not decision:
                raise TransitionNotAllowed(case_id=case.id, state=case.state, to=to, reason=decision.reason or "")
            violations = self.running(case.workflow, case.definition_version).violations(merged)
            if violations:
                raise ContractViolation(case.workflow, violations)
            moved = self._moved(case, to, actor=actor, now=now, data=merged)
            # The conditional close is the guard: of two completions racing, one finds the task open.
            if not tx.close_task(task_id, status=TaskStatus.COMPLETED, by=actor.id, at=now, holder=actor.id):
                raise self._why_not_completed(task_id, actor, now)
            self._write_move(tx, case, moved, actor=actor, role=decision.role, now=now, data=data,
                             activity=decision.transition or to, transition=decision.transition,
                             detail={"task_id": task_id}, how=Exit.TASK)
        # As the conditional close left it: no read back.
        return replace(task, status=TaskStatus.COMPLETED, closed_by=actor.id, closed_at=now)

    def reassign(self: Engine, task_id: int, *, actor: Actor, now: datetime, queue: str | None = None,
                 role: str | None = None, person: str | None = None) -> Task:
        """Give an open task to another queue (and role) or person; its claim is dropped.

        Only an administrator, an operator or a team lead may (`REASSIGNERS`). The rule stands here, so the
        command line, the API and the web app obey the same one.

        Raises:
            UnknownTask, TaskClosed: no such task, or it is done.
            RoleRequired: the actor may not reassign the workflow's tasks (the roles that may are named).
            ApprovalNotReassigned: it is an approval's task.
        """
        now = utc(now)
        task = self.task(task_id)
        actor = self.identify(actor, workflow=task.workflow, now=now)
        if task.status is not TaskStatus.OPEN:
            raise TaskClosed(task_id, str(task.status))
        if not self._leads(actor):
            raise RoleRequired(str(actor), REASSIGNERS, f"reassign the tasks of {task.workflow}")
        if task.kind is TaskKind.APPROVAL:
            # Handing a vote to someone else would choose the approver around the approval's own
            # rules (its roles, separation of duties, delegation): refused here, for every interface.
            raise ApprovalNotReassigned(task_id)
        if person is not None:
            # The task goes to a person of the directory, under their one spelling.
            person = self.identify(person, workflow=task.workflow, now=now).id
        assignment = Assignment(queue=queue if queue is not None else (None if person else task.queue),
                                role=role if role is not None else (None if person else task.role), assignee=person)
        with self.store.transaction() as tx:
            if not tx.reassign_task(task_id, assignment):
                raise TaskClosed(task_id, "closed")
            self._audit(tx, self._task_entry(AuditAction.TASK_REASSIGNED, task, actor, now,
                                             {"queue": assignment.queue, "role": assignment.role,
                                              "assignee": assignment.assignee}))
        return self.task(task_id)

    def may_reassign(self: Engine, task_id: int, *, actor: Actor, now: datetime) -> bool:
        """Whether `actor` may reassign the task, by the rule `reassign` applies (for a page to offer it or not).

        Raises:
            UnknownTask: there is no such task.
        """
        task = self.task(task_id)
        try:
            who = self.identify(actor, workflow=task.workflow, now=utc(now))
        except IdentityError:
            return False
        return task.kind is not TaskKind.APPROVAL and task.status is TaskStatus.OPEN and self._leads(who)

    def leads_work(self: Engine, actor: Actor | str, *, now: datetime) -> bool:
        """Whether the actor holds a role that reassigns work anywhere (for a page to offer reassigning at all)."""
        try:
            return self._leads(self.identify(actor, workflow=None, now=utc(now)))
        except IdentityError:
            return False

    # --- inside ---

    @staticmethod
    def _leads(actor: Actor) -> bool:
        """Whether the (identified) actor holds a role that reassigns work (`REASSIGNERS`)."""
        return any(role in actor.roles for role in REASSIGNERS)

    def _identify_in_every_workflow(self: Engine, actor: Actor,
                                    now: datetime) -> tuple[Actor, dict[str, tuple[str, ...]] | None]:
        """Identify the actor in each deployed workflow (a queue may hold several's tasks); return their roles in each.

        Raises what `identify` raises when the actor is refused in every workflow (its first refusal).
        """
        roles: dict[str, tuple[str, ...]] = {}
        refusals: list[IdentityError] = []
        who = None
        # The person and their grants read once for all the workflows, not once per workflow.
        identify = self._identifier_of_one_operation()
        for workflow in self.store.workflow_names():
            try:
                who = identify(actor, workflow=workflow, now=now)
            except (RoleNotHeld, NotAuthorizedOnBehalf) as refused:
                refusals.append(refused)
                continue
            roles[workflow] = who.roles
        if who is None:
            if refusals:
                raise refusals[0]
            return identify(actor, workflow=None, now=now), None
        return who, roles

    @staticmethod
    def _check_open_and_eligible(task: Task, actor: Actor) -> None:
        if task.status is not TaskStatus.OPEN:
            raise TaskClosed(task.id, str(task.status))
        if not task.may_be_taken_by(actor):
            raise NotEligibleForTask(task.id, actor.id, task.assignment.describe())

    def _why_not_claimed(self: Engine, task_id: int, now: datetime) -> Exception:
        task = self.task(task_id)
        if task.status is not TaskStatus.OPEN:
            return TaskClosed(task_id, str(task.status))
        return TaskAlreadyClaimed(task_id, task.claimed_by or "someone",
                                  task.claim_expires_at.isoformat() if task.claim_expires_at else "?")

    def _why_not_completed(self: Engine, task_id: int, actor: Actor, now: datetime) -> Exception:
        task = self.task(task_id)
        if task.status is not TaskStatus.OPEN:
            return TaskClosed(task_id, str(task.status))
        return TaskNotClaimed(task_id, actor.id, task.held_by(now))

    @staticmethod
    def _task_entry(action: AuditAction, task: Task, actor: Actor, now: datetime,
                    detail: Mapping[str, Any]) -> AuditEntry:
        return AuditEntry(action, actor=actor.id, role=actor.role, at=now, case_id=task.case_id,
                          workflow=task.workflow, detail={"task_id": task.id, "state": task.state, **detail,
                                                          **actor.on_behalf()})
