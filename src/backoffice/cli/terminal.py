"""The map in the terminal: a few Rich tables a person can read at a glance."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from backoffice.mapping.durations import humanize
from backoffice.mapping.model import ProcessMap, StepKind

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
    for label, value in (("cases", f"{summary.cases:,}"), ("events", f"{summary.events:,}"),
                         ("activities", f"{summary.activities:,}"), ("variants", f"{summary.variants:,}"),
                         ("time span", span),
                         ("cycle time", f"median {humanize(stats.median)} · p90 {humanize(stats.p90)} · "
                                        f"max {humanize(stats.max)}"),
                         ("starts with", _top_counts(summary.start_activities)),
                         ("ends with", _top_counts(summary.end_activities)),
                         ("lanes", process_map.lanes.value)):
        overview.add_row(label, value)
    console.print(overview)

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
    console.print(f"[bold]Rework[/bold]: {rework.cases_affected:,} cases ({rework.share_of_cases:.1%}) repeat a step"
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
        for column in ("reason", "cases", "events", "resolved at"):
            reasons.add_column(column)
        for reason in process_map.exceptions.reasons[:top]:
            resolved = ", ".join(f"{step.activity} ({step.cases})" for step in reason.resolved_at[:2])
            reasons.add_row(reason.reason, f"{reason.cases:,}", f"{reason.events:,}", resolved)
        console.print(reasons)
    if process_map.sla:
        sla = process_map.sla
        console.print(f"[bold]SLA[/bold] {sla.target}: {sla.attainment:.1%} of {sla.cases_measured:,} cases within "
                      f"target; worst: " + ", ".join(f"{o.case_id} (+{humanize(o.over_by)})" for o in sla.worst[:3]))
    for note in process_map.notes:
        console.print(f"[yellow]note:[/yellow] {note}")


def _top_counts(counts, limit: int = 3) -> str:
    shown = ", ".join(f"{item.activity} ({item.cases:,})" for item in counts[:limit])
    return shown + (f" +{len(counts) - limit} more" if len(counts) > limit else "")
