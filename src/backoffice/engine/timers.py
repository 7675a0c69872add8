"""Reminders and escalations: the definition's `timers`, scheduled per case and fired by the worker.

A timer fires at a share of an SLA (`sla: resolution, at: 75%`) or after a business time in a
state (`state: waiting-on-supplier, after: 3d`), always on the definition's calendar:

- SLA timers are scheduled when the case starts. Their due time is the case's start plus the
  share of the SLA plus the business time the case's SLA clock stood still so far; while it
  stands still (a pause_in state) they have no due time at all, so a case waiting on its
  requester is never reminded about its own lateness. A first_response timer is over once the
  case leaves its intake state; every timer is over once the case ends.
- State timers are scheduled each time the case enters their state, and are over when it leaves.

Firing one (`TimerOperations.fire_timers`) writes, in one transaction: the timer settled, a
notification to its target through the outbox, the audit record, and for an escalation the
case raised one priority level (the case, its event, its open tasks). The settle is
conditional, so two workers never fire one timer twice.

Before it fires a timer the engine holds its row to the newest record of its case's chain that lists
it (every change that writes a timer lists it in its record: `sealed_rows.TIMER_ROWS`): a due time
moved back in SQL, a reminder made an escalation, a timer moved to another case or task, or one
inserted there, is refused (CaseAltered), nothing is written, the timer stays pending for `audit`
and a person to look at, and the tick goes on with the other timers.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from backoffice.definitions.model import Definition, Priority, SlaClock, Timer, TimerKind
from backoffice.engine.audit import AuditAction, AuditEntry
from backoffice.engine.cases import Actor, Case, utc
from backoffice.engine.events import EngineEvent, change_attributes
from backoffice.engine.sealed_rows import clock_row_problem, first_sealed_timer, timer_row_problem
from backoffice.engine.sla import PausedTime, calendar_of
from backoffice.engine.tasks import assignment_of
from backoffice.errors import CaseAltered, StaleVersion

if TYPE_CHECKING:
    from backoffice.engine.engine import Engine
    from backoffice.engine.ports import StoreTransaction

TIMER_ACTOR = "backoffice-timer"
_LOG = logging.getLogger(__name__)
_PAGES_A_TICK = 10
"""The most pages of due timers one tick reads, each of `limit`: forged rows due early are stepped over, boundedly."""
_ESCALATED = {Priority.LOW: Priority.NORMAL, Priority.NORMAL: Priority.HIGH, Priority.HIGH: Priority.URGENT,
              Priority.URGENT: Priority.URGENT}


class TimerClock(StrEnum):
    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"
    STATE = "state"
    """Business time spent in one state since the case entered it."""


class TimerStatus(StrEnum):
    PENDING = "pending"
    FIRED = "fired"
    CANCELLED = "cancelled"
    """Over before it fell due: the case answered, left the state, or ended."""


@dataclass(frozen=True)
class NewTimer:
    """A timer of one case about to be stored; `due_at` None while the case's SLA clock stands still."""

    case_id: int
    workflow: str
    timer: int
    name: str
    kind: TimerKind
    clock: TimerClock
    state: str | None
    due_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class ScheduledTimer(NewTimer):
    """A stored timer and whether it fired."""

    id: int = 0
    status: TimerStatus = TimerStatus.PENDING
    settled_at: datetime | None = None


@dataclass(frozen=True)
class FiredTimer:
    """What firing one timer did: to whom it went and, for an escalation, the priority it raised the case to."""

    timer: ScheduledTimer
    to: str
    priority: Priority | None = None


def timer_name(definition: Definition, index: int) -> str:
    """Return a timer's name for people: its own, else what it says ("75% of resolution", "2d in blocked")."""
    spec = definition.timers[index]
    if spec.name:
        return spec.name
    if spec.sla is not None:
        return f"{spec.at * 100:g}% of {spec.sla.value}"
    return f"{spec.after} in {spec.state}"


def sla_timer_due(definition: Definition, spec: Timer, case: Case, paused: PausedTime) -> datetime | None:
    """Return when an SLA timer falls due after the case's pauses; None while paused or without that SLA."""
    duration = getattr(definition.sla, spec.sla.value, None) if definition.sla and spec.sla else None
    if duration is None or paused.since is not None:
        return None
    calendar = calendar_of(definition)
    share = (spec.at or 0.0) * calendar.business_seconds(duration)
    return calendar.add_business_time(case.created_at, share + paused.seconds)


