"""Replay an event log against a workflow definition: the control check an auditor runs.

Each event's activity is matched to a state of the definition (an explicit mapping first,
then the state's title as written, its title folded, its id folded). Each case is then
replayed in time order from the intake state, and every way it departs from the definition
is named:

- a move the definition does not allow (its transitions, exceptions raised and resolved,
  and automated steps whose retries run out: the moves `check` walks);
- a skipped approval: a move not allowed, where every way the definition offers from the
  one state to the other passes through an approval;
- a separation-of-duties breach: an approval done by the case's requester (whoever did its
  first event) or by whoever acted in a state the approval names;
- an SLA breach: first response or resolution over the definition's SLA, counted in
  business time on its calendar, with the clock stopped in its pause_in states;
- an activity that is no state of the definition.

Logs rarely record the intake or the end as events of their own: an intake state and end
states that no activity matches are passed silently (a case starts in the intake; a case
whose last state may move to such an end is closed at its last event). Other states are
never skipped silently. A case still open at the end of the log is counted, not blamed.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field

from backoffice.definitions.model import Definition, SlaClock, StateKind
from backoffice.events.normalize import fold_label
from backoffice.events.schema import Column, EventLog

# A resource that acts in this many roles, in at least this share of the cases, is a label
# the exporter put on many people (an anonymised "STAFF MEMBER"), not a person: comparing it
# with itself would report every case as a separation-of-duties breach.
SHARED_MIN_ROLES = 3
SHARED_MIN_CASE_SHARE = 0.5
COMPLETE = "complete"


class DeviationKind(StrEnum):
    """A way a case departs from its definition."""

    UNMAPPED_ACTIVITY = "unmapped_activity"
    DISALLOWED_TRANSITION = "disallowed_transition"
    SKIPPED_APPROVAL = "skipped_approval"
    SEPARATION_OF_DUTIES = "separation_of_duties"
    SLA_FIRST_RESPONSE = "sla_first_response"
    SLA_RESOLUTION = "sla_resolution"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    DeviationKind.UNMAPPED_ACTIVITY: "activity not in the definition",
    DeviationKind.DISALLOWED_TRANSITION: "transition not allowed",
    DeviationKind.SKIPPED_APPROVAL: "approval skipped",
    DeviationKind.SEPARATION_OF_DUTIES: "separation of duties breached",
    DeviationKind.SLA_FIRST_RESPONSE: "first-response SLA missed",
    DeviationKind.SLA_RESOLUTION: "resolution SLA missed",
}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Deviation(_Frozen):
    """One kind of departure at one place, with every case that shows it."""

    kind: DeviationKind
    detail: str = Field(description="where: the move, the approval, the SLA or the activity")
    occurrences: int = Field(description="times it happened; a case may show it more than once")
    case_ids: list[str] = Field(description="every case that shows it, in the order of the log")

    @property
    def cases(self) -> int:
        return len(self.case_ids)


class SharedResource(_Frozen):
    """A resource name that stands for many people, so separation of duties cannot be judged on it."""

    name: str
    roles: list[str]
    cases: int
    given: bool = Field(description="named by the user rather than recognised in the log")


class ConformanceReport(_Frozen):
    """How the cases of a log compare with a definition."""

    workflow: str
    version: int
    source: str
    cases: int
    conforming: int = Field(description="cases with no deviation")
    open_cases: int = Field(description="cases that had not reached an end when the log ends")
    events: int
    events_replayed: int = Field(description="events matched to a state and replayed")
    activity_states: dict[str, str] = Field(description="log activity -> the state it was matched to")
    unmapped_activities: dict[str, int] = Field(description="log activity -> events, for activities of no state")
    unseen_states: list[str] = Field(description="states of the definition that no activity matches")
    deviations: list[Deviation]
    shared_resources: list[SharedResource]
    approvals_unjudged: int = Field(description="approval events whose separation of duties could not be "
                                                "judged: no resource, or a shared one")
    notes: list[str]

    @property
    def non_conforming(self) -> int:
        return self.cases - self.conforming

    def case_ids(self, kind: DeviationKind | str, detail: str | None = None) -> set[str]:
        """Return the cases showing a kind of deviation (at one detail, when given)."""
        return {case for d in self.deviations if d.kind == kind and (detail is None or d.detail == detail)
                for case in d.case_ids}

    def count(self, kind: DeviationKind | str) -> int:
        """Return how many cases show a kind of deviation."""
        return len(self.case_ids(kind))


def conform(log: EventLog, definition: Definition, *, activities: Mapping[str, str] | None = None,
            shared_resources: Iterable[str] = (), detect_shared: bool = True) -> ConformanceReport:
    """Replay every case of a log against a definition and report each deviation.

    Args:
        log: the events (see `backoffice.read_log`).
        definition: the workflow definition the cases should follow.
        activities: log activity -> state id, for activities whose names are not the
            states' titles or ids; the rest are matched by title and id.
        shared_resources: resource names that stand for many people (an anonymised label,
            a shared login): separation of duties is not judged on them.
        detect_shared: also recognise such names in the log (a resource acting in at least
            SHARED_MIN_ROLES roles in at least SHARED_MIN_CASE_SHARE of the cases).

    Returns:
        The report: conforming and open cases, each deviation with every case showing it.

    Raises:
        UnknownState: `activities` maps an activity to a state the definition lacks.
    """
    completed, dropped = completed_events(log)
    notes = [completed.notes[-1]] if dropped else []
    table = completed.table.select([Column.CASE_ID, Column.ACTIVITY, Column.TIMESTAMP, Column.RESOURCE,
                                    Column.ROLE])
    names = [str(name) for name in pc.unique(table.column(Column.ACTIVITY)).to_pylist()]
    matched, ambiguous = match_activities(definition, names, activities or {})
    for activity, states in sorted(ambiguous.items()):
        notes.append(f"activity {activity!r} matches several states ({', '.join(states)}): left unmapped; "
                     f"map it explicitly")
    shared = _shared_resources(table, set(shared_resources), detect_shared)
    replay = _Replay(definition, matched, {s.name for s in shared})
    cases = table.column(Column.CASE_ID).to_pylist()
    acts = table.column(Column.ACTIVITY).to_pylist()
    times = table.column(Column.TIMESTAMP).to_pylist()
    resources = table.column(Column.RESOURCE).to_pylist()
    start = 0
    for index in range(1, len(cases) + 1):
        if index == len(cases) or cases[index] != cases[start]:
            replay.case(str(cases[start]), acts[start:index], times[start:index], resources[start:index])
            start = index
    unmapped = {name: 0 for name in names if name not in matched}
    for name in acts:
        if name not in matched:
            unmapped[name] += 1
    seen = set(matched.values())
    deviations = replay.deviations()
    if any(d.kind is DeviationKind.SEPARATION_OF_DUTIES and d.detail.endswith("the requester") for d in deviations):
        notes.append("the requester of a case is whoever did its first event")
    return ConformanceReport(
        workflow=definition.id, version=definition.version, source=log.source, cases=replay.cases,
        conforming=replay.cases - len(replay.deviating), open_cases=replay.open_cases, events=len(log),
        events_replayed=len(acts) - sum(unmapped.values()), activity_states=dict(sorted(matched.items())),
        unmapped_activities=dict(sorted(unmapped.items(), key=lambda item: -item[1])),
        unseen_states=[sid for sid in definition.states if sid not in seen], deviations=deviations,
        shared_resources=shared, approvals_unjudged=replay.unjudged, notes=notes)


def match_activities(definition: Definition, names: Iterable[str], explicit: Mapping[str, str]
                     ) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Match log activities to states: explicitly, then by title as written, folded title, folded id.

    Returns:
        activity -> state id for those matched, and activity -> the states it matches for
        those that match several at the first rule that matches at all (left unmapped).

    Raises:
        UnknownState: an explicit mapping names a state the definition lacks.
    """
    for state in explicit.values():
        definition.state(state)
    rules: list[dict[str, list[str]]] = [defaultdict(list) for _ in range(3)]
    for sid, state in definition.states.items():
        if state.title:
            rules[0][state.title].append(sid)
            rules[1][_fold(state.title)].append(sid)
        rules[2][_fold(sid)].append(sid)
    matched: dict[str, str] = {}
    ambiguous: dict[str, list[str]] = {}
    for name in names:
        if name in explicit:
            matched[name] = explicit[name]
            continue
        for rule, key in zip(rules, (name, _fold(name), _fold(name)), strict=True):
            states = sorted(set(rule.get(key, ())))
            if len(states) == 1:
                matched[name] = states[0]
            elif states:
                ambiguous[name] = states
            if states:
                break
    return matched, ambiguous


