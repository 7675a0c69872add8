"""analyze: an event log in, the whole as-is map out."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from backoffice.bulk import no_cycle_collection
from backoffice.errors import BadOption, EmptyLog
from backoffice.events import arrow_numpy
from backoffice.events.schema import ORDER, Column, EventLog
from backoffice.mapping import exceptions as exception_section
from backoffice.mapping import handoffs as handoff_section
from backoffice.mapping import paths, rework, sla, variants
from backoffice.mapping.beside import Beside, Done
from backoffice.mapping.durations import parse_duration
from backoffice.mapping.grouped import distinct_cases
from backoffice.events.instances import LifecycleMode, Steps, read_steps
from backoffice.mapping.flow import flow_efficiency
from backoffice.mapping.model import Edge, Filters, Lanes, ProcessMap, Reading, StepKind, StepKindShare, Summary
from backoffice.mapping.step_kinds import classify, is_service_account, load_step_kinds
from backoffice.mapping.workspace import Scope, Workspace, instant, open_workspace
from backoffice.wording import plural

# Past these, a map stops being readable: keep the most frequent and say so.
DEFAULT_MAX_ACTIVITIES = 150
DEFAULT_MAX_PATHS = 400
# Lanes are drawn by who is responsible (a role, a team, a system); a resource is a person,
# and lanes of people read as a list of names: only when asked.
LANE_PREFERENCE = (Lanes.ROLE, Lanes.GROUP, Lanes.SYSTEM)


def lane_columns_for(lanes: Lanes | str | None) -> list[str]:
    """The lane columns choose_lanes may pick from, in its order (read_log's `lane_columns`).

    Asked for lanes, it reads only their column (none for resources, always read); else
    the first of role, group and system with values.
    """
    if lanes is None:
        return [kind.value for kind in LANE_PREFERENCE]
    try:
        chosen = Lanes(lanes)
    except ValueError:
        return [kind.value for kind in LANE_PREFERENCE]  # choose_lanes names the mistake
    return [chosen.value] if chosen in LANE_PREFERENCE else []


def choose_lanes(log: EventLog, lanes: Lanes | str | None) -> tuple[Lanes, str | None, str]:
    """Pick the lane column: the one asked for, else the first of role, group and system with values.

    Returns:
        (the lane kind, the column to read or None for no lanes, which was used and why in words).
    """
    if lanes is not None:
        try:
            chosen = Lanes(lanes)
        except ValueError as exc:
            raise BadOption("--lanes", lanes, "one of role, resource, system, group") from exc
        if log.has_values(chosen.value):
            return chosen, chosen.value, f"{chosen.value}, as asked (--lanes {chosen.value})"
        return chosen, None, (f"no lanes: --lanes {chosen.value} was asked, but the log has no {chosen.value} "
                              f"values (no handoffs by {chosen.value})")
    for candidate in LANE_PREFERENCE:
        if log.has_values(candidate.value):
            passed = LANE_PREFERENCE[:LANE_PREFERENCE.index(candidate)]
            why = (f"the log has no {' or '.join(kind.value for kind in passed)}, and " if passed else "") + \
                  f"{candidate.value} comes first among role, group and system"
            return candidate, candidate.value, (f"{candidate.value}: {why}; resources make lanes only when asked "
                                                f"(--lanes resource)")
    if log.has_values(Lanes.RESOURCE.value):
        return Lanes.ROLE, None, ("no lanes: the log names no role, group or system; lanes of its resources "
                                  "(people) only when asked (--lanes resource)")
    return Lanes.ROLE, None, "no lanes: the log names no role, group, system or resource (no handoffs)"


def narrowed_for_map(log: EventLog, *, lanes: Lanes | str | None = None) -> EventLog:
    """The log as the map reads it: the lanes it will not draw left empty, and no file positions.

    The map reads the case, activity, time, resource, reason, lifecycle and start columns,
    one lane column and the attributes. It never reads the log's positions in its file (the
    log is in order already) nor the lane columns it does not draw: a caller that lets go
    of the whole log and maps this one frees them before the map's peak (15M events, role
    lanes: the system column and the positions, 180 MB). `analyze` chooses the same lanes
    on it: a lane column left empty is one it would not have chosen, and those it passes
    over on the way to its choice were empty already.
    """
    _, lane_column, _ = choose_lanes(log, lanes)
    table = log.table
    for kind in LANE_PREFERENCE:
        name = kind.value
        if name != lane_column and log.has_values(name):
            table = table.set_column(table.column_names.index(name), pa.field(name, pa.string()),
                                     arrow_numpy.missing_strings(table.num_rows))
    if ORDER in table.column_names:
        table = table.drop_columns([ORDER])
    return log.with_table(table)


# Past this many steps the directly-follows section runs before the others, not beside them,
# so that their temporaries do not add up: memory, not a second core, limits the largest logs.
# Since the sections walk the log a slice at a time, beside costs no more peak at 15M steps
# (952-1,088 MiB against 963-1,087, seven runs each) and saves 0.6-0.9 s of 5 s of wall.
SIDE_BY_SIDE_STEPS = 40_000_000


@no_cycle_collection()
def analyze(log: EventLog, *, lanes: Lanes | str | None = None, sla_target: str | None = None,
            sla_from: str | None = None, since: datetime | None = None, until: datetime | None = None,
            min_path_count: int = 1, variant_coverage: float | None = None, top_variants: int = 10,
            max_activities: int = DEFAULT_MAX_ACTIVITIES, max_paths: int = DEFAULT_MAX_PATHS,
            step_kinds: Path | str | dict[str, StepKind] | None = None,
            lifecycle: LifecycleMode | str = LifecycleMode.INSTANCES) -> ProcessMap:
    """Compute the as-is map of an event log.

    Args:
        log: the events (see `backoffice.read_log`).
        lanes: role, resource, system or group; None picks the first of role, group and
            system the log has values for (resources only when asked).
        sla_target: a cycle-time target such as "5d"; `sla_from` instead names a case
            attribute holding each case's deadline.
        since, until: keep the cases that started in [since, until).
        min_path_count: leave out of the map paths followed fewer times than this.
        variant_coverage: keep the most frequent variants that together cover this share of cases.
        top_variants: how many slowest variants to rank.
        max_activities, max_paths: past these, the map keeps the most frequent and says so.
        step_kinds: a YAML file (or a ready mapping) overriding the classification of activities.
        lifecycle: "instances" makes one step of each activity instance (lifecycle events
            paired, or a start and an end column); "events" one step of each event.

    Raises:
        BadOption: an option value that cannot be used.
        EmptyLog: no case is left after the filters.
    """
    if variant_coverage is not None and not 0 < variant_coverage <= 1:
        raise BadOption("--variant-coverage", variant_coverage, "a share between 0 and 1, such as 0.8")
    if min_path_count < 1:
        raise BadOption("--min-path-count", min_path_count, "a whole number of 1 or more")
    if sla_target and sla_from:
        raise BadOption("--sla", sla_target, "either --sla or --sla-from, not both")
    target_seconds = parse_duration(sla_target) if sla_target else None
    overrides = load_step_kinds(step_kinds) if isinstance(step_kinds, (str, Path)) else step_kinds

    lane_kind, lane_column, lane_choice = choose_lanes(log, lanes)
    notes = list(log.notes)
    steps = read_steps(log, lifecycle=lifecycle)
    ws = open_workspace(steps.log, lane_column=lane_column, step_start=steps.start, processing=steps.processing,
                        scope=Scope(since=since, until=until, variant_coverage=variant_coverage))
    notes += ws.notes
    cases, events = ws.cases, ws.events
    if not cases:
        raise EmptyLog(log.source, "no case is left after the filters (date range or variant coverage)")
    activity_count = int(np.count_nonzero(ws.activity_events))

    # numpy lets go of the GIL while it sorts, gathers and computes over large arrays, so
    # the costliest section runs beside the others, on a second core when there is one. It
    # only reads the workspace, whose shared arrays are made first. On very large logs it
    # runs first instead: its temporaries and the others' would add up at the peak (15M
    # events, when this was measured: 1.59 GiB one after the other, 1.82 GiB side by side,
    # the same CPU time).
    # The waits before each activity come from the directly-follows section (its waits by
    # path, merged by activity, spare sorting them again): the activities' facts are taken
    # once it is done, after the other sections on a small log, first on a large one.
    ws.prepare()
    edges_job = Done(paths.edges_and_waits(ws)) if events > SIDE_BY_SIDE_STEPS else Beside(paths.edges_and_waits, ws)
    try:
        reasons = exception_section.reasons_by_activity(ws) if log.has_values(Column.REASON) else {}
        repeat_cases = rework.repeat_cases(ws)

        def activity_facts():
            return paths.activity_facts(ws, repeat_cases=repeat_cases, reasons=reasons,
                                        waits_before=edges_job.result()[1])
        facts = activity_facts() if events > SIDE_BY_SIDE_STEPS else None
        all_handoffs = handoff_section.handoffs(ws)
        shares = paths.service_shares(ws, is_service_account)
        all_variants = variants.variants(ws)
        exceptions = (exception_section.exceptions(ws, column=Column.REASON.value)
                      if log.has_values(Column.REASON) else None)
        facts = facts if facts is not None else activity_facts()
        kinds = _kinds(facts, shares, overrides)
        all_edges = edges_job.result()[0]
    finally:
        edges_job.wait()  # a section that failed leaves no thread working on

    all_activities = paths.build_activities(facts, kinds)
    starts, ends = paths.start_and_end(ws, variants.cases_per_variant(ws))
    first, last = instant(ws.started.min()), instant(ws.ended.max())

    shown_activities, shown_edges, view_notes = _readable_view(all_activities, all_edges, min_path_count=min_path_count,
                                                               max_activities=max_activities, max_paths=max_paths)
    notes += view_notes
    summary = Summary(source=display_name(log.source), cases=cases, events=_events_in_scope(log, steps, ws),
                      steps=events,
                      activities=activity_count,
                      variants=len(all_variants), first_event=first, last_event=last,
                      start_activities=starts, end_activities=ends, skipped_rows=log.skipped_rows)
    if target_seconds is not None:
        sla_result = sla.sla_by_duration(ws, target_seconds=target_seconds, label=sla_target)
    elif sla_from:
        sla_result = sla.sla_by_deadline(ws, steps.log, attribute=sla_from)
    else:
        sla_result = None
    reading = steps.reading
    return ProcessMap(
        reading=Reading(mode=reading.mode, lifecycle=reading.lifecycle, timestamps=reading.timestamps,
                        note=reading.note),
        lanes=lane_kind, lane_choice=lane_choice, summary=summary, flow=flow_efficiency(ws),
        filters=Filters(since=since, until=until, min_path_count=min_path_count,
                        variant_coverage=variant_coverage, max_activities=max_activities),
        activities=shown_activities, edges=shown_edges, variants=all_variants,
        slowest_variants=variants.slowest(all_variants, top=top_variants),
        cycle_time=variants.cycle_time(ws),
        waiting_paths=paths.waiting_paths(all_edges), waiting_activities=paths.waiting_activities(all_activities),
        handoffs=all_handoffs, rework=rework.rework(ws), exceptions=exceptions, sla=sla_result,
        step_kinds=_step_kind_shares(ws, kinds, facts, cases), notes=notes)


def display_name(source: str) -> str:
    """The name a report shows for a log: a file's name, not the folders of the machine it was read on."""
    if not source or "://" in source or source.startswith("engine"):
        return source
    return Path(source).name or source