def sla_timers(definition: Definition, case: Case, *, paused: PausedTime, now: datetime) -> list[NewTimer]:
    """Return the SLA timers of a case, for every SLA clock the definition has."""
    return [NewTimer(case.id, case.workflow, index, timer_name(definition, index), spec.kind,
                     TimerClock(spec.sla.value), None, sla_timer_due(definition, spec, case, paused), now)
            for index, spec in enumerate(definition.timers)
            if spec.sla is not None and getattr(definition.sla, spec.sla.value, None) is not None]


def timers_on_start(definition: Definition, case: Case, *, paused: PausedTime, now: datetime) -> list[NewTimer]:
    """Return the timers a new case starts with: every SLA timer, and those of its intake state."""
    return sla_timers(definition, case, paused=paused, now=now) + timers_on_entering(definition, case, now=now)


def timers_on_entering(definition: Definition, case: Case, *, now: datetime) -> list[NewTimer]:
    """Return the state timers of the state the case just entered, counted from `now`."""
    calendar = calendar_of(definition)
    return [NewTimer(case.id, case.workflow, index, timer_name(definition, index), spec.kind, TimerClock.STATE,
                     case.state, calendar.due(now, spec.after), now)
            for index, spec in enumerate(definition.timers)
            if spec.state == case.state and spec.after is not None]


def schedule_on_move(tx: StoreTransaction, definition: Definition, before: Case, after: Case, *,
                     paused_before: PausedTime, paused_after: PausedTime, now: datetime) -> None:
    """Settle and schedule a moved case's timers in the move's transaction (see the module's rules)."""
    if not definition.timers:
        return  # nothing to settle or schedule: no statement at all on the hot path
    if definition.state(after.state).kind.is_end:
        tx.cancel_timers(after.id, at=now)
        return
    if any(spec.state == before.state for spec in definition.timers):
        tx.cancel_timers(after.id, clock=TimerClock.STATE, state=before.state, at=now)
    if before.state == definition.intake_state and after.state != definition.intake_state \
            and any(spec.sla is SlaClock.FIRST_RESPONSE for spec in definition.timers):
        tx.cancel_timers(after.id, clock=TimerClock.FIRST_RESPONSE, at=now)
    if paused_after != paused_before:
        for timer in tx.pending_timers(after.id):
            if timer.clock is not TimerClock.STATE:
                tx.set_timer_due(timer.id, sla_timer_due(definition, definition.timers[timer.timer], after,
                                                         paused_after))
    for timer in timers_on_entering(definition, after, now=now):
        tx.insert_timer(timer)


