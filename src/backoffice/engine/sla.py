"""The resolution SLA of a case in business time, paused while the case waits in a pause_in state.

The store keeps, per case, the business seconds spent paused so far and since when it is
paused now; the due time is the case's start plus the SLA plus the paused time, all counted
on the definition's calendar. So a case that waited a day on its requester is due a day later.

A case waiting for its branches (a parallel state, a checklist, a sub-case step) is not in a
`pause_in` state itself; its clock follows its branches. It stands still while every branch
still open stands still (each waits in a `pause_in` state, on a supplier or the requester, or
waits in turn for branches of its own that all stand still), and runs while any one branch is
worked on: the team owes the case while it owes any part of it. A sub-case's clock is its own
workflow's. Each stop and restart of such a clock is an audit record on the waiting case
(`sla.paused`, `sla.resumed`) naming the branches that decided it and where they wait; the
branches' own clocks keep counting for their own SLAs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backoffice.definitions.calendar import BusinessCalendar
from backoffice.definitions.model import Definition
from backoffice.engine.cases import Case


@dataclass(frozen=True)
class PausedTime:
    """Business seconds a case's SLA clock stood still, and since when it stands still now (None: running)."""

    seconds: float = 0.0
    since: datetime | None = None


_CALENDARS: dict[int, tuple[Definition, BusinessCalendar]] = {}


def calendar_of(definition: Definition) -> BusinessCalendar:
    """Return `definition.business_calendar()`, found by the definition itself after the first time.

    A definition is frozen (a deployed version never changes), but finding its calendar serializes the
    calendar's settings to JSON on every call; SLAs and timers ask for it on every move. The definition is
    kept beside its calendar, so an id is never reused while its entry stands. Bounded: when full, it starts
    again empty.
    """
    found = _CALENDARS.get(id(definition))
    if found is not None and found[0] is definition:
        return found[1]
    if len(_CALENDARS) >= 256:
        _CALENDARS.clear()
    calendar = definition.business_calendar()
    _CALENDARS[id(definition)] = (definition, calendar)
    return calendar


def resolution_due(definition: Definition, case: Case, paused: PausedTime) -> datetime | None:
    """Return when the case's resolution SLA falls due, after its pauses; None when it has no such SLA."""
    duration = definition.sla.resolution if definition.sla is not None else None
    if duration is None:
        return None
    calendar = calendar_of(definition)
    return calendar.add_business_time(case.created_at, calendar.business_seconds(duration) + paused.seconds)


def after_move(definition: Definition, *, left: str, entered: str, paused: PausedTime, now: datetime
               ) -> PausedTime:
    """Return the paused time once a case moved from `left` to `entered` at `now`."""
    if definition.sla is None:
        return paused
    pausing, was_paused = definition.pauses_sla(entered), paused.since is not None
    if was_paused and not pausing:
        return resumed(definition, paused, now=now)
    if pausing and not was_paused:
        return stopped(paused, now=now)
    return paused


def stopped(paused: PausedTime, *, now: datetime) -> PausedTime:
    """Return a running clock stopped at `now` (a stopped one as it is)."""
    return paused if paused.since is not None else PausedTime(paused.seconds, now)


def resumed(definition: Definition, paused: PausedTime, *, now: datetime) -> PausedTime:
    """Return a stopped clock running again at `now`, the business time it stood added to its paused time."""
    if paused.since is None:
        return paused
    stood = max(0.0, calendar_of(definition).business_seconds_between(paused.since, now))
    return PausedTime(paused.seconds + stood, None)
