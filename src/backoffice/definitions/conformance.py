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
never skipped silently. A case still open at the end of the log is counted, not blamed,
unless the log is read as of a moment (live work): then a clock that has already run past
its SLA is a breach, though the case is still open.

A log that names each event's states by id (the engine's own events: see `StateColumns`)
is replayed exactly: no activity is matched by name, nothing is passed silently, a state the
definition lacks is named as such (the moves out of it are not judged), and separation of
duties reads the state each person acted in (the state a move left, or the approval voted
in) rather than the state entered.
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

from backoffice.definitions.model import BRANCH_CANCELLED, Definition, SlaClock, StateKind
from backoffice.errors import LogFileError
from backoffice.events.instances import read_steps
from backoffice.events.normalize import fold_label
from backoffice.events.schema import Column, EventLog

# A resource that acts in this many roles, in at least this share of the cases, is a label
# the exporter put on many people (an anonymised "STAFF MEMBER"), not a person: comparing it
# with itself would report every case as a separation-of-duties breach.
SHARED_MIN_ROLES = 3
SHARED_MIN_CASE_SHARE = 0.5


class DeviationKind(StrEnum):
    """A way a case departs from its definition."""

    UNMAPPED_ACTIVITY = "unmapped_activity"
    UNKNOWN_STATE = "unknown_state"
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
    DeviationKind.UNKNOWN_STATE: "state not in the definition",
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


@dataclass(frozen=True)
class StateColumns:
    """The columns of a log that name each event's states by id, so nothing is matched by name.

    The engine's own events carry them (`backoffice.store.event_log.ENGINE_STATES`). An event
    with a value in `entered` moved its case into that state; an event without one (a vote,
    an escalation) moved nothing. Whoever did an event acted in the state named by the first
    of `acted_in` that has a value: separation of duties is judged on that state.
    """

    entered: str
    acted_in: tuple[str, ...] = ()


class ConformanceReport(_Frozen):
    """How the cases of a log compare with a definition."""

    workflow: str
    version: int
    source: str
    cases: int
    conforming: int = Field(description="cases with no deviation")
    open_cases: int = Field(description="cases that had not reached an end when the log ends")
    open_states: dict[str, int] = Field(default_factory=dict,
                                        description="state -> open cases last in it, most first")
    as_of: datetime | None = Field(None, description="the moment open cases were judged at: their SLA clocks run "
                                                     "until then; None when open cases are not judged")
    events: int
    events_replayed: int = Field(description="events matched to a state and replayed")
    states_from: str | None = Field(None, description="the column naming each event's state by id, when the log "
                                                      "has one; None when activities were matched to states")
    activity_states: dict[str, str] = Field(description="log activity -> the state it was matched to")
    unmapped_activities: dict[str, int] = Field(description="log activity -> events, for activities of no state")
    unknown_states: dict[str, int] = Field(default_factory=dict,
                                           description="state named in the log but not in the definition -> events")
    unseen_states: list[str] = Field(description="states of the definition that no event reaches")
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


class VersionsReport(_Frozen):
    """How the cases of one workflow compare with their definition, one report per version judged."""

    workflow: str
    source: str
    as_of: datetime | None
    reports: list[ConformanceReport] = Field(description="one per definition version, in version order")

    @property
    def cases(self) -> int:
        return sum(report.cases for report in self.reports)

    @property
    def non_conforming(self) -> int:
        return sum(report.non_conforming for report in self.reports)


