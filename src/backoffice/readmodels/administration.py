"""The administrator's overview: the directory, the workflows with their control diffs, pending changes,
tokens, dead letters and the calendars workflows count on.

Reads only. Every change an administration page makes is an engine operation that checks its
own role in the core (`grant`, `create_token`, `approve_change`, `replay`...), so a page that
showed a button to the wrong person would still be refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from backoffice.definitions.control_diff import ControlDiff, diff_controls
from backoffice.engine import Engine
from backoffice.engine.directory import Delegation, Grant, Group, Person, ServiceAccount, Token
from backoffice.engine.outbox import OutboxEntry
from backoffice.engine.ports import StoredVersion, VersionChange


@dataclass(frozen=True)
class PersonRow:
    person: Person
    roles: tuple[str, ...]
    groups: tuple[str, ...]
    queues: tuple[str, ...]


@dataclass(frozen=True)
class VersionRow:
    """A deployed version and its control diff against the version before it."""

    stored: StoredVersion
    diff: ControlDiff


@dataclass(frozen=True)
class PendingChange:
    """A version waiting for a second person: the change, and its control diff in lines."""

    change: VersionChange
    summary: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class CalendarRow:
    """The business calendar a workflow's latest version counts its SLAs and timers on."""

    workflow: str
    version: int
    name: str
    timezone: str
    working_hours: str
    working_days: str
    holidays: str


@dataclass(frozen=True)
class Overview:
    people: tuple[PersonRow, ...]
    groups: tuple[Group, ...]
    grants: tuple[Grant, ...]
    delegations: tuple[Delegation, ...]
    service_accounts: tuple[ServiceAccount, ...]
    tokens: tuple[Token, ...]
    versions: tuple[VersionRow, ...]
    pending: tuple[PendingChange, ...]
    dead_letters: tuple[OutboxEntry, ...]
    calendars: tuple[CalendarRow, ...]


def overview(engine: Engine) -> Overview:
    """Return everything the administration page shows (the caller has checked the administrator role)."""
    store = engine.store
    grants = tuple(store.grants())
    groups = tuple(store.groups())
    memberships = store.queue_members()
    people = tuple(PersonRow(person=person,
                             roles=tuple(sorted({_grant_text(g) for g in grants if g.grantee == person.id})),
                             groups=tuple(group.id for group in groups if person.id in group.members),
                             queues=tuple(sorted(queue for queue, member in memberships if member == person.id)))
                   for person in store.people())
    return Overview(people=people, groups=groups, grants=grants, delegations=tuple(store.delegations()),
                    service_accounts=tuple(store.service_accounts()), tokens=tuple(store.tokens()),
                    versions=tuple(version_rows(engine)), pending=tuple(pending_changes(engine)),
                    dead_letters=tuple(engine.dead_letters(limit=200)), calendars=tuple(calendars(engine)))


def version_rows(engine: Engine) -> Sequence[VersionRow]:
    """Return every deployed version with its control diff against the one before it."""
    rows = []
    previous = None
    for stored in engine.versions():
        running = engine.running(stored.workflow, stored.version)
        before = previous if previous is not None and previous.stored.workflow == stored.workflow else None
        diff = diff_controls(before.definition if before else None, running.definition,
                             old_inputs=before.inputs if before else None, new_inputs=running.inputs)
        rows.append(VersionRow(stored=stored, diff=diff))
        previous = running
    return rows


def pending_changes(engine: Engine) -> Sequence[PendingChange]:
    """Return the versions waiting for a second person, with the control diff that made them wait."""
    found = []
    for change in engine.changes():
        diff = change.reasons.get("control_diff") or {}
        lines = [f"{'weakens' if item.get('weakens') else 'tightens'}: {item.get('kind')} at {item.get('where')}"
                 f"{_values(item)} ({item.get('reason')})" for item in diff.get("changes", [])]
        if change.reasons.get("second_approver_required"):
            lines.append(f"the change rules of {change.candidate.workflow} ask for a second approver")
        weakening = sum(bool(item.get("weakens")) for item in diff.get("changes", []))
        summary = (f"{change.candidate.workflow} version {change.candidate.version} against version "
                   f"{diff.get('old_version')}: {weakening} change{'s weaken' if weakening != 1 else ' weakens'} a control"
                   if weakening else f"{change.candidate.workflow} version {change.candidate.version} waits for a "
                                     f"second approver")
        found.append(PendingChange(change=change, summary=summary, lines=tuple(lines)))
    return found


def calendars(engine: Engine) -> Sequence[CalendarRow]:
    """Return the calendar each workflow's latest version uses (the default one where it names none)."""
    latest: dict[str, int] = {}
    for stored in engine.versions():
        latest[stored.workflow] = stored.version
    rows = []
    for workflow, version in sorted(latest.items()):
        definition = engine.running(workflow, version).definition
        spec = definition.calendar
        if spec is None:
            rows.append(CalendarRow(workflow, version, "default", "UTC", "09:00-17:00", "mon-fri", "none"))
            continue
        holidays = spec.holidays
        where = f"{holidays.country}{'-' + holidays.subdivision if holidays.subdivision else ''}" if holidays else ""
        extra = f" + {len(holidays.extra)} extra" if holidays and holidays.extra else ""
        rows.append(CalendarRow(workflow=workflow, version=version, name=spec.name, timezone=spec.timezone,
                                working_hours=_hours(spec.working_hours),
                                working_days=", ".join(str(day) for day in spec.working_days),
                                holidays=(where + extra) or "none"))
    return rows


def live_tokens(tokens: Sequence[Token], now: datetime) -> list[Token]:
    return [token for token in tokens if token.live(now)]


def _grant_text(grant: Grant) -> str:
    return f"{grant.role}@{grant.workflow}" if grant.workflow else grant.role


def _values(item: dict) -> str:
    old, new = item.get("old"), item.get("new")
    return f": {old or '-'} -> {new or '-'}" if (old or new) else ""


def _hours(hours: object) -> str:
    if isinstance(hours, (list, tuple)):
        return ", ".join(str(part) for part in hours)
    return str(hours)
