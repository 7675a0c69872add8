"""Exceptions: raised with a reason code where the taxonomy allows, routed to the resolver, resolved per the taxonomy.

Mixed into `Engine`. Raising moves the case to the reason's state (or leaves it where it is
when the reason names none) and routes one task to the resolver's queue, role or person
("needs info" names the requester, so the task goes back to whoever asked). Resolving
returns the case to `returns_to`, or ends it. The SLA clock stands still while the case
waits in a state the definition's `sla.pause_in` lists (see `sla`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from backoffice.definitions.model import Definition, ExceptionReason, StateKind
from backoffice.engine.cases import Actor, Case, utc
from backoffice.engine.controls import Exit, check_leaving
from backoffice.engine.rules import context
from backoffice.engine.sealed_rows import held_row_problem
from backoffice.engine.tasks import NewTask, TaskKind, TaskStatus, assignment_of
from backoffice.errors import (BackofficeError, CaseAltered, ContractViolation, ExceptionNotAllowed, NoOpenException,
                               NotEligibleForTask, UnknownExceptionReason)
from backoffice.limits import check_payload

if TYPE_CHECKING:
    from backoffice.engine.engine import Engine
    from backoffice.engine.ports import StoreTransaction


class ExceptionOperations:
    """The exception half of `Engine`."""

    def raise_exception(self: Engine, case_id: int, reason: str, *, actor: Actor, now: datetime,
                        note: str | None = None) -> Case:
        """Raise an exception on a case; return the case in the exception's state.

        Raises:
            UnknownExceptionReason: the definition has no such reason code.
            ExceptionNotAllowed: the case is not in a state the reason's raised_in names (or has ended).
        """
        now = utc(now)
        case = self.case(case_id)
        actor = self.identify(actor, workflow=case.workflow, now=now)
        definition = self.running(case.workflow, case.definition_version).definition
        self._check_raisable(definition, case, reason)
        self._check_takes_part(definition, case, actor, what=f"raise {reason!r} on case {case.id} in {case.state!r}")
        with self.store.transaction() as tx:
            return self._raise_in(tx, case, reason, actor=actor, now=now, note=note)

    @staticmethod
    def _check_raisable(definition: Definition, case: Case, reason: str) -> None:
        """Refuse a reason the taxonomy lacks, or one it does not allow in the case's state.

        Raises:
            UnknownExceptionReason, ExceptionNotAllowed.
        """
        spec = definition.exceptions.get(reason)
        if spec is None:
            raise UnknownExceptionReason(reason, list(definition.exceptions))
        allowed = spec.raised_in or [s for s, state in definition.states.items() if not state.kind.is_end]
        if case.state not in allowed or definition.state(case.state).kind.is_end:
            raise ExceptionNotAllowed(case.id, reason, case.state, allowed)

    def _raise_in(self: Engine, tx: StoreTransaction, case: Case, reason: str, *, actor: Actor, now: datetime,
                  note: str | None = None, detail: Mapping[str, Any] | None = None) -> Case:
        """Raise an exception in `tx` (its row, the move to its state, the resolver's task); return the case."""
        definition = self.running(case.workflow, case.definition_version).definition
        spec = definition.exceptions[reason]
        target = spec.state or case.state
        if target == case.state:
            # The case waits where it is, so its resolution is the move out: refused now, not once
            # someone has spent the effort of resolving it.
            check_leaving(definition, case, _resolution_target(definition, spec), how=Exit.EXCEPTION, actor=actor,
                          variables=context(data=case.data, case=case.expression_fields(), actor=actor, now=now))
        moved = self._moved(case, target, actor=actor, now=now, data=case.data)
        assignment = assignment_of(definition, spec.resolver, moved) if spec.resolver else None

        def plan(due: datetime | None) -> list[NewTask]:
            if assignment is None:
                return []
            return [NewTask(case.id, case.workflow, target, case.version + 1, TaskKind.EXCEPTION, assignment,
                            moved.priority, now, due, reason=reason)]

        raised = tx.insert_exception(case.id, reason, raised_in=case.state, note=note, by=actor.id, at=now)
        if definition.automated_step(case.state) is not None:
            # An open exception holds the case: its step waits for the resolution, which brings its own.
            tx.close_pending_steps(case.id, case.state, at=now, why=f"exception {reason} raised before the step ran")
        return self._write_move(tx, case, moved, actor=actor, role=actor.role, now=now, data=None,
                                activity=f"raise {reason}", reason=reason, plan=plan, automate=False,
                                detail={"exception_id": raised.id, **({"note": note} if note else {}),
                                        **(detail or {})}, how=Exit.EXCEPTION)

    def resolution_refusal(self: Engine, case_id: int, *, actor: Actor | str, now: datetime) -> BackofficeError | None:
        """Return why resolving the case's open exception would be refused to the actor now, or None.

        Runs the checks `resolve_exception` runs before it moves the case (the actor as the
        directory knows them, an open exception, its resolver), so a page offers the resolution
        only to those the core lets resolve. Nothing is written.

        Raises:
            UnknownCase: there is no such case.
        """
        now = utc(now)
        case = self.case(case_id)
        try:
            who = self.identify(actor, workflow=case.workflow, now=now)
            raised = self.store.open_exception(case.id)
            if raised is None:
                raise NoOpenException(case.id)
            definition = self.running(case.workflow, case.definition_version).definition
            self._check_resolver(definition, case, definition.exceptions[raised.reason], who)
        except BackofficeError as refused:
            return refused
        return None

    def _check_resolver(self: Engine, definition: Definition, case: Case, spec: ExceptionReason, actor: Actor) -> None:
        """Refuse anyone but the exception's resolver (whoever may take the resolver's task).

        Every reason names its resolver (the loader refuses one that does not).

        Raises:
            NotEligibleForTask: the actor may not take the resolver's task.
        """
        if spec.resolver is None:
            return
        resolver_task = next(iter(self.store.tasks(case_id=case.id, kind=str(TaskKind.EXCEPTION))), None)
        if resolver_task is not None and not resolver_task.may_be_taken_by(actor):
            assignment = assignment_of(definition, spec.resolver, case)
            raise NotEligibleForTask(resolver_task.id, actor.id, assignment.describe())

    def resolve_exception(self: Engine, case_id: int, *, actor: Actor, now: datetime, note: str | None = None,
                          data: Mapping[str, Any] | None = None) -> Case:
        """Resolve the case's open exception: back to the state the taxonomy says, or to its end.

        `data` adds to or replaces fields of the case data, as with a transition: what "needs
        info" asked for, supplied by whoever resolves it. The result must still pass the inputs,
        and the fields fixed after intake stay fixed (see `rerouting`).

        Raises:
            NoOpenException: the case has no open exception.
            NotEligibleForTask: the actor is not the exception's resolver.
            ContractViolation: the data after the resolution breaks the inputs.
        """
        now = utc(now)
        case = self.case(case_id)
        actor = self.identify(actor, workflow=case.workflow, now=now)
        raised = self.store.open_exception(case.id)
        if raised is None:
            raise NoOpenException(case.id)
        # The exception's row held to its record before anything is decided by it: its reason (where resolving
        # sends the case) edited in SQL, or a row inserted there, would move the case where no raise could.
        seal, records = self.store.exception_as_written(case.id, raised.id)
        problem = None if seal is None else held_row_problem(seal, records, sealer=self.audit_key,
                                                             legacy_marks=self.store.legacy_row_marks)
        if problem is not None:
            raise CaseAltered(case.id, f"has an open exception whose row (case_exceptions {raised.id}) {problem}")
        definition = self.running(case.workflow, case.definition_version).definition
        spec = definition.exceptions[raised.reason]
        self._check_resolver(definition, case, spec, actor)
        target = _resolution_target(definition, spec)
        merged = dict(case.data)
        if data:
            merged.update(check_payload(data, what="the data"))
            violations = self.running(case.workflow, case.definition_version).violations(merged)
            if violations:
                raise ContractViolation(case.workflow, violations)
        moved = self._moved(case, target, actor=actor, now=now, data=merged)
        with self.store.transaction() as tx:
            if not tx.resolve_exception(raised.id, resolution=target, by=actor.id, at=now):
                raise NoOpenException(case.id)
            return self._write_move(tx, case, moved, actor=actor, role=actor.role, now=now, data=data or None,
                                    activity=f"resolve {raised.reason}", reason=raised.reason,
                                    detail={"exception_id": raised.id, **({"note": note} if note else {})},
                                    how=Exit.RESOLUTION)


def _resolution_target(definition: Definition, spec: ExceptionReason) -> str:
    """Return where resolving an exception sends the case: returns_to, or the end it names (else cancelled)."""
    if spec.returns_to is not None:
        return spec.returns_to
    if isinstance(spec.ends, str):
        return spec.ends
    return next(s for s, state in definition.states.items() if state.kind is StateKind.CANCELLED)