def conform(log: EventLog, definition: Definition, *, activities: Mapping[str, str] | None = None,
            states: StateColumns | None = None, as_of: datetime | None = None,
            shared_resources: Iterable[str] = (), detect_shared: bool = True) -> ConformanceReport:
    """Replay every case of a log against a definition and report each deviation.

    Args:
        log: the events (see `backoffice.read_log`, `backoffice.store.read_engine_log`).
        definition: the workflow definition the cases should follow.
        activities: log activity -> state id, for activities whose names are not the
            states' titles or ids; the rest are matched by title and id.
        states: the columns naming each event's states by id (the engine's events have them):
            the replay follows them exactly instead of matching activities (see `StateColumns`).
        as_of: the moment the log was read (live work): a case still open has its SLA clocks
            run until then, and one already past an SLA is a breach. Without it, open cases
            are counted and not judged.
        shared_resources: resource names that stand for many people (an anonymised label,
            a shared login): separation of duties is not judged on them.
        detect_shared: also recognise such names in the log (a resource acting in at least
            SHARED_MIN_ROLES roles in at least SHARED_MIN_CASE_SHARE of the cases).

    Returns:
        The report: conforming and open cases, each deviation with every case showing it.

    Raises:
        UnknownState: `activities` maps an activity to a state the definition lacks.
        LogFileError: `states.entered` is no column of the log.
        ValueError: both `activities` and `states` are given (a caller's bug: they exclude each other).
    """
    if activities and states is not None:
        raise ValueError("activities map names to states; with states named by id there is nothing to map")
    completed, dropped = completed_events(log)
    notes = [completed.notes[-1]] if dropped else []
    table = completed.table
    cases = table.column(Column.CASE_ID).to_pylist()
    acts = table.column(Column.ACTIVITY).to_pylist()
    times = table.column(Column.TIMESTAMP).to_pylist()
    resources = table.column(Column.RESOURCE).to_pylist()
    matched: dict[str, str] = {}
    if states is None:
        names = [str(name) for name in pc.unique(table.column(Column.ACTIVITY)).to_pylist()]
        matched, ambiguous = match_activities(definition, names, activities or {})
        for activity, candidates in sorted(ambiguous.items()):
            notes.append(f"activity {activity!r} matches several states ({', '.join(candidates)}): left unmapped; "
                         f"map it explicitly")
        steps = _matched_steps(acts, matched)
    else:
        steps = _named_steps(table, definition, states, log.source)
    shared = _shared_resources(table, set(shared_resources), detect_shared)
    seen = {step.entered for step in steps if step.entered is not None}
    replay = _Replay(definition, {s.name for s in shared}, seen=seen, exact=states is not None, as_of=as_of)
    start = 0
    for index in range(1, len(cases) + 1):
        if index == len(cases) or cases[index] != cases[start]:
            replay.case(str(cases[start]), steps[start:index], times[start:index], resources[start:index])
            start = index
    unnamed: dict[str, int] = defaultdict(int)
    for step in steps:
        if step.unknown is not None:
            unnamed[step.unknown] += 1
    unnamed_counts = dict(sorted(unnamed.items(), key=lambda item: -item[1]))
    deviations = replay.deviations()
    if any(d.kind is DeviationKind.SEPARATION_OF_DUTIES and d.detail.endswith("the requester") for d in deviations):
        notes.append("the requester of a case is whoever did its first event")
    return ConformanceReport(
        workflow=definition.id, version=definition.version, source=log.source, cases=replay.cases,
        conforming=replay.cases - len(replay.deviating), open_cases=replay.open_cases,
        open_states=dict(sorted(replay.open_states.items(), key=lambda item: (-item[1], item[0]))), as_of=as_of,
        events=len(log), events_replayed=sum(step.entered is not None for step in steps),
        states_from=states.entered if states is not None else None, activity_states=dict(sorted(matched.items())),
        unmapped_activities=unnamed_counts if states is None else {},
        unknown_states=unnamed_counts if states is not None else {},
        unseen_states=[sid for sid in definition.states if sid not in seen], deviations=deviations,
        shared_resources=shared, approvals_unjudged=replay.unjudged, notes=notes)


