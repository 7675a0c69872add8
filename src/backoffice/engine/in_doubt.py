"""Automated steps in doubt: an attempt whose outcome nobody knows, settled by a person who looks.

An attempt is in doubt when its call may have reached the other system but the engine never
learnt the answer: the worker died or hung during the call (its lease ran out while the step
was running), the call ran past the step's `timeout:`, or the attempts ran out after a failure
that does not rule out a delivery. Running it again, or handing it to the manual twin, could
then make the effect twice (a second purchase order, a second payment). So nothing more is
done: the entry is set aside as `in_doubt` and a task asks a person, in the step's
`in_doubt_role` (default: the fallback's queue role, else its owner's role, else `operator`),
to check in the other system and confirm:

- it happened: the result they read there (the purchase order number...) is recorded as the
  step's result and the case moves on by the step's way out, as if the call had answered;
- it did not happen: the step is tried again (the unknown attempt does not count), or handed
  to its manual twin (`on_exhausted`, else a fallback task in the step's state).

Mixed into `Engine` through `AutomationOperations`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from backoffice.definitions.model import AutomatedStep, Definition
from backoffice.engine.audit import AuditAction, AuditEntry
from backoffice.engine.cases import Actor, Case, utc
from backoffice.engine.outbox import OutboxEntry, OutboxKind, OutboxStatus
from backoffice.engine.tasks import Assignment, NewTask, Task, TaskKind, TaskStatus, _role_of_queue
from backoffice.errors import NoResultForConfirmation, NotEligibleForTask, StepNotInDoubt, TaskAlreadyClaimed

if TYPE_CHECKING:
    from backoffice.engine.engine import Engine

DEFAULT_IN_DOUBT_ROLE = "operator"
"""Who checks a step in doubt when neither the step nor the fallback names a role."""


class NotHappened(StrEnum):
    """What to do with a step a person found did not happen."""

    RETRY = "retry"
    """Run it again: the worker takes it at once, with the same idempotency key."""
    MANUAL = "manual"
    """Hand it to its manual twin: the step's on_exhausted state, else a fallback task for people."""


def in_doubt_role(definition: Definition, step: AutomatedStep | None) -> str:
    """Return the role that checks a step in doubt: the step's, else the fallback's, else `operator`."""
    if step is not None and step.in_doubt_role:
        return step.in_doubt_role
    fallback = definition.fallback
    if fallback is not None:
        queue_role = _role_of_queue(definition, fallback.queue)
        if queue_role:
            return queue_role
        if fallback.owner is not None and fallback.owner.role:
            return fallback.owner.role
    return DEFAULT_IN_DOUBT_ROLE


