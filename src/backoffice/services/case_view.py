"""What a person reading a case sees, read from the engine: exceptions, the SLA clock with its pauses, the audit chain.

Shared by the API (`GET /v1/cases/{id}`) and the web app's case page, so both tell the same
story of a case. Nothing here decides who may read it: see `visibility`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from backoffice.engine import AuditRecord, Case, Engine, EngineEvent
from backoffice.engine.audit import chain_of
from backoffice.engine.audit_verify import audit_defaults, verify_case
from backoffice.engine.sla import resolution_due
from backoffice.errors import AuditKeyError, CheckpointStoreError
from backoffice.store.tables import sla_clocks

# The SLA clock warns when less than this share of the resolution time is left.
WARN_SHARE = 0.25


@dataclass(frozen=True)
class CaseException:
    """An exception of a case as its timeline records it: raised, and resolved when it was."""

    exception_id: int | None
    reason: str
    raised_in: str | None
    raised_by: str | None
    raised_at: datetime
    note: str | None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    resolution: str | None = None


def exceptions_of(history: Sequence[EngineEvent]) -> list[CaseException]:
    """Return a case's exceptions from its events, oldest first."""
    found: dict[int, CaseException] = {}
    for event in history:
        exception_id = event.attributes.get("exception_id")
        if exception_id is None or event.reason is None:
            continue
        if event.activity.startswith("raise "):
            found[exception_id] = CaseException(
                exception_id=exception_id, reason=event.reason, raised_in=event.attributes.get("from_state"),
                raised_by=event.resource, raised_at=event.timestamp, note=event.attributes.get("note"))
        elif event.activity.startswith("resolve ") and exception_id in found:
            raised = found[exception_id]
            found[exception_id] = CaseException(**{**raised.__dict__, "resolved_by": event.resource,
                                                   "resolved_at": event.timestamp,
                                                   "resolution": event.attributes.get("to_state")})
    return list(found.values())


@dataclass(frozen=True)
class Pause:
    """A stretch of time the SLA clock stood still: in which state, why, from when until when (None: still)."""

    state: str
    reason: str | None
    since: datetime
    until: datetime | None


@dataclass(frozen=True)
class SlaClock:
    """A case's resolution SLA as it stands: when it falls due, whether it runs, its pauses, and how close it is.

    Attributes:
        due_at: when the resolution falls due after the pauses so far (None while it stands still).
        warning: less than a quarter of the resolution time is left (and it is not breached).
        breached: the due time passed before the case ended (or now, while it runs).
    """

    resolution: str
    due_at: datetime | None
    running: bool
    paused_seconds: float
    pauses: tuple[Pause, ...]
    warning: bool
    breached: bool
    ended: bool


def sla_clock(engine: Engine, case: Case, history: Sequence[EngineEvent], *, now: datetime) -> SlaClock | None:
    """Return the case's resolution SLA clock, or None when its definition sets no resolution time."""
    definition = engine.running(case.workflow, case.definition_version).definition
    if definition.sla is None or definition.sla.resolution is None:
        return None
    paused = engine.store.paused_time(case.id)
    pause_states = set(definition.sla.pause_in)
    pauses: list[Pause] = []
    current: Pause | None = None
    for event in history:
        entered = event.attributes.get("to_state")
        if entered is None:
            continue
        if current is not None and entered != current.state:
            pauses.append(Pause(current.state, current.reason, current.since, event.timestamp))
            current = None
        if entered in pause_states and current is None:
            current = Pause(entered, event.reason or event.activity, event.timestamp, None)
    if current is not None:
        pauses.append(current)
    ended = definition.state(case.state).kind.is_end
    running = paused.since is None and not ended
    due = resolution_due(definition, case, paused) if paused.since is None else None
    settled_at = case.updated_at if ended else now
    breached = due is not None and settled_at > due
    resolution = definition.sla.resolution
    warning = False
    if running and due is not None and not breached:
        calendar = definition.business_calendar()
        # In business time, as the SLA counts: a weekend does not use up the time left.
        warning = calendar.business_seconds_between(now, due) < calendar.business_seconds(resolution) * WARN_SHARE
    return SlaClock(resolution=resolution.text, due_at=due, running=running, paused_seconds=paused.seconds,
                    pauses=tuple(pauses), warning=warning, breached=breached, ended=ended)


@dataclass(frozen=True)
class CaseAudit:
    """A case's audit chain and whether it verifies: its records, and the problems found (empty: intact).

    `unverified` says why the chain could not be checked (no audit key here), when it could not.
    """

    records: tuple[AuditRecord, ...]
    problems: tuple[str, ...]
    unverified: str | None = None

    clock_problem: str | None = None
    """What is wrong with the case's SLA clock row, when the trail does not give it as it is: the clock shown is
    read from that row, so the page says so beside it, not only in the audit panel."""

    @property
    def ok(self) -> bool:
        return self.unverified is None and not self.problems


def case_audit(engine: Engine, case_id: int) -> CaseAudit:
    """Return the audit records of a case's chain, checked as `audit verify` checks them (seals, links, bound rows,
    pending timers and the SLA clock)."""
    store = engine.store
    chain = chain_of(case_id)
    records = tuple(store.audit_chain_records([chain]))
    try:
        key, checkpoints = audit_defaults(store, None, None, create=False)
        latest = checkpoints.latest()
        signed = latest.heads.get(chain) if latest is not None and latest.signed_by(key.public) else None
        problems = verify_case(store, case_id, records, store.bound_rows([case_id]), key=key, signed=signed)
    except (AuditKeyError, CheckpointStoreError) as exc:
        return CaseAudit(records, (), unverified=str(exc))
    clock_problem = next((str(problem) for problem in problems if problem.table == sla_clocks.name), None)
    return CaseAudit(records, tuple(str(problem) for problem in problems), clock_problem=clock_problem)