def conform_versions(logs: Mapping[int, EventLog], definitions: Mapping[int, Definition], *, workflow: str,
                     source: str, as_of: datetime | None = None, states: StateColumns | None = None,
                     shared_resources: Iterable[str] = (), detect_shared: bool = True) -> VersionsReport:
    """Replay each version's cases against that version's definition: cases keep the rules they ran on.

    Args:
        logs: version -> the events of the cases on it.
        definitions: version -> its definition; every version of `logs` must have one.
        workflow, source: what the report names (the workflow, where the events came from).
        as_of, states, shared_resources, detect_shared: as for `conform`.

    Raises:
        KeyError: a version of `logs` has no definition (a caller's bug).
        LogFileError: `states.entered` is no column of a log.
    """
    shared = tuple(shared_resources)
    reports = [conform(logs[version], definitions[version], states=states, as_of=as_of, shared_resources=shared,
                       detect_shared=detect_shared) for version in sorted(logs)]
    return VersionsReport(workflow=workflow, source=source, as_of=as_of, reports=reports)


@dataclass(frozen=True)
class _Step:
    """What one event did, in the definition's terms."""

    entered: str | None   # the state the case moved into; None when the event moved nothing
    acted_in: str | None  # the state whose work its resource did
    unknown: str | None = None  # the activity or state it names that the definition lacks
    cancelled: bool = False  # the engine's move cancelling a branch (back to its parallel state)


def _matched_steps(activities: list[str], matched: Mapping[str, str]) -> list[_Step]:
    # An exported log records doing a step as one event named for it: its state is both entered and acted in.
    steps = {name: _Step(state, state) for name, state in matched.items()}
    return [steps.get(name) or _Step(None, None, unknown=name) for name in activities]


