"""Automated steps, as the engine's operations: the outbox entries they write, and how they settle.

Mixed into `Engine`. Entering an automated state writes the step's outbox entry in the
transaction of the move (see `Engine._enter`); the worker (`backoffice.engine.worker`) runs
it and then settles it here, each outcome in one transaction with its effect on the case:
success marks the entry done and moves the case on; the last failure marks it dead and
moves the case to the step's `on_exhausted`. A workflow in manual mode sends its steps to
people as tasks instead (the fallback).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from backoffice.definitions.model import AutomatedStep, Definition, StateKind
from backoffice.engine.audit import AuditAction, AuditEntry, seal_row
from backoffice.engine.cases import Actor, Case, utc
from backoffice.engine.controls import Exit
from backoffice.engine.in_doubt import InDoubtOperations
from backoffice.limits import check_id, check_page
from backoffice.engine.outbox import NewOutboxEntry, OutboxEntry, OutboxKind, OutboxStatus, step_key
from backoffice.engine.ports import Store, StoreTransaction
from backoffice.engine.roles import PlatformRole, require_role
from backoffice.engine.sealed_rows import MODES_TABLE
from backoffice.engine.tasks import Assignment, NewTask, TaskKind, _role_of_queue
from backoffice.errors import ContractViolation, NotDeadLettered, TransitionNotAllowed, UnknownOutboxEntry

if TYPE_CHECKING:
    from backoffice.engine.engine import Engine

_UNCHECKED = object()

WORKER_ID = "backoffice-worker"
"""The engine's own acts, which no worker account makes: a step that a person confirmed done moves on
as the step (the confirmer is named in the move's detail, and acts in no state by it)."""
EXHAUSTED = "retries_exhausted"
MAYBE_DELIVERED = "maybe_delivered"
"""Set in a step entry's payload once an attempt failed in a way that does not rule out a delivery."""


class StepLeaseLost(Exception):
    """The worker's lease on an outbox entry ran out and another worker took it: this attempt settles nothing."""


class AutomationOperations(InDoubtOperations):
    """The automated-step half of `Engine`."""

    def set_mode(self: Engine, workflow: str, *, manual: bool, now: datetime, actor: Actor | str) -> None:
        """Switch a workflow's automated steps to people (manual=True) or back to the worker.

        Raises:
            RoleRequired: the actor is not an operator.
            UnknownWorkflow: nothing is deployed under that name.
        """
        now = utc(now)
        who = self.identify(actor, workflow=workflow, now=now)
        require_role(who, PlatformRole.OPERATOR, what=f"switch {workflow} to {'manual' if manual else 'automatic'}")
        self.running(workflow)
        with self.store.transaction() as tx:
            tx.set_manual_mode(workflow, manual, by=who.id, at=now)
            self._audit(tx, AuditEntry(AuditAction.WORKFLOW_MODE_CHANGED, actor=who.id, role=who.role, at=now,
                                       workflow=workflow, detail={"manual": manual, **who.on_behalf()}))

    def manual_mode(self: Engine, workflow: str) -> bool:
        """Whether the workflow's automated steps go to people.

        Raises:
            DefinitionAltered: the mode was changed in the database outside the engine.
        """
        return self._manual_mode(self.store, workflow)

    def _manual_mode(self: Engine, source: Store | StoreTransaction, workflow: str) -> bool:
        """Read the workflow's mode (in a transaction, or not), held to the audit record that set it.

        The row is checked against the trail when it differs from the one this engine last
        checked, so a read costs nothing more until the mode changes (see sealed_rows).
        """
        values = source.mode_row(workflow)
        row = seal_row(MODES_TABLE, workflow, values, case_id=None) if values is not None else None
        digest = row.digest if row is not None else None
        if self._held_modes.get(workflow, _UNCHECKED) != digest:
            self._hold_to_trail(row, MODES_TABLE, workflow, workflow=workflow, version=None)
            self._held_modes[workflow] = digest
        return bool(values["manual"]) if values is not None else False

    def outbox(self: Engine, *, status: OutboxStatus | None = None, case_id: int | None = None,
               after_id: int = 0, limit: int = 100) -> Sequence[OutboxEntry]:
        """Return outbox entries by id, filtered by what is given."""
        check_page(after_id=after_id, limit=limit, case_id=case_id)
        return self.store.outbox_entries(status=status, case_id=case_id, after_id=after_id, limit=limit)

    def outbox_entry(self: Engine, entry_id: int) -> OutboxEntry:
        """Return an outbox entry.

        Raises:
            UnknownOutboxEntry: there is no such entry.
        """
        check_id(entry_id, "the outbox entry id")
        found = self.store.outbox_entry(entry_id)
        if found is None:
            raise UnknownOutboxEntry(entry_id)
        return found

    def dead_letters(self: Engine, *, after_id: int = 0, limit: int = 100) -> Sequence[OutboxEntry]:
        """Return the dead-letter queue: entries whose attempts ran out."""
        return self.outbox(status=OutboxStatus.DEAD, after_id=after_id, limit=limit)

    def replay(self: Engine, entry_id: int, *, actor: Actor | str, now: datetime) -> OutboxEntry:
        """Put a dead entry back in the outbox, due now, with fresh attempts and the same idempotency key.

        When its exhaustion moved the case to the step's `on_exhausted` state and the case is
        still there, the case goes back to the step's state in the same transaction, so that the
        replay's success moves it on as a first success would have.

        Raises:
            RoleRequired: the actor is not an operator.
            UnknownOutboxEntry: there is no such entry.
            NotDeadLettered: the entry is not dead.
        """
        now = utc(now)
        what = "replay a dead letter"
        try:
            entry = self.outbox_entry(entry_id)
        except UnknownOutboxEntry:
            # Whether an entry exists is for operators to learn.
            require_role(self.identify(actor, workflow=None, now=now), PlatformRole.OPERATOR, what=what)
            raise
        case = self.case(entry.case_id)
        who = self.identify(actor, workflow=case.workflow, now=now)
        require_role(who, PlatformRole.OPERATOR, what=what)
        if entry.status is not OutboxStatus.DEAD:
            raise NotDeadLettered(entry_id, str(entry.status))
        step = self.running(case.workflow, case.definition_version).definition.automated_step(entry.state) \
            if entry.kind is OutboxKind.STEP else None
        with self.store.transaction() as tx:
            if not tx.requeue_outbox(entry_id, at=now):
                raise NotDeadLettered(entry_id, "no longer dead")
            if step is not None and case.state != entry.state and case.state == step.on_exhausted:
                moved = self._moved(case, entry.state, actor=who, now=now, data=case.data)
                self._write_move(tx, case, moved, actor=who, role=who.role, now=now, data=None,
                                 activity=f"replay {entry.action}", automate=False,
                                 detail={"outbox_id": entry.id}, how=Exit.REPLAY)
            self._audit(tx, AuditEntry(AuditAction.OUTBOX_REPLAYED, actor=who.id, role=who.role, at=now,
                                       case_id=case.id, workflow=case.workflow, version=case.definition_version,
                                       detail={"outbox_id": entry.id, "action": entry.action,
                                               "idempotency_key": entry.idempotency_key, **who.on_behalf()}))
        return self.outbox_entry(entry_id)

    # --- inside: what the worker calls ---

    def _automate(self: Engine, tx: StoreTransaction, definition: Definition, case: Case, *, now: datetime) -> None:
        """Write the work of a case entering an automated state: its outbox entry, or a task in manual mode."""
        step = definition.automated_step(case.state)
        if step is None or definition.state(case.state).kind is not StateKind.AUTOMATED:
            return
        if self._manual_mode(tx, case.workflow):
            tx.insert_task(self._manual_task(definition, case, action=step.action, now=now))
            return
        tx.insert_outbox(NewOutboxEntry(
            case_id=case.id, workflow=case.workflow, state=case.state, action=step.action,
            idempotency_key=step_key(case.workflow, case.id, case.state, case.version),
            max_attempts=step.retry.attempts, created_at=now))

    @staticmethod
    def _manual_task(definition: Definition, case: Case, *, action: str, now: datetime) -> NewTask:
        fallback = definition.fallback
        queue = (fallback.queue if fallback and fallback.queue else None) or definition.queue_of(case.state) \
            or case.queue
        assignment = Assignment(queue=queue, role=_role_of_queue(definition, queue))
        return NewTask(case.id, case.workflow, case.state, case.version, TaskKind.WORK, assignment, case.priority,
                       now, reason=f"manual fallback: {action}")

    def _step_succeeded(self: Engine, entry: OutboxEntry, result: Mapping[str, Any] | None, *,
                        now: datetime, by: str) -> Case:
        """Mark the entry done and move the case on by the step's way out, in one transaction.

        `by` is the worker's account (a principal holding the worker role): the move is recorded as theirs.

        Raises:
            StepLeaseLost: another worker holds the entry now (nothing is written).
            TransitionNotAllowed, ContractViolation, StaleVersion: the case cannot move on.
        """
        case = self.case(entry.case_id)
        with self.store.transaction() as tx:
            if not tx.finish_outbox(entry, status=OutboxStatus.DONE, at=now):
                raise StepLeaseLost(entry.id)
            if case.state != entry.state:
                return case  # moved on by a person meanwhile: the effect is done, the case is theirs
            return self._move_on(tx, entry, case, result or {}, now=now, by=by)

    def _move_on(self: Engine, tx: StoreTransaction, entry: OutboxEntry, case: Case, result: Mapping[str, Any],
                 *, now: datetime, by: str = WORKER_ID, extra: Mapping[str, Any] | None = None) -> Case:
        definition = self.running(case.workflow, case.definition_version).definition
        ways_out = definition.allowed_transitions(case.state)
        # The system acts for the step: it holds whatever roles the step's ways out name.
        system = Actor(by, roles=tuple(dict.fromkeys(r for t in ways_out for r in t.roles)))
        reasons = []
        for target in dict.fromkeys(t.to for t in ways_out):
            decision, merged = self._decide(case, target, actor=system, now=now, data=result, result=result)
            if decision:
                # What the action returned joins the case data: it must keep the inputs, as a person's
                # data must; otherwise the step is parked for people, its effect done.
                violations = self.running(case.workflow, case.definition_version).violations(merged)
                if violations:
                    raise ContractViolation(case.workflow, violations)
                moved = self._moved(case, target, actor=system, now=now, data=merged)
                return self._write_move(tx, case, moved, actor=system, role=decision.role, now=now, data=result,
                                        activity=decision.transition or target, transition=decision.transition,
                                        detail={"outbox_id": entry.id, "attempt": entry.attempts, **(extra or {})},
                                        how=Exit.STEP)
            reasons.append(decision.reason or "")
        raise TransitionNotAllowed(case_id=case.id, state=case.state, to="the step's way out",
                                   reason="; ".join(reasons) or f"{case.state!r} has no way out")

    def _step_raised(self: Engine, entry: OutboxEntry, reason: str, *, note: str | None, now: datetime,
                     by: str) -> Case:
        """Mark the entry done and raise the exception the action found, in one transaction.

        Raises:
            StepLeaseLost: another worker holds the entry now (nothing is written).
            UnknownExceptionReason, ExceptionNotAllowed: the taxonomy has no such reason for this state.
        """
        case = self.case(entry.case_id)
        definition = self.running(case.workflow, case.definition_version).definition
        self._check_raisable(definition, case, reason)
        with self.store.transaction() as tx:
            if not tx.finish_outbox(entry, status=OutboxStatus.DONE, at=now, error=f"raised {reason}"):
                raise StepLeaseLost(entry.id)
            if case.state != entry.state:
                return case  # moved on by a person meanwhile: the case is theirs
            return self._raise_in(tx, case, reason, actor=Actor(by), now=now, note=note,
                                  detail={"outbox_id": entry.id, "action": entry.action})

    def _step_failed(self: Engine, entry: OutboxEntry, error: str, *, now: datetime, by: str,
                     retry_at: datetime | None, maybe_delivered: bool = False) -> OutboxEntry:
        """Schedule the entry's next attempt at `retry_at`, or (None) mark it dead and move the case to on_exhausted.

        `maybe_delivered` remembers, for the attempts to come, that this one may have reached the
        other system: when they run out, the step is then in doubt rather than dead.

        Raises:
            StepLeaseLost: another worker holds the entry now (nothing is written).
        """
        with self.store.transaction() as tx:
            if retry_at is not None:
                if not tx.finish_outbox(entry, status=OutboxStatus.PENDING, at=now, error=error,
                                        next_attempt_at=retry_at,
                                        payload={MAYBE_DELIVERED: True} if maybe_delivered else None):
                    raise StepLeaseLost(entry.id)
                return entry
            if not tx.finish_outbox(entry, status=OutboxStatus.DEAD, at=now, error=error):
                raise StepLeaseLost(entry.id)
            case = self.case(entry.case_id)
            step = self.running(case.workflow, case.definition_version).definition.automated_step(entry.state)
            if case.state == entry.state and step is not None and step.on_exhausted:
                system = Actor(by)
                moved = self._moved(case, step.on_exhausted, actor=system, now=now, data=case.data)
                self._write_move(tx, case, moved, actor=system, role=None, now=now, data=None,
                                 activity=f"{entry.action} failed", reason=EXHAUSTED,
                                 detail={"outbox_id": entry.id, "attempts": entry.attempts, "error": error[:500]},
                                 how=Exit.STEP)
        return entry

    def _to_manual_twin(self: Engine, tx: StoreTransaction, entry: OutboxEntry, case: Case, definition: Definition,
                        step: AutomatedStep | None, *, actor: Actor, now: datetime) -> Case:
        """Hand a step that did not happen to people: its on_exhausted state, else a fallback task in its state."""
        if step is not None and step.on_exhausted:
            moved = self._moved(case, step.on_exhausted, actor=actor, now=now, data=case.data)
            return self._write_move(tx, case, moved, actor=actor, role=actor.role, now=now, data=None,
                                    activity=f"{entry.action} by hand", detail={"outbox_id": entry.id},
                                    how=Exit.STEP)
        tx.insert_task(self._manual_task(definition, case, action=entry.action, now=now))
        return case

    def _step_to_people(self: Engine, entry: OutboxEntry, *, now: datetime, by: str) -> None:
        """Hand a claimed entry to people (the workflow went manual): mark it so and open the fallback task."""
        case = self.case(entry.case_id)
        definition = self.running(case.workflow, case.definition_version).definition
        with self.store.transaction() as tx:
            if not tx.finish_outbox(entry, status=OutboxStatus.MANUAL, at=now, error="workflow in manual mode"):
                raise StepLeaseLost(entry.id)
            if case.state == entry.state:
                tx.insert_task(self._manual_task(definition, case, action=entry.action, now=now))
                self._audit(tx, AuditEntry(AuditAction.STEP_TO_PEOPLE, actor=by, at=now, case_id=case.id,
                                           workflow=case.workflow, version=case.definition_version,
                                           detail={"outbox_id": entry.id, "action": entry.action}))

    def _step_skipped(self: Engine, entry: OutboxEntry, *, now: datetime, why: str) -> None:
        with self.store.transaction() as tx:
            if not tx.finish_outbox(entry, status=OutboxStatus.DONE, at=now, error=why):
                raise StepLeaseLost(entry.id)

    def _step_refused(self: Engine, entry: OutboxEntry, *, now: datetime, why: str) -> None:
        """Park an entry that is not the step its case's definition names (edited or added outside the engine): dead,
        with why, the case left where it is; nothing was called. A replay finds it refused again.

        Raises:
            StepLeaseLost: another worker holds the entry now (nothing is written).
        """
        with self.store.transaction() as tx:
            if not tx.finish_outbox(entry, status=OutboxStatus.DEAD, at=now, error=why):
                raise StepLeaseLost(entry.id)