def allowed_moves(definition: Definition) -> dict[str, frozenset[str]]:
    """Return where a case may go from each state.

    The moves `check` walks: transitions; raising an exception where it may be raised (any
    state that is no end, when it names none) into its waiting state, or straight to where
    it leads; leaving that waiting state to where the exception returns or ends; and an
    automated step's move when its retries run out.
    """
    moves: dict[str, set[str]] = {sid: set() for sid in definition.states}
    for transition in definition.transitions:
        for source in transition.from_:
            moves.setdefault(source, set()).add(transition.to)
    cancelled = [sid for sid, s in definition.states.items() if s.kind is StateKind.CANCELLED]
    for reason in definition.exceptions.values():
        after = [reason.returns_to] if reason.returns_to else (
            [reason.ends] if isinstance(reason.ends, str) else cancelled[:1])
        raised_in = reason.raised_in or [sid for sid, s in definition.states.items() if not s.kind.is_end]
        for source in raised_in:
            moves.setdefault(source, set()).update(t for t in ([reason.state] if reason.state else after) if t)
        if reason.state:
            moves.setdefault(reason.state, set()).update(t for t in after if t)
    for step in definition.automated_steps:
        if step.on_exhausted:
            moves.setdefault(step.state, set()).add(step.on_exhausted)
    return {sid: frozenset(targets) for sid, targets in moves.items()}