class InDoubtOperations:
    """Setting steps aside as in doubt, and settling them as a person confirms."""

    def steps_in_doubt(self: Engine, *, after_id: int = 0, limit: int = 100) -> Sequence[OutboxEntry]:
        """Return the steps in doubt, oldest first."""
        return self.outbox(status=OutboxStatus.IN_DOUBT, after_id=after_id, limit=limit)

    def confirm_step(self: Engine, entry_id: int, *, happened: bool, actor: Actor, now: datetime,
                     result: Mapping[str, Any] | None = None, then: NotHappened = NotHappened.RETRY) -> Case:
        """Settle a step in doubt as `actor` found it in the other system; return the case.

        happened=True records `result` (what the other system shows: the purchase order number...) as the
        step's result and moves the case on by the step's way out, in one transaction. happened=False
        runs the step again (`then=retry`) or hands it to its manual twin (`then=manual`).

        Raises:
            UnknownOutboxEntry: there is no such entry.
            StepNotInDoubt: the entry is not in doubt (any more).
            BadActorId, UnknownActor, InactiveActor, RoleNotHeld, NotAuthorizedOnBehalf: the gate refuses the actor.
            NotEligibleForTask, TaskAlreadyClaimed: the actor may not settle it, or another holds its task.
            NoResultForConfirmation: a result given for a step that did not happen.
            TransitionNotAllowed, ContractViolation: the result does not take the case on (nothing is written).
        """
        from backoffice.limits import check_payload
        now = utc(now)
        entry = self.outbox_entry(entry_id)
        if entry.status is not OutboxStatus.IN_DOUBT:
            raise StepNotInDoubt(entry_id, str(entry.status))
        if result is not None and not happened:
            raise NoResultForConfirmation(entry_id, "a result was given for a step that did not happen; expected "
                                                    "--happened with the result, or no result")
        result = check_payload(dict(result or {}), what="the result")
        case = self.case(entry.case_id)
        # Through the gate like every act: the in-doubt task's role must be one the directory grants (in this
        # workflow) to whoever confirms, or to the person they confirm for.
        actor = self.identify(actor, workflow=case.workflow, now=now)
        definition = self.running(case.workflow, case.definition_version).definition
        step = definition.automated_step(entry.state)
        task = self._in_doubt_task(entry, case)
        role = in_doubt_role(definition, step)
        if task is not None:
            if not task.may_be_taken_by(actor):
                raise NotEligibleForTask(task.id, actor.id, task.assignment.describe())
            holder = task.held_by(now)
            if holder is not None and holder != actor.id:
                raise TaskAlreadyClaimed(task.id, holder, task.claim_expires_at)
        elif role not in actor.roles:
            raise NotEligibleForTask(f"of outbox entry {entry_id}", actor.id, f"role {role}")
        detail = {"outbox_id": entry.id, "action": entry.action, "idempotency_key": entry.idempotency_key,
                  "happened": happened, "confirmed_by": actor.id, **actor.on_behalf(),
                  **({"result": result} if happened else {"then": str(then)})}
        with self.store.transaction() as tx:
            if happened:
                status, note = OutboxStatus.DONE, f"confirmed done by {actor.id}"
            elif then is NotHappened.RETRY:
                status, note = OutboxStatus.PENDING, f"confirmed not done by {actor.id}: tried again"
            else:
                status, note = OutboxStatus.MANUAL, f"confirmed not done by {actor.id}: handed to people"
            # An attempt that did not happen does not count against the step's attempts.
            attempts = max(entry.attempts - 1, 0) if status is OutboxStatus.PENDING else None
            if not tx.settle_in_doubt(entry.id, status=status, at=now, note=note, attempts=attempts):
                raise StepNotInDoubt(entry_id, "settled meanwhile")
            if task is not None:
                tx.close_task(task.id, status=TaskStatus.COMPLETED, by=actor.id, at=now)
            self._audit(tx, AuditEntry(AuditAction.STEP_CONFIRMED, actor=actor.id, role=actor.role, at=now,
                                       case_id=case.id, workflow=case.workflow, version=case.definition_version,
                                       detail=detail))
            if case.state != entry.state:
                return case  # moved on meanwhile (an exception): the confirmation is recorded, the case is theirs
            if happened:
                return self._move_on(tx, replace(entry, status=OutboxStatus.DONE), case, result, now=now,
                                     extra={"confirmed_by": actor.id, **actor.on_behalf()})
            if status is OutboxStatus.MANUAL:
                return self._to_manual_twin(tx, entry, case, definition, step, actor=actor, now=now)
        return self.case(case.id)

    # --- inside: what the worker calls ---

    def _sweep_in_doubt(self: Engine, now: datetime, *, limit: int = 100) -> int:
        """Set aside every running step whose lease ran out (its worker died or hung mid-call); return how many."""
        count = 0
        for entry in self.store.lapsed_steps(now, limit=limit):
            error = (f"the lease of {entry.claimed_by} ran out during attempt {entry.attempts} of "
                     f"{entry.max_attempts}: the worker died or hung during the call, which may have reached "
                     f"the other system")
            count += self._step_in_doubt(entry, error=error, now=now)
        return count

    def _step_in_doubt(self: Engine, entry: OutboxEntry, *, error: str, now: datetime) -> bool:
        """Set a running step aside as in doubt and ask a person to check; False when it was settled meanwhile."""
        case = self.case(entry.case_id)
        definition = self.running(case.workflow, case.definition_version).definition
        step = definition.automated_step(entry.state)
        role = in_doubt_role(definition, step)
        queue = definition.roles[role].queue if role in definition.roles else None
        with self.store.transaction() as tx:
            if not tx.mark_in_doubt(entry, at=now, error=error):
                return False
            if case.state == entry.state:
                tx.insert_task(NewTask(case.id, case.workflow, case.state, case.version, TaskKind.IN_DOUBT,
                                       Assignment(queue=queue, role=role), case.priority, now,
                                       reason=f"in doubt: did {entry.action} happen? (outbox {entry.id}, key "
                                              f"{entry.idempotency_key}) {error}"[:1000]))
            self._audit(tx, AuditEntry(AuditAction.STEP_IN_DOUBT, actor=entry.claimed_by or "backoffice-worker",
                                       at=now, case_id=case.id, workflow=case.workflow,
                                       version=case.definition_version,
                                       detail={"outbox_id": entry.id, "action": entry.action,
                                               "attempt": entry.attempts, "error": error[:500]}))
        return True

    def _in_doubt_task(self: Engine, entry: OutboxEntry, case: Case) -> Task | None:
        for task in self.store.tasks(case_id=case.id, status=TaskStatus.OPEN, limit=1000):
            if task.kind is TaskKind.IN_DOUBT and task.state == entry.state:
                return task
        return None

    def _step_is_in_doubt(self: Engine, case: Case) -> OutboxEntry | None:
        """Return the case's step in its current state whose call is in flight or in doubt, or None."""
        for status in (OutboxStatus.IN_DOUBT, OutboxStatus.RUNNING):
            for entry in self.store.outbox_entries(case_id=case.id, status=status, limit=100):
                if entry.kind is OutboxKind.STEP and entry.state == case.state:
                    return entry
        return None