class TimerOperations:
    """Firing due timers; mixed into `Engine`."""

    def fire_timers(self: Engine, now: datetime, *, limit: int = 100,
                    refused: list[CaseAltered] | None = None) -> Sequence[FiredTimer]:
        """Fire every pending timer due by `now` (up to `limit` fired); return what each did.

        A timer whose row, or whose case's, was edited outside the engine is not fired (nothing is
        written, it stays pending) and the others are: its refusal is logged and added to `refused`.
        """
        now = utc(now)
        fired: list[FiredTimer] = []
        # Page by (due time, id) past the timers left pending: refused or stale ones do not fill the tick, so
        # forged rows due early cannot hold back every real timer behind them. Bounded: a tick reads at most
        # _PAGES_A_TICK pages, and what it leaves waits for the next.
        after = None
        for _page in range(_PAGES_A_TICK):
            due = self.store.due_timers(now, limit=limit, after=after)
            for timer in due:
                try:
                    outcome = self._fire(timer, now)
                except StaleVersion:
                    continue  # the case moved meanwhile: the timer stays pending and the next tick looks again
                except CaseAltered as altered:
                    # Its case, or the timer's own row, was edited outside the engine: nothing is written, the
                    # timer stays pending, and the others fire (one forged row must not stop every reminder).
                    _LOG.warning("timer %s not fired: %s", timer.id, altered)
                    if refused is not None:
                        refused.append(altered)
                    continue
                if outcome is not None:
                    fired.append(outcome)
                    if len(fired) == limit:
                        return fired
            if len(due) < limit:
                break
            after = (due[-1].due_at, due[-1].id)
        return fired

    def timers(self: Engine, case_id: int) -> Sequence[ScheduledTimer]:
        """Return a case's timers in the order they were scheduled."""
        self.case(case_id)
        return self.store.timers(case_id)

    def _fire(self: Engine, timer: ScheduledTimer, now: datetime) -> FiredTimer | None:
        timer = self._timer_held(timer)
        if timer is None or timer.status is not TimerStatus.PENDING or timer.due_at is None or timer.due_at > now:
            return None  # settled, moved or gone meanwhile, through the engine
        case = self.case(timer.case_id)
        definition = self.running(case.workflow, case.definition_version).definition
        spec = definition.timers[timer.timer]
        assignment = assignment_of(definition, spec.target, case) if spec.target else None
        target = assignment.describe() if assignment else f"the case's owner {case.owner or case.queue}"
        with self.store.transaction() as tx:
            if not tx.settle_timer(timer.id, status=TimerStatus.FIRED, at=now):
                return None  # fired by another worker, or over, meanwhile
            detail = {"timer": timer.name, "kind": str(timer.kind), "clock": str(timer.clock), "to": target,
                      "due_at": timer.due_at.isoformat() if timer.due_at else None}
            if assignment is not None:
                # Who exactly, for the gateway that turns it into a mail or a chat message.
                detail["recipient"] = {key: value for key, value in (("queue", assignment.queue),
                                       ("role", assignment.role), ("person", assignment.assignee)) if value}
            priority = None
            if timer.kind is TimerKind.ESCALATION:
                priority = _ESCALATED[case.priority]
                detail["priority"] = {"from": str(case.priority), "to": str(priority)}
                self._escalate(tx, case, priority, timer=timer, detail=detail, now=now)
            self._notify(tx, case, kind=str(timer.kind), subject=timer.name, to=target, now=now,
                         key=f"timer/{timer.id}", detail=detail)
            self._audit(tx, AuditEntry(AuditAction.TIMER_FIRED, actor=TIMER_ACTOR, at=now, case_id=case.id,
                                       workflow=case.workflow, version=case.definition_version,
                                       detail={"timer_id": timer.id, **detail}))
        return FiredTimer(replace(timer, status=TimerStatus.FIRED, settled_at=now), target, priority)

    def _timer_held(self: Engine, timer: ScheduledTimer) -> ScheduledTimer | None:
        """Return the timer as its row is now, once held to the newest record of its case that lists it.

        Raises:
            CaseAltered: the row is not as that record lists it, or no record lists it.
        """
        found = self.store.timer_as_written(timer.id)
        if found is None:
            return None
        held, seal, records = found
        problem = timer_row_problem(seal, records, sealer=self.audit_key, sealed_from=self._timers_sealed_from)
        if problem is not None:
            raise CaseAltered(held.case_id, f"has a timer whose row (timers {held.id}) {problem}")
        return held

    def _paused_held(self: Engine, tx: StoreTransaction, case_id: int) -> PausedTime:
        """Return a case's paused SLA time, once its clock row is held to the newest record of its case giving it.

        Raises:
            CaseAltered: the row is not as that record gives it, or the case's records say it had none.
        """
        paused, seal, records = tx.paused_time_as_written(case_id)
        if seal is not None:
            problem = clock_row_problem(seal, records, sealer=self.audit_key)
            if problem is not None:
                raise CaseAltered(case_id, f"has an SLA clock whose row (sla_clocks {case_id}) {problem}")
        return paused

    def _timers_sealed_from(self: Engine) -> int | None:
        # Read once a process, and only for a timer no record lists: the records are append-only, so once
        # found it holds; before any timer is listed it is looked for again.
        first = self.__dict__.get("_first_sealed_timer")
        if first is None:
            first = first_sealed_timer(self.store.first_timer_listings(), sealer=self.audit_key)
            if first is not None:
                self.__dict__["_first_sealed_timer"] = first
        return first

    def _escalate(self: Engine, tx: StoreTransaction, case: Case, priority: Priority, *, timer: ScheduledTimer,
                  detail: dict[str, object], now: datetime) -> None:
        # An escalation is a change of the case (its priority), so it is versioned and logged
        # like one: a person holding the old version gets a conflict, not a silent overwrite.
        raised = replace(case, priority=priority, updated_at=now)
        stored = tx.update_case(raised, expected_version=case.version)
        tx.set_case_tasks_priority(case.id, priority)
        event = tx.insert_event(EngineEvent(
            case_id=case.id, activity=f"escalate: {timer.name}", timestamp=now, workflow=case.workflow,
            version=case.definition_version, resource=Actor(TIMER_ACTOR).id, branch=case.branch,
            attributes={**change_attributes(from_state=case.state, to_state=case.state, case_version=stored.version,
                                            queue=stored.queue, priority=str(priority), owner=stored.owner,
                                            changed={}), "timer": timer.name}))
        detail["event_id"] = event.id