def approvals_skipped(moves: Mapping[str, frozenset[str]], approvals: frozenset[str], source: str,
                      target: str) -> tuple[str, ...]:
    """Return the approvals a move from source to target jumps over, or () when it jumps over none.

    A move skips approval when the definition offers ways from source to target and every
    one of them passes through an approval state; the approvals named are the first ones
    on those ways. A move the definition offers no way for at all is merely not allowed.
    """
    if target not in _reachable(moves, source, stop_at=frozenset()):
        return ()
    if target in _reachable(moves, source, stop_at=approvals):
        return ()
    first = _reachable(moves, source, stop_at=approvals) & approvals
    return tuple(sorted(a for a in first if target in _reachable(moves, a, stop_at=frozenset())))


def _reachable(moves: Mapping[str, frozenset[str]], start: str, stop_at: frozenset[str]) -> set[str]:
    """Return the states reachable from start in one or more moves, not moving on from those in stop_at."""
    seen: set[str] = set()
    queue = deque([start])
    while queue:
        for target in moves.get(queue.popleft(), ()):
            if target not in seen:
                seen.add(target)
                if target not in stop_at:
                    queue.append(target)
    return seen


def _fold(text: str) -> str:
    # "In progress", "in-progress" and "IN_PROGRESS" name one state.
    return " ".join("".join(c if c.isalnum() else " " for c in fold_label(text)).split())


def completed_events(log: EventLog) -> tuple[EventLog, int]:
    """Return a log's completions when it records lifecycles, and how many other events were left out.

    A step logged as start and complete is one visit to its state; its start, schedule or
    assignment events would otherwise read as moves of their own. A log with no "complete"
    lifecycle is returned whole.
    """
    lifecycle = pc.utf8_lower(log.table.column(Column.LIFECYCLE).cast(pa.string()))
    if not pc.any(pc.equal(lifecycle, COMPLETE)).as_py():
        return log, 0
    keep = pc.or_kleene(pc.is_null(lifecycle), pc.equal(lifecycle, COMPLETE))
    dropped = log.table.num_rows - pc.sum(keep.cast(pa.int64())).as_py()
    if not dropped:
        return log, 0
    note = (f"kept the events whose lifecycle is complete; left out {dropped:,} start, schedule and other "
            f"lifecycle events")
    return log.with_table(log.table.filter(keep), note=note), dropped


def _shared_resources(table: pa.Table, given: set[str], detect: bool) -> list[SharedResource]:
    if not given and not detect:
        return []
    rows = table.filter(pc.is_valid(table.column(Column.RESOURCE)))
    rows = pa.table({"resource": rows.column(Column.RESOURCE).cast(pa.string()),
                     "role": rows.column(Column.ROLE).cast(pa.string()),
                     "case": rows.column(Column.CASE_ID).cast(pa.string())})
    stats = rows.group_by("resource").aggregate([("role", "distinct"), ("case", "count_distinct")])
    total_cases = len(pc.unique(table.column(Column.CASE_ID)))
    shared = []
    for name, roles, cases in zip(stats.column("resource").to_pylist(), stats.column("role_distinct").to_pylist(),
                                  stats.column("case_count_distinct").to_pylist(), strict=True):
        roles = sorted(str(role) for role in roles if role is not None)
        recognised = detect and len(roles) >= SHARED_MIN_ROLES and cases >= SHARED_MIN_CASE_SHARE * total_cases
        if name in given or recognised:
            shared.append(SharedResource(name=name, roles=roles, cases=cases, given=name in given))
    return sorted(shared, key=lambda s: -s.cases)


@dataclass
class _Found:
    occurrences: int = 0
    case_ids: dict[str, None] = field(default_factory=dict)  # an ordered set


