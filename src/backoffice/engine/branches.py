"""Parallel work inside a case: branches that join, checklists, and sub-cases.

Mixed into `Engine`. A case entering a parallel state opens one child case per branch (on the
same definition version, started in the branch's first state); a checklist opens one per item;
a sub-case step starts a case of another workflow (its data passed by the step's mapping). The
child is a case like any other: its tasks, queue, role, timers, exceptions and approvals (with
their separation of duties and quorum) pass the same gate, because every move of it passes
`Engine._write_move`. Meanwhile the case waits in the opening state (`cases.state` names it),
and `case_branches` records what it waits for.

A branch ends when it moves back to its parallel state (the join), or when it reaches an end
state of its own (rejected, cancelled: it ended without its work done). The join runs in the
transaction of the branch's last move, with the parent case locked: so two branches finishing
at once join exactly once, and nothing else moves the parent out of its parallel state.

- all: every required branch done (a checklist: every required item); optional branches still
  open are cancelled.
- first: the first branch done; the others are cancelled, their open tasks closed with the reason.
- N: N branches done; the others cancelled.

Then the case moves on by the first transition out of the parallel state whose guard holds,
with the data the branches changed merged into its own (in the order they finished). When the
join can no longer be met (a required branch ended, or too few branches are left), the open
branches are cancelled and the case goes to the end state the failing branch reached.

A sub-case ends in any end state: its end state (into `outcome:`, when named) and the fields of
`returns:` come back to the parent, which moves on by the first transition whose guard holds.

Each child's rows are bound to the audit record of its own chain, and the branch rows to the
parent's, so `audit verify` holds every one of them.

Branches nest: a branch entering (or starting in) a parallel state opens branches of its own,
and a branch cancelled cancels its open ones in turn. A branch's move locks every case above it,
outermost first, as a join takes them. The SLA clock of a case waiting for its branches stands
still while every open branch's does (see `sla`), settled here whenever a branch's clock changes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from backoffice.definitions.model import BRANCH_CANCELLED, Definition, Priority, StateKind
from backoffice.engine.audit import AuditAction, AuditEntry
from backoffice.engine.branches_model import BranchKind, BranchStatus, CaseBranch, NewBranch
from backoffice.engine.sealed_rows import BRANCHES_TABLE, row_problem
from backoffice.engine.cases import Actor, Case
from backoffice.engine.controls import Exit
from backoffice.engine.events import EngineEvent, change_attributes
from backoffice.engine.ports import NewCase, StoreTransaction
from backoffice.engine.rules import Routing, context, route
from backoffice.engine.sla import PausedTime, calendar_of, resumed, stopped
from backoffice.engine.tasks import TaskStatus, work_on_entering
from backoffice.engine.timers import TimerClock, sla_timer_due, timers_on_start
from backoffice.errors import BranchesOpen, CaseAltered, ContractViolation, ExpressionFailed, TransitionNotAllowed

if TYPE_CHECKING:
    from backoffice.engine.engine import Engine

JOIN_ACTIVITY = "join"


class BranchOperations:
    """The parallel-work half of `Engine`: open branches, close them, join."""

    def branches(self: Engine, case_id: int) -> Sequence[CaseBranch]:
        """Return the branches and sub-cases a case opened (open and closed), in the order opened.

        Raises:
            UnknownCase: there is no such case.
        """
        self.case(case_id)
        return self.store.case_branches(case_id)

    def lineage_events(self: Engine, case: Case) -> list[EngineEvent]:
        """Return the events of a case and of the cases it is a branch of (oldest first): its whole story."""
        found: list[EngineEvent] = []
        current: Case | None = case
        while current is not None:
            found = list(self.store.events(current.id)) + found
            if current.parent_id is None or current.branch is None:
                break
            current = self.store.case(current.parent_id)
        return found

    # --- inside: called by Engine._write_move, in the move's transaction ---

    def _lock_checked(self: Engine, tx: StoreTransaction, case_id: int) -> Case:
        """Lock a case another case's move acts on (a parent joined, a branch cancelled, a child's data merged),
        then read it held to the audit record that last wrote it (`Engine.case`), as a case acted on directly is.

        Read after the lock, in a statement of its own: it sees the record of whoever held the lock before.
        On the branch paths only (a join, a cancel, a clock), never on a plain move.

        Raises:
            CaseAltered: the case's row was changed in the database outside the engine.
        """
        tx.lock_case(case_id)
        return self.case(case_id)

    def _refuse_branch_moves(self: Engine, tx: StoreTransaction, definition: Definition, case: Case, to: str, *,
                             how: Exit) -> None:
        """Refuse a move of a case waiting for its branches (but by its join), or of a branch already finished."""
        if how is Exit.JOIN or to == case.state:
            return
        if case.parent_id is not None and case.branch is not None and case.state == case.parent_state:
            raise TransitionNotAllowed(case_id=case.id, state=case.state, to=to,
                                       reason=f"branch {case.branch!r} of case {case.parent_id} is finished; its "
                                              f"case moves on from {case.state!r} when its branches join")
        state = definition.states.get(case.state)
        if state is None or not state.kind.opens_branches:
            return
        target = definition.states.get(to)
        if how in (Exit.EXCEPTION, Exit.RESOLUTION) and target is not None and target.kind.is_end:
            return  # the whole case ends (cancelled): its open branches are cancelled with it
        waiting = tx.open_branches_of(case.id)
        raise BranchesOpen(case.id, case.state, to, [row.branch for row in waiting], _join_words(state))

    def _lock_lineage(self: Engine, tx: StoreTransaction, case: Case) -> None:
        """Lock the cases a branch belongs to, outermost first, before the branch moves.

        A join locks its case and then the branches it cancels (and theirs); a branch's move may
        close, join or stop the clock of every case above it. Taking them all top-down, as the
        join does, makes two moves in one family wait for each other instead of deadlocking.
        """
        above: list[int] = []
        parent_id = case.parent_id
        while parent_id is not None:
            above.append(parent_id)
            row = tx.branch_of_child_now(parent_id)  # read, not locked: which case it belongs to never changes
            parent_id = row.case_id if row is not None else None
        for ancestor in reversed(above):
            tx.lock_case(ancestor)

    def _after_move(self: Engine, tx: StoreTransaction, definition: Definition, before: Case, after: Case, *,
                    actor: Actor, now: datetime) -> None:
        """Open the work of a state entered, or close a branch whose child finished: after the move is audited."""
        if before.state == after.state:
            return
        if after.parent_id is not None and after.branch is not None and after.state == after.parent_state:
            self._close_child(tx, after, actor=actor, now=now, finished=True)  # back at its join: the branch is done
            return
        entered = definition.states[after.state]
        if entered.kind.opens_branches:
            self._open_branches(tx, definition, after, actor=actor, now=now)
        elif entered.kind.is_end and definition.states[before.state].kind.opens_branches:
            for row in tx.open_branches_of(after.id):
                self._cancel_branch(tx, after, row, actor=actor, now=now,
                                    why=f"case {after.id} ended in {after.state!r}")
        if after.parent_id is not None and entered.kind.is_end:
            self._close_child(tx, after, actor=actor, now=now, finished=False)
        elif after.parent_id is not None and (entered.kind.opens_branches or definition.pauses_sla(before.state)
                                              != definition.pauses_sla(after.state)):
            # The branch's clock stopped or runs again: so may its case's (which waits for it).
            self._settle_waiting_clock(tx, after.parent_id, actor=actor, now=now)

    def _open_branches(self: Engine, tx: StoreTransaction, definition: Definition, case: Case, *, actor: Actor,
                       now: datetime) -> None:
        state = definition.states[case.state]
        opened: list[NewBranch] = []
        if state.kind is StateKind.SUBCASE:
            child = self._start_subcase(tx, definition, case, actor=actor, now=now)
            opened.append(NewBranch(case.id, case.state, case.version, state.workflow or "", BranchKind.SUBCASE,
                                    child.id, True, now))
        else:
            calendar = calendar_of(definition)
            for name, spec in state.branch_specs().items():
                due = calendar.due(now, spec.sla) if spec.sla is not None else definition.sla_due(case.created_at)
                child = self._start_branch(tx, definition, case, name, spec.start, actor=actor, now=now, due=due)
                opened.append(NewBranch(case.id, case.state, case.version, name, BranchKind.BRANCH, child.id,
                                        spec.required, now, due))
        for branch in opened:
            tx.insert_branch(branch)
        self._audit(tx, AuditEntry(AuditAction.BRANCHES_OPENED, actor=actor.id, role=actor.role, at=now,
                                   case_id=case.id, workflow=case.workflow, version=case.definition_version,
                                   detail={"state": case.state, "round": case.version,
                                           "branches": {b.branch: b.child_id for b in opened},
                                           **actor.on_behalf()}))
        self._settle_waiting_clock(tx, case.id, actor=actor, now=now)  # every branch may start by waiting

    def _start_branch(self: Engine, tx: StoreTransaction, definition: Definition, parent: Case, name: str,
                      start: str, *, actor: Actor, now: datetime, due: datetime | None) -> Case:
        path = f"{parent.branch}/{name}" if parent.branch else name
        variables = context(data=parent.data, case={**parent.expression_fields(), "state": start}, actor=actor,
                            now=now)
        routing = route(definition, entering=start, variables=variables,
                        current=Routing(queue=parent.queue, owner=parent.owner, priority=parent.priority))
        child = tx.insert_case(NewCase(
            workflow=parent.workflow, definition_version=parent.definition_version, state=start,
            data=dict(parent.data), requester=parent.requester, created_at=now, priority=routing.priority,
            queue=routing.queue, owner=routing.owner, parent_id=parent.id, parent_state=parent.state, branch=path))
        event = tx.insert_event(EngineEvent(
            case_id=child.id, activity=start, timestamp=now, workflow=child.workflow,
            version=child.definition_version, resource=actor.id, role=actor.role, branch=path,
            attributes={**change_attributes(from_state=parent.state, to_state=start, case_version=child.version,
                                            queue=child.queue, priority=str(child.priority), owner=child.owner,
                                            changed={}), "parent_id": parent.id, **actor.on_behalf()}))
        self._enter(tx, replace(child, state=parent.state), child, actor=actor, now=now,
                    plan=lambda _: work_on_entering(definition, child, now=now, due_at=due))
        self._audit(tx, AuditEntry(AuditAction.CASE_STARTED, actor=actor.id, role=actor.role, at=now,
                                   case_id=child.id, workflow=child.workflow, version=child.definition_version,
                                   detail={"event_id": event.id, "state": start, "parent_id": parent.id,
                                           "parent_state": parent.state, "branch": path, "queue": child.queue,
                                           "priority": str(child.priority), "owner": child.owner,
                                           **actor.on_behalf()}))
        if definition.states[start].kind.opens_branches:
            self._open_branches(tx, definition, child, actor=actor, now=now)  # a branch that splits again at once
        return child

    def _start_subcase(self: Engine, tx: StoreTransaction, definition: Definition, parent: Case, *, actor: Actor,
                       now: datetime) -> Case:
        step = definition.states[parent.state]
        running = self.running(step.workflow or "")
        data = {target: _field(parent.data, source) for target, source in (step.pass_data or {}).items()
                if _field(parent.data, source) is not None}
        violations = running.violations(data)
        if violations:
            raise ContractViolation(running.definition.id, violations)
        sub = running.definition
        variables = context(data=data, case={"state": sub.intake_state, "workflow": sub.id}, actor=actor, now=now)
        routing = route(sub, entering=None, variables=variables,
                        current=Routing(queue=None, owner=None, priority=Priority.NORMAL))
        child = tx.insert_case(NewCase(
            workflow=sub.id, definition_version=sub.version, state=sub.intake_state, data=data,
            requester=parent.requester, created_at=now, priority=routing.priority, queue=routing.queue,
            owner=routing.owner, parent_id=parent.id, parent_state=parent.state))
        for timer in timers_on_start(sub, child, paused=PausedTime(), now=now):
            tx.insert_timer(timer)
        event = tx.insert_event(EngineEvent(
            case_id=child.id, activity=child.state, timestamp=now, workflow=child.workflow,
            version=child.definition_version, resource=actor.id, role=actor.role,
            attributes={**change_attributes(from_state=None, to_state=child.state, case_version=child.version,
                                            queue=child.queue, priority=str(child.priority), owner=child.owner,
                                            changed={}), "parent_id": parent.id, **actor.on_behalf()}))
        self._audit(tx, AuditEntry(AuditAction.CASE_STARTED, actor=actor.id, role=actor.role, at=now,
                                   case_id=child.id, workflow=child.workflow, version=child.definition_version,
                                   detail={"event_id": event.id, "state": child.state, "data": data,
                                           "parent_id": parent.id, "parent_state": parent.state,
                                           "queue": child.queue, "priority": str(child.priority),
                                           "owner": child.owner, **actor.on_behalf()}))
        return child

    def _close_child(self: Engine, tx: StoreTransaction, child: Case, *, actor: Actor, now: datetime,
                     finished: bool) -> None:
        # The parent first: whoever holds its lock joins, the other waits and then sees both branches closed.
        parent = self._lock_checked(tx, child.parent_id or 0)
        row = tx.branch_of_child_now(child.id)
        if row is None or row.status is not BranchStatus.OPEN:
            return  # cancelled by a join or by its case ending: this move was the cancellation itself
        status = BranchStatus.DONE if finished or row.kind is BranchKind.SUBCASE else BranchStatus.ENDED
        tx.close_branch(row.id, status=status, at=now, outcome=child.state)
        self._join(tx, parent, replace(row, status=status, outcome=child.state), child, actor=actor, now=now)

    def _join(self: Engine, tx: StoreTransaction, parent: Case, closed: CaseBranch, child: Case, *, actor: Actor,
              now: datetime) -> None:
        definition = self.running(parent.workflow, parent.definition_version).definition
        if parent.state != closed.state:
            self._branch_audit(tx, parent, closed, actor=actor, now=now, joined=False)
            return
        state = definition.states[parent.state]
        rows = self._branches_checked(tx, parent, closed.round)
        done = [row for row in rows if row.status is BranchStatus.DONE]
        still_open = [row for row in rows if row.status is BranchStatus.OPEN]
        needed = state.branches_needed()
        if closed.kind is BranchKind.SUBCASE:
            ready, failed = True, False
        elif needed is None:
            required = [row for row in rows if row.required]
            failed = any(row.status is BranchStatus.ENDED for row in required)
            ready = not failed and all(row.status is BranchStatus.DONE for row in required)
        else:
            ready = len(done) >= needed
            failed = not ready and len(done) + len(still_open) < needed
        if not ready and not failed:
            self._branch_audit(tx, parent, closed, actor=actor, now=now, joined=False)
            self._settle_waiting_clock(tx, parent.id, actor=actor, now=now)  # those left open may all wait
            return
        why = (f"the join of {parent.state!r} ({_join_words(state)}) was met when {closed.branch!r} finished"
               if ready else f"branch {closed.branch!r} ended in {closed.outcome!r}, so the join of "
                             f"{parent.state!r} ({_join_words(state)}) can no longer be met")
        self._branch_audit(tx, parent, closed, actor=actor, now=now, joined=True)
        for row in still_open:
            self._cancel_branch(tx, parent, row, actor=actor, now=now, why=why)
        self._run_clock(tx, definition, parent, actor=actor, now=now, why=f"the branches of {parent.state!r} joined")
        if failed:
            to, data, transition = closed.outcome or "", dict(parent.data), None
        else:
            data = self._joined_data(tx, definition, parent, done, child)
            to, transition = self._way_on(definition, parent, data, actor=actor, now=now)
        moved = self._moved(parent, to, actor=actor, now=now, data=data)
        changed = {key: value for key, value in data.items() if parent.data.get(key) != value}
        self._write_move(tx, parent, moved, actor=actor, role=None, now=now, data=changed,
                         activity=transition or JOIN_ACTIVITY, transition=transition, how=Exit.JOIN,
                         detail={"joined": [row.branch for row in done], "cancelled": [r.branch for r in still_open],
                                 **({"failed_branch": closed.branch} if failed else {})})

    def _branches_checked(self: Engine, tx: StoreTransaction, parent: Case, round: int) -> list[CaseBranch]:
        """Return the branches a join decides by, each held to the audit record that last wrote it.

        A branch marked done (or cancelled) by hand in the database would let the join pass without
        it: refused, as an edited case is. The row this join just closed is the engine's own write.

        Raises:
            CaseAltered: a branch row is not as the record that last wrote it lists it.
        """
        rows, records = tx.branches_as_written(parent.id, parent.state, round)
        marks: dict[str, int] | None = None
        for row, seal in rows:
            if seal is None:
                continue
            if marks is None and not any(record.bound_rows() for record in records):
                marks = self.store.legacy_row_marks()
            problem = row_problem(seal, BRANCHES_TABLE, row.id, records, sealer=self.audit_key,
                                  legacy_mark=(marks or {}).get(BRANCHES_TABLE, 0))
            if problem is not None:
                raise CaseAltered(parent.id, f"has a branch {row.branch!r} whose row (case_branches {row.id}) {problem}")
        return [row for row, _ in rows]

    def _branch_audit(self: Engine, tx: StoreTransaction, parent: Case, closed: CaseBranch, *, actor: Actor,
                      now: datetime, joined: bool) -> None:
        self._audit(tx, AuditEntry(AuditAction.BRANCH_CLOSED, actor=actor.id, role=actor.role, at=now,
                                   case_id=parent.id, workflow=parent.workflow, version=parent.definition_version,
                                   detail={"state": closed.state, "branch": closed.branch, "case": closed.child_id,
                                           "status": str(closed.status), "outcome": closed.outcome,
                                           "joins": joined, **actor.on_behalf()}))

    def _joined_data(self: Engine, tx: StoreTransaction, definition: Definition, parent: Case,
                     done: Sequence[CaseBranch], last: Case) -> dict[str, Any]:
        """Return the parent's data with what its finished branches changed (or what its sub-case returns)."""
        data = dict(parent.data)
        state = definition.states[parent.state]
        for row in sorted(done, key=lambda r: (r.closed_at or r.opened_at, r.id)):
            child = last if row.child_id == last.id else self._lock_checked(tx, row.child_id)
            if row.kind is BranchKind.SUBCASE:
                for target, source in (state.returns or {}).items():
                    value = _field(child.data, source)
                    if value is not None:
                        data[target] = value
                if state.outcome:
                    data[state.outcome] = child.state
            else:
                data.update({key: value for key, value in child.data.items() if parent.data.get(key) != value})
        return data

    def _way_on(self: Engine, definition: Definition, parent: Case, data: Mapping[str, Any], *, actor: Actor,
                now: datetime) -> tuple[str, str | None]:
        variables = context(data=data, case=parent.expression_fields(), actor=actor, now=now)
        refused = []
        for transition in definition.allowed_transitions(parent.state):
            try:
                if transition.guard is None or transition.guard.test(variables):
                    return transition.to, transition.name
            except ExpressionFailed as exc:
                refused.append(f"{transition.label!r}: {exc.reason}")
                continue
            refused.append(f"{transition.label!r}: its guard is false")
        raise TransitionNotAllowed(case_id=parent.id, state=parent.state, to="(the way on after the join)",
                                   reason="no transition out of it holds: " + "; ".join(refused))

    def _settle_waiting_clock(self: Engine, tx: StoreTransaction, case_id: int, *, actor: Actor,
                              now: datetime) -> None:
        """Stop or run the SLA clock of a case waiting for its branches, as its open branches' clocks stand.

        The rule (see `sla`): the waiting case's clock stands still while every branch still open
        stands still, and runs while any one of them runs. A stop or a restart is audited on the
        waiting case with the branches that decided it, its SLA timers are moved, and the change
        is passed up to the case it is itself a branch of.
        """
        case = self._lock_checked(tx, case_id)
        definition = self.running(case.workflow, case.definition_version).definition
        if definition.sla is None or not definition.states[case.state].kind.opens_branches \
                or definition.pauses_sla(case.state):
            return  # no clock to stop, not waiting for branches, or stopped by its own state already
        rows = tx.open_branches_of(case.id)
        if not rows:
            return  # the branches joined: the move on runs the clock again
        stands = {row.branch: self._paused_held(tx, row.child_id).since is not None for row in rows}
        paused = self._paused_held(tx, case.id)
        if all(stands.values()) == (paused.since is not None):
            return
        if all(stands.values()):
            waiting = {row.branch: self._lock_checked(tx, row.child_id).state for row in rows}
            why = "every open branch waits: " + ", ".join(f"{name} in {state!r}" for name, state in waiting.items())
            self._set_clock(tx, definition, case, stopped(paused, now=now), actor=actor, now=now, why=why,
                            branches=waiting)
        else:
            running = [name for name, stood in stands.items() if not stood]
            self._set_clock(tx, definition, case, resumed(definition, paused, now=now), actor=actor, now=now,
                            why=f"branch {running[0]} is worked on again", branches={name: None for name in running})
        if case.parent_id is not None:
            self._settle_waiting_clock(tx, case.parent_id, actor=actor, now=now)

    def _run_clock(self: Engine, tx: StoreTransaction, definition: Definition, case: Case, *, actor: Actor,
                   now: datetime, why: str) -> None:
        """Run again the clock of a case its branches had stopped (they joined, or the case ends)."""
        if definition.sla is None or definition.pauses_sla(case.state):
            return
        paused = self._paused_held(tx, case.id)
        if paused.since is not None:
            self._set_clock(tx, definition, case, resumed(definition, paused, now=now), actor=actor, now=now,
                            why=why, branches={})

    def _set_clock(self: Engine, tx: StoreTransaction, definition: Definition, case: Case, clock: PausedTime, *,
                   actor: Actor, now: datetime, why: str, branches: Mapping[str, str | None]) -> None:
        tx.set_paused_time(case.id, clock)
        for timer in tx.pending_timers(case.id):
            if timer.clock is not TimerClock.STATE:
                tx.set_timer_due(timer.id, sla_timer_due(definition, definition.timers[timer.timer], case, clock))
        self._audit(tx, AuditEntry(
            AuditAction.SLA_PAUSED if clock.since is not None else AuditAction.SLA_RESUMED, actor=actor.id,
            role=actor.role, at=now, case_id=case.id, workflow=case.workflow, version=case.definition_version,
            detail={"state": case.state, "reason": why, "branches": dict(branches),
                    "paused_seconds": clock.seconds, **actor.on_behalf()}))

    def _cancel_branch(self: Engine, tx: StoreTransaction, parent: Case, row: CaseBranch, *, actor: Actor,
                       now: datetime, why: str) -> None:
        """Close an open branch as cancelled: its child's open tasks closed with the reason, its work stopped."""
        tx.close_branch(row.id, status=BranchStatus.CANCELLED, at=now, reason=why)
        # The branch row is the parent's, bound in its chain; the child's rows follow in the child's own.
        self._audit(tx, AuditEntry(AuditAction.BRANCH_CLOSED, actor=actor.id, role=actor.role, at=now,
                                   case_id=parent.id, workflow=parent.workflow, version=parent.definition_version,
                                   detail={"state": row.state, "branch": row.branch, "case": row.child_id,
                                           "status": str(BranchStatus.CANCELLED), "reason": why,
                                           **actor.on_behalf()}))
        child = self._lock_checked(tx, row.child_id)
        definition = self.running(child.workflow, child.definition_version).definition
        if definition.states[child.state].kind.is_end:
            return
        for nested in tx.open_branches_of(child.id) if definition.states[child.state].kind.opens_branches else ():
            # A branch waiting for branches of its own: they are cancelled with it, down to the last level.
            self._cancel_branch(tx, child, nested, actor=actor, now=now, why=why)
        tx.close_case_tasks(child.id, status=TaskStatus.CANCELLED, by=actor.id, at=now,
                            reason=f"branch {row.branch!r} cancelled: {why}")
        tx.cancel_timers(child.id, at=now)
        to = child.parent_state if row.kind is BranchKind.BRANCH else next(
            (sid for sid, s in definition.states.items() if s.kind is StateKind.CANCELLED), None)
        if to is None:
            return
        moved = self._moved(child, to, actor=actor, now=now, data=child.data)
        self._write_move(tx, child, moved, actor=actor, role=None, now=now, data=None, activity="cancel branch",
                         reason=BRANCH_CANCELLED, detail={"why": why}, how=Exit.JOIN, automate=False)


def _join_words(state: Any) -> str:
    if state.kind is StateKind.SUBCASE:
        return f"waits for its {state.workflow} sub-case"
    if state.kind is StateKind.CHECKLIST:
        return "waits for every required item"
    return {None: "all required branches", "all": "all required branches", "first": "the first branch"}.get(
        state.join, f"{state.join} branches")


def _field(data: Mapping[str, Any], path: str) -> Any:
    value: Any = data
    for part in path.removeprefix("data.").split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value