def _events_in_scope(log: EventLog, steps: Steps, ws: Workspace) -> int:
    """The events read for the cases in scope (more than their steps when instances were paired)."""
    if ws.events == len(steps.log):
        return steps.events
    if steps.events == len(steps.log):
        return ws.events
    kept = pa.array(ws.case_names(np.arange(ws.cases)), pa.string())
    return int(pc.sum(pc.is_in(log.table.column(Column.CASE_ID).cast(pa.string()), value_set=kept)).as_py() or 0)


def _kinds(facts: list[paths.ActivityFacts], service_share: dict[str, float],
           overrides: dict[str, StepKind] | None) -> dict[str, StepKind]:
    return {fact.name: classify(fact.name, lane=fact.lane, overrides=overrides,
                                service_share=service_share.get(fact.name))
            for fact in facts}


def _step_kind_shares(ws: Workspace, kinds: dict[str, StepKind], facts: list[paths.ActivityFacts],
                      cases: int) -> list[StepKindShare]:
    order = list(StepKind)
    kind_of_activity = np.array([order.index(kinds[name]) if name in kinds else 0 for name in ws.activities]
                                or [0], dtype=np.int64)
    # Which kinds a case goes through depends on its variant alone: count once per variant.
    kind = kind_of_activity[ws.activity[ws.trace_rows]]
    events = np.rint(np.bincount(kind, weights=ws.trace_weights, minlength=len(order))).astype(np.int64)
    touched = distinct_cases(ws.trace_starts, kind, len(order), weights=ws.variant_cases)
    waited = [0.0] * len(order)
    for fact in facts:
        if fact.wait_before is not None:
            waited[order.index(kinds[fact.name])] += fact.wait_before.total
    return [StepKindShare(kind=step_kind, activities=sorted(a for a, k in kinds.items() if k is step_kind),
                          events=int(events[index]), share_of_cases=touched[index] / cases if cases else 0.0,
                          wait_before=float(waited[index]))
            for index, step_kind in enumerate(order)]


def _readable_view(activities, edges: list[Edge], *, min_path_count: int, max_activities: int,
                   max_paths: int):
    """Keep what a person can read: frequent-enough paths between the most frequent activities."""
    notes = []
    kept_edges = [edge for edge in edges if edge.count >= min_path_count]
    if len(kept_edges) < len(edges):
        notes.append(f"left out {plural(len(edges) - len(kept_edges), 'path')} followed fewer than "
                     f"{plural(min_path_count, 'time')}")
    kept_activities = activities
    if len(activities) > max_activities:
        kept_activities = activities[:max_activities]
        names = {activity.name for activity in kept_activities}
        kept_edges = [edge for edge in kept_edges if edge.source in names and edge.target in names]
        notes.append(f"the log has {len(activities):,} activities: the map keeps the {max_activities} most "
                     f"frequent and the paths between them")
    if len(kept_edges) > max_paths:
        notes.append(f"the map keeps the {max_paths} most frequent of {plural(len(kept_edges), 'path')}")
        kept_edges = kept_edges[:max_paths]
    return kept_activities, kept_edges, notes