class _Replay:
    """Replays cases one by one, gathering deviations."""

    def __init__(self, definition: Definition, matched: Mapping[str, str], shared: set[str]) -> None:
        self.d = definition
        self.matched = matched
        self.shared = shared
        self.moves = allowed_moves(definition)
        self.approvals = frozenset(sid for sid, s in definition.states.items() if s.kind is StateKind.APPROVAL)
        self.separated = frozenset(a.state for a in definition.approvals if a.separation_of_duties)
        self.skips: dict[tuple[str, str], tuple[str, ...]] = {}
        self.intake = definition.intake_state
        seen = set(matched.values())
        self.silent_ends = frozenset(sid for sid in definition.end_states if sid not in seen)
        self.paused = frozenset(definition.sla.pause_in) if definition.sla else frozenset()
        self.calendar = definition.business_calendar()
        self.limits = {clock: self.calendar.business_seconds(duration) for clock in SlaClock
                       if definition.sla and (duration := getattr(definition.sla, clock.value))}
        self.found: dict[tuple[DeviationKind, str], _Found] = {}
        self.deviating: set[str] = set()
        self.cases = self.open_cases = self.unjudged = 0

    def note(self, case_id: str, kind: DeviationKind, detail: str) -> None:
        found = self.found.setdefault((kind, detail), _Found())
        found.occurrences += 1
        found.case_ids[case_id] = None
        self.deviating.add(case_id)

    def case(self, case_id: str, activities: list[str], times: list[datetime], resources: list[str | None]) -> None:
        self.cases += 1
        resources = [resource or None for resource in resources]  # an empty name is no one in particular
        requester = resources[0]
        state, entered = self.intake, times[0]
        stays: list[tuple[str, datetime]] = [(state, entered)]
        actors: dict[str, set[str]] = defaultdict(set)
        for activity, moment, resource in zip(activities, times, resources, strict=True):
            target = self.matched.get(activity)
            if target is None:
                self.note(case_id, DeviationKind.UNMAPPED_ACTIVITY, activity)
                continue
            if target != state:
                self.move(case_id, state, target)
                state = target
                stays.append((state, moment))
            if target in self.separated:
                self.separation(case_id, target, resource, requester, actors)
            if resource is not None:
                actors[target].add(resource)
        self.sla(case_id, stays, times[-1], state)

    def move(self, case_id: str, source: str, target: str) -> None:
        if target in self.moves.get(source, ()):
            return
        if (source, target) not in self.skips:
            self.skips[source, target] = approvals_skipped(self.moves, self.approvals, source, target)
        skipped = self.skips[source, target]
        if skipped:
            self.note(case_id, DeviationKind.SKIPPED_APPROVAL, f"{' or '.join(skipped)}, on {source} -> {target}")
        else:
            self.note(case_id, DeviationKind.DISALLOWED_TRANSITION, f"{source} -> {target}")

    def separation(self, case_id: str, state: str, resource: str | None, requester: str | None,
                   actors: Mapping[str, set[str]]) -> None:
        approval = self.d.approval(state)
        duties = approval.separation_of_duties if approval else None
        if duties is None or not (duties.requester or duties.actors_of):
            return
        if resource is None or resource in self.shared:
            self.unjudged += 1
            return
        if duties.requester and resource == requester:
            self.note(case_id, DeviationKind.SEPARATION_OF_DUTIES, f"{state}: approved by the requester")
        for earlier in duties.actors_of:
            if resource in actors.get(earlier, ()):
                self.note(case_id, DeviationKind.SEPARATION_OF_DUTIES, f"{state}: approved by whoever did {earlier}")

    def sla(self, case_id: str, stays: list[tuple[str, datetime]], last: datetime, state: str) -> None:
        if state in self.d.end_states:
            end = stays[-1][1]
        elif self.moves.get(state, frozenset()) & self.silent_ends:
            end = last
        else:
            self.open_cases += 1
            end = None
        started = stays[0][1]
        responded = next((moment for sid, moment in stays if sid != self.intake), None)
        for clock, until, kind in ((SlaClock.FIRST_RESPONSE, responded, DeviationKind.SLA_FIRST_RESPONSE),
                                   (SlaClock.RESOLUTION, end, DeviationKind.SLA_RESOLUTION)):
            if clock in self.limits and until is not None \
                    and self.business_time(stays, started, until) > self.limits[clock]:
                self.note(case_id, kind, f"over {getattr(self.d.sla, clock.value)} of business time")

    def business_time(self, stays: list[tuple[str, datetime]], start: datetime, until: datetime) -> float:
        """Return the business seconds from start to until, less the time spent in pausing states."""
        total = self.calendar.business_seconds_between(start, until)
        for (sid, entered), (_, left) in zip(stays, [*stays[1:], (None, until)]):
            if sid in self.paused and entered < until:
                total -= self.calendar.business_seconds_between(entered, min(left, until))
        return total

    def deviations(self) -> list[Deviation]:
        order = list(DeviationKind)
        rows = [Deviation(kind=kind, detail=detail, occurrences=found.occurrences, case_ids=list(found.case_ids))
                for (kind, detail), found in self.found.items()]
        return sorted(rows, key=lambda d: (order.index(d.kind), -d.cases, d.detail))
