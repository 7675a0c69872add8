"""The map in the terminal: a few Rich tables a person can read at a glance."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from backoffice.mapping.durations import humanize
from backoffice.mapping.exceptions import raised_at
from backoffice.mapping.model import ProcessMap, StepKind
from backoffice.wording import plural

KIND_LABEL = {StepKind.STRAIGHT_THROUGH: "straight-through", StepKind.HUMAN: "human work",
              StepKind.APPROVAL: "approval / control"}


def show_map(console: Console, process_map: ProcessMap, *, top: int = 10) -> None:
    """Print the summary, the busiest paths, the main variants, handoffs, rework and step kinds."""
    summary = process_map.summary
    overview = Table(title=f"As-is map of {summary.source}", show_header=False, title_justify="left")
    overview.add_column(style="bold")
    overview.add_column()
    span = (f"{summary.first_event:%Y-%m-%d} → {summary.last_event:%Y-%m-%d}"
            if summary.first_event and summary.last_event else "–")
    stats = process_map.cycle_time.stats
    reading = process_map.reading
    rows = [("cases", f"{summary.cases:,}"), ("events", f"{summary.events:,}"),
            ("steps", f"{summary.steps:,} ({_reading_label(process_map)})"),
            ("activities", f"{summary.activities:,}"), ("variants", f"{summary.variants:,}"),
            ("time span", span),
            ("cycle time", f"median {humanize(stats.median)} · p90 {humanize(stats.p90)} · max {humanize(stats.max)}")]
    flow = process_map.flow
    if flow is not None:
        rows.append(("flow efficiency", f"{flow.efficiency.overall:.1%} of case time is work (median case "
                                        f"{flow.efficiency.median:.1%}); active median {humanize(flow.active.median)}, "
                                        f"waiting median {humanize(flow.waiting.median)}"))
    rows += [("starts with", _top_counts(summary.start_activities)),
             ("ends with", _top_counts(summary.end_activities)),
             ("lanes", process_map.lane_choice or process_map.lanes.value),
             ("reading", reading.note)]
    for label, value in rows:
        overview.add_row(label, value)
    console.print(overview)

    if any(activity.processing for activity in process_map.activities):
        timed = Table(title="Processing time of steps (start to complete, suspensions left out)",
                      title_justify="left")
        for column in ("activity", "measured", "median", "p90", "total", "median wait before"):
            timed.add_column(column, justify="left" if column == "activity" else "right")
        measured = [activity for activity in process_map.activities if activity.processing]
        for activity in sorted(measured, key=lambda a: -a.processing.total)[:top]:
            timed.add_row(activity.name, f"{activity.processing.count:,}", humanize(activity.processing.median),
                          humanize(activity.processing.p90), humanize(activity.processing.total),
                          humanize(activity.wait_before.median if activity.wait_before else None))
        console.print(timed)

    busiest = Table(title=f"Busiest paths (of {len(process_map.edges):,} shown)", title_justify="left")
    for column in ("from", "to", "count", "median wait", "p90 wait"):
        busiest.add_column(column, justify="right" if "wait" in column or column == "count" else "left")
    for edge in process_map.edges[:top]:
        busiest.add_row(edge.source, edge.target, f"{edge.count:,}", humanize(edge.wait.median), humanize(edge.wait.p90))
    console.print(busiest)

    table = Table(title=f"Top variants (of {summary.variants:,})", title_justify="left")
    for column, justify in (("#", "right"), ("cases", "right"), ("share", "right"), ("median cycle", "right"),
                            ("steps", "left")):
        table.add_column(column, justify=justify)
    for variant in process_map.variants[:top]:
        steps = " → ".join(variant.activities)
        table.add_row(str(variant.rank), f"{variant.cases:,}", f"{variant.share:.1%}",
                      humanize(variant.cycle_time.median), steps if len(steps) < 160 else steps[:157] + "…")
    console.print(table)

    if process_map.handoffs:
        handoffs = Table(title=f"Handoffs between {process_map.lanes.value}s", title_justify="left")
        for column in ("from", "to", "count", "cases", "median wait"):
            handoffs.add_column(column)
        for handoff in process_map.handoffs[:top]:
            handoffs.add_row(handoff.from_lane, handoff.to_lane, f"{handoff.count:,}", f"{handoff.cases:,}",
                             humanize(handoff.wait.median))
        console.print(handoffs)

    rework = process_map.rework
    console.print(f"[bold]Rework[/bold]: {plural(rework.cases_affected, 'case')} ({rework.share_of_cases:.1%}) "
                  f"{'repeats' if rework.cases_affected == 1 else 'repeat'} a step"
                  + (f"; they take {humanize(rework.added_time)} longer at the median" if rework.added_time else ""))
    kinds = Table(title="Step kinds: what could run straight through", title_justify="left")
    for column in ("kind", "activities", "events", "cases touched", "share of waiting"):
        kinds.add_column(column)
    all_waiting = sum(share.wait_before for share in process_map.step_kinds) or 1.0
    for share in process_map.step_kinds:
        kinds.add_row(KIND_LABEL[share.kind], str(len(share.activities)), f"{share.events:,}",
                      f"{share.share_of_cases:.1%}", f"{share.wait_before / all_waiting:.0%}")
    console.print(kinds)
    if process_map.exceptions:
        reasons = Table(title="Exceptions by reason", title_justify="left")
        for column in ("reason", "cases", "events", "raised at", "resolved at"):
            reasons.add_column(column)
        raised = raised_at(process_map)
        for reason in process_map.exceptions.reasons[:top]:
            resolved = ", ".join(f"{step.activity} ({step.cases})" for step in reason.resolved_at[:2])
            where = ", ".join(f"{name} ({cases:,})" for name, cases in raised.get(reason.reason, [])[:2])
            reasons.add_row(reason.reason, f"{reason.cases:,}", f"{reason.events:,}", where, resolved)
        console.print(reasons)
    if process_map.sla:
        sla = process_map.sla
        console.print(f"[bold]SLA[/bold] {sla.target}: {sla.attainment:.1%} of {plural(sla.cases_measured, 'case')} "
                      f"within "
                      f"target; worst: " + ", ".join(f"{o.case_id} (+{humanize(o.over_by)})" for o in sla.worst[:3]))
    for note in process_map.notes:
        console.print(f"[yellow]note:[/yellow] {note}")


def _reading_label(process_map: ProcessMap) -> str:
    reading = process_map.reading
    if reading.mode == "instances" and reading.lifecycle == "standard XES lifecycle" \
            and reading.timestamps == "one per step" and process_map.summary.steps == process_map.summary.events:
        return "one per event: every event completes a step"
    if reading.mode == "events":
        return "one per event"
    if reading.lifecycle == "standard XES lifecycle":
        return "one per activity instance"
    if reading.lifecycle == "start and end columns":
        return "one per row, with a start and an end"
    if reading.lifecycle == "status words":
        return "one per event: the lifecycle holds status words"
    return "one per event"


def _top_counts(counts, limit: int = 3) -> str:
    shown = ", ".join(f"{item.activity} ({item.cases:,})" for item in counts[:limit])
    return shown + (f" +{len(counts) - limit} more" if len(counts) > limit else "")