def _named_steps(table: pa.Table, definition: Definition, states: StateColumns, source: str) -> list[_Step]:
    if states.entered not in table.column_names:
        raise LogFileError(source, f"no {states.entered!r} column naming the state each event entered",
                           expected="events that name their states by id, such as the engine's own")
    entered = table.column(states.entered).cast(pa.string()).to_pylist()
    acted: list[str | None] = [None] * len(entered)
    for name in reversed(states.acted_in):  # the first column with a value wins
        if name in table.column_names:
            acted = [value if value is not None else earlier
                     for value, earlier in zip(table.column(name).cast(pa.string()).to_pylist(), acted, strict=True)]
    known = definition.states
    reasons = (table.column(Column.REASON).cast(pa.string()).to_pylist() if Column.REASON in table.column_names
               else [None] * len(entered))
    return [_Step(None, None, unknown=state) if state is not None and state not in known
            else _Step(state, actor_state if actor_state in known else None, cancelled=reason == BRANCH_CANCELLED)
            for state, actor_state, reason in zip(entered, acted, reasons, strict=True)]


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
    for sid, state in definition.states.items():
        # A branch starts beside its parallel state; a checklist item returns to its checklist.
        moves.setdefault(sid, set()).update(branch.start for branch in state.branch_specs().values())
        for item in state.items or () if state.kind is StateKind.CHECKLIST else ():
            moves.setdefault(item, set()).add(sid)
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
    """Return a log read as steps, as the map reads it, and how many events were folded into steps.

    A step logged as schedule, start and complete is one visit to its state (one activity
    instance, see `backoffice.events.instances`); its start, schedule or assignment events
    would otherwise read as moves of their own. Status words and logs with one event per step
    are returned whole.
    """
    steps = read_steps(log)
    folded = steps.events - len(steps.log)
    if not folded:
        return log, 0
    return steps.log.with_table(steps.log.table, note=f"read as steps, as map and draft read them: "
                                                     f"{steps.reading.note}"), folded


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

    def __init__(self, definition: Definition, shared: set[str], *, seen: set[str], exact: bool,
                 as_of: datetime | None) -> None:
        self.d = definition
        self.shared = shared
        self.exact = exact
        self.unknown_kind = DeviationKind.UNKNOWN_STATE if exact else DeviationKind.UNMAPPED_ACTIVITY
        self.as_of = as_of
        self.moves = allowed_moves(definition)
        self.approvals = frozenset(sid for sid, s in definition.states.items() if s.kind is StateKind.APPROVAL)
        self.separated = frozenset(a.state for a in definition.approvals if a.separation_of_duties)
        self.skips: dict[tuple[str, str], tuple[str, ...]] = {}
        self.intake = definition.intake_state
        self.openers = frozenset(sid for sid, s in definition.states.items() if s.kind.opens_branches)
        # A log that names its states records every end it reaches: none is passed silently, so a
        # running case is never taken for one closed at its last event.
        self.silent_ends = frozenset() if exact else frozenset(sid for sid in definition.end_states
                                                               if sid not in seen)
        self.paused = frozenset(definition.sla.pause_in) if definition.sla else frozenset()
        self.calendar = definition.business_calendar()
        self.limits = {clock: self.calendar.business_seconds(duration) for clock in SlaClock
                       if definition.sla and (duration := getattr(definition.sla, clock.value))}
        self.found: dict[tuple[DeviationKind, str], _Found] = {}
        self.deviating: set[str] = set()
        self.open_states: dict[str, int] = defaultdict(int)
        self.cases = self.open_cases = self.unjudged = 0

    def note(self, case_id: str, kind: DeviationKind, detail: str) -> None:
        found = self.found.setdefault((kind, detail), _Found())
        found.occurrences += 1
        found.case_ids[case_id] = None
        self.deviating.add(case_id)

    def case(self, case_id: str, steps: list[_Step], times: list[datetime], resources: list[str | None]) -> None:
        self.cases += 1
        resources = [resource or None for resource in resources]  # an empty name is no one in particular
        requester = resources[0]
        state, entered = self.intake, times[0]
        opener = None
        if steps and steps[0].acted_in in self.openers:
            # A branch's trace (the engine's CASE/BRANCH) starts in the parallel state that opened it.
            state = opener = steps[0].acted_in
        stays: list[tuple[str, datetime]] = [(state, entered)]
        actors: dict[str, set[str]] = defaultdict(set)
        for step, moment, resource in zip(steps, times, resources, strict=True):
            if step.unknown is not None:
                self.note(case_id, self.unknown_kind, step.unknown)
                if self.exact and step.unknown != state:
                    # The case really is there: it is open there, and its clocks run there.
                    state = step.unknown
                    stays.append((state, moment))
                continue
            if step.entered is not None and step.entered != state:
                if not (step.cancelled and step.entered == opener):
                    # A branch its join (or its case's end) cancelled goes back to its parallel state from
                    # wherever it stood: the engine's move, not the branch's own.
                    self.move(case_id, state, step.entered)
                state = step.entered
                stays.append((state, moment))
            if step.acted_in is None:
                continue
            if step.acted_in in self.separated:
                self.separation(case_id, step.acted_in, resource, requester, actors)
            if resource is not None:
                actors[step.acted_in].add(resource)
        self.sla(case_id, stays, times[-1], state)

    def move(self, case_id: str, source: str, target: str) -> None:
        if target in self.moves.get(source, ()) or source not in self.d.states:
            # The definition says nothing of moves from a state it lacks: that state was named already.
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
            self.open_states[state] += 1
            end = None
        # An open case read as of a moment has its clocks still running: late already is late.
        running_until = max(self.as_of, last) if self.as_of is not None else None
        started = stays[0][1]
        responded = next((moment for sid, moment in stays if sid != self.intake), None)
        for clock, until, kind in ((SlaClock.FIRST_RESPONSE, responded, DeviationKind.SLA_FIRST_RESPONSE),
                                   (SlaClock.RESOLUTION, end, DeviationKind.SLA_RESOLUTION)):
            if clock not in self.limits:
                continue
            over = f"over {getattr(self.d.sla, clock.value)} of business time"
            if until is not None:
                if self.business_time(stays, started, until) > self.limits[clock]:
                    self.note(case_id, kind, over)
            elif running_until is not None and self.business_time(stays, started, running_until) > self.limits[clock]:
                self.note(case_id, kind, f"{over}, still open")

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
