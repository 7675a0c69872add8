"""The dashboard's figures as charts: titles, descriptions, series and colours that say what they mean."""

from __future__ import annotations

from datetime import datetime

from backoffice.definitions.model import Metric
from backoffice.ops.chart_data import ChartData, ChartKind, Series, Tone
from backoffice.ops.dashboard import Dashboard
from backoffice.ops.workload import PersonLoad

MAX_ROWS = 15
"""Rows a bar chart draws (the busiest); the table and the CSV list them all."""
MAX_REASONS = 6
"""Reasons the trend draws as lines (the most raised); more lines than this no one can tell apart."""


def dashboard_charts(dashboard: Dashboard) -> list[ChartData]:
    """Return every chart of the dashboard, in the order the page shows them."""
    return [backlog_chart(dashboard), age_chart(dashboard), *sla_charts(dashboard), throughput_chart(dashboard),
            time_in_state_chart(dashboard), exceptions_open_chart(dashboard), exceptions_chart(dashboard),
            work_in_progress_chart(dashboard)]


def week_labels(weeks: list[datetime]) -> list[str]:
    """Return each week as its Monday (4 Mar), with the year when the weeks span more than one."""
    years = {week.year for week in weeks}
    return [f"{week.day} {week:%b}" + (f" {week:%y}" if len(years) > 1 else "") for week in weeks]


def _count(value: float) -> str:
    return f"{value:,.0f}"


def _percent(value: float) -> str:
    return f"{value:.0f}%"


def _trimmed(categories: list[str], what: str, most: str) -> str | None:
    return f"The chart shows the {MAX_ROWS} {what} with the most {most} of {len(categories)}; the table lists all." \
        if len(categories) > MAX_ROWS else None


def backlog_chart(dashboard: Dashboard) -> ChartData:
    backlog, titles = dashboard.backlog, dashboard.scope.state_titles()
    queues = backlog.queues()
    states = [s for s in dashboard.scope.state_order() if s in backlog.by_state()]
    states += sorted(set(backlog.by_state()) - set(states))
    cells = {(c.queue, c.state): c.cases for c in backlog.cells}
    series = [Series(titles.get(state, state), [float(cells.get((q, state), 0)) for q in queues]) for state in states]
    by_state = ", ".join(f"{titles.get(s, s)} {n:,}" for s, n in backlog.by_state().items())
    return ChartData(
        key="backlog", title="Backlog by queue and state", kind=ChartKind.STACKED_BARS, category_label="Queue",
        description=(f"{backlog.total:,} open case{'s' if backlog.total != 1 else ''} in {len(queues)} "
                     f"queue{'s' if len(queues) != 1 else ''}" + (f": {by_state}." if by_state else "."))
        if backlog.total else "No open cases.",
        categories=queues, series=series, drawn_rows=MAX_ROWS,
        value_label="open cases", value_format=_count, note=_trimmed(queues, "queues", "open cases"),
        extra=[Series("Total", [float(sum(s.values[k] for s in series)) for k in range(len(queues))])]
        if len(series) > 1 else [])


def age_chart(dashboard: Dashboard) -> ChartData:
    ages = dashboard.ages
    oldest = next((bucket.label for bucket in reversed(ages) if bucket.cases), None)
    return ChartData(
        key="age", title="Age of open cases", kind=ChartKind.BARS, category_label="Age since intake",
        description=(f"{sum(b.cases for b in ages):,} open cases by time since intake; the oldest are "
                     f"{oldest}.") if oldest else "No open cases.",
        categories=[b.label for b in ages], series=[Series("Open cases", [float(b.cases) for b in ages], Tone.MAIN)],
        value_label="open cases", value_format=_count)


def _sla_target(dashboard: Dashboard) -> float | None:
    """Return the attainment the latest definition's monitoring expects (below: alert), in percent."""
    latest = dashboard.scope.definitions[max(dashboard.scope.definitions)]
    return next((100 * e.below for e in latest.monitoring
                 if e.metric is Metric.SLA_ATTAINMENT and isinstance(e.below, float)), None)


def sla_charts(dashboard: Dashboard) -> list[ChartData]:
    """Return the attainment of every SLA clock as lines by week, and each clock's misses as red columns."""
    if not dashboard.sla:
        return []
    weeks = week_labels(dashboard.scope.window.weeks)
    target = _sla_target(dashboard)
    shares = [Series(f"{a.clock.label} ({a.target})",
                     [None if w.share is None else 100 * w.share for w in a.weeks]) for a in dashboard.sla]
    summary = "; ".join(f"{a.clock.label.lower()} within {a.target}: {a.met:,} of {a.cases:,}"
                        + (f" ({100 * a.met / a.cases:.0f}%)" if a.cases else "") for a in dashboard.sla)
    extra = [Series(f"{a.clock.label} {word}", [float(getattr(w, attr)) for w in a.weeks])
             for a in dashboard.sla for word, attr in (("met", "met"), ("missed", "missed"))]
    attainment = ChartData(
        key="sla", title="SLA attainment by week", kind=ChartKind.LINES, category_label="Week starting",
        description=f"Share of cases whose SLA clock stopped within the SLA, week by week: {summary}. "
                    f"A week with no case has no point.",
        categories=weeks, series=shares, value_label="% within SLA", value_format=_percent, value_max=100.0,
        extra=extra, reference=(target, f"target {target:.0f}%") if target else None)
    missed = ChartData(
        key="sla-missed", title=f"{dashboard.sla[-1].clock.label} SLA met and missed by week",
        kind=ChartKind.STACKED_COLUMNS,
        category_label="Week starting",
        description="Cases whose resolution clock stopped each week, met and missed (in red): "
                    + "; ".join(f"{w}: {a.met} met, {a.missed} missed" for w, a in
                                zip(weeks, dashboard.sla[-1].weeks, strict=True) if a.cases) + ".",
        categories=weeks, value_label="cases", value_format=_count,
        series=[Series(f"{dashboard.sla[-1].clock.label} met", [float(w.met) for w in dashboard.sla[-1].weeks],
                       Tone.MAIN),
                Series(f"{dashboard.sla[-1].clock.label} missed", [float(w.missed) for w in dashboard.sla[-1].weeks],
                       Tone.BREACH)])
    return [attainment, missed]


def throughput_chart(dashboard: Dashboard) -> ChartData:
    flows = dashboard.throughput
    started, completed = sum(w.started for w in flows), sum(w.completed for w in flows)
    return ChartData(
        key="throughput", title="Throughput by week", kind=ChartKind.LINES, category_label="Week starting",
        description=f"Cases started and cases that reached an end, week by week: {started:,} started and "
                    f"{completed:,} ended in the window.",
        categories=week_labels([w.week for w in flows]), value_label="cases", value_format=_count,
        series=[Series("Started", [float(w.started) for w in flows]),
                Series("Ended", [float(w.completed) for w in flows])])


def _duration_unit(longest: float) -> tuple[str, float]:
    if longest < 2 * 3600:
        return "minutes", 60.0
    if longest < 72 * 3600:
        return "hours", 3600.0
    return "days", 86400.0


def _duration_value(value: float) -> str:
    # 0.5 days reads as such; 12.3 days as 12: a tenth of a day is noise at that length.
    return f"{value:,.0f}" if value >= 10 or float(value).is_integer() else f"{value:,.1f}"


def time_in_state_chart(dashboard: Dashboard) -> ChartData:
    times, titles = dashboard.time_in_state, dashboard.scope.state_titles()
    unit, seconds = _duration_unit(max((t.p90_seconds for t in times), default=0.0))
    longest = max(times, key=lambda t: t.median_seconds, default=None)
    return ChartData(
        key="time-in-state", title="Time in state", kind=ChartKind.BARS, category_label="State",
        description=(f"Median and 90th percentile of the stays that began in the window and ended, in {unit} of "
                     f"calendar time; the longest median is in {titles.get(longest.state, longest.state)}, "
                     f"{longest.median_seconds / seconds:.1f} {unit}.") if longest else "No stay ended in the window.",
        categories=[titles.get(t.state, t.state) for t in times], value_label=unit,
        value_format=_duration_value,
        series=[Series(f"Median ({unit})", [t.median_seconds / seconds for t in times]),
                Series(f"90th percentile ({unit})", [t.p90_seconds / seconds for t in times])],
        extra=[Series("Stays", [float(t.stays) for t in times])])


def exceptions_chart(dashboard: Dashboard) -> ChartData:
    trends = dashboard.exceptions
    weeks = week_labels(dashboard.scope.window.weeks)
    return ChartData(
        key="exceptions", title="Exceptions by reason, week by week", kind=ChartKind.LINES,
        category_label="Week starting",
        description=("Exceptions raised each week by reason code: "
                     + "; ".join(f"{t.reason} {t.raised:,} raised, {t.open_now:,} open now" for t in trends) + ".")
        if trends else "No exception raised in the window, and none open.",
        categories=weeks, value_label="exceptions raised", value_format=_count,
        series=[Series(t.reason, [float(v) for v in t.weekly]) for t in trends], drawn_series=MAX_REASONS,
        note=f"The chart draws the {MAX_REASONS} most raised of {len(trends)} reasons; the table lists all."
        if len(trends) > MAX_REASONS else None)


def exceptions_open_chart(dashboard: Dashboard) -> ChartData:
    trends = dashboard.exceptions
    return ChartData(
        key="exceptions-by-reason", title="Exceptions by reason", kind=ChartKind.BARS, category_label="Reason",
        description=("Exceptions by reason code: " + "; ".join(f"{t.reason} {t.raised:,} raised in the window, "
                                                               f"{t.open_now:,} open now" for t in trends) + ".")
        if trends else "No exception raised in the window, and none open.",
        categories=[t.reason for t in trends], drawn_rows=MAX_ROWS, note=_trimmed(trends, "reasons", "exceptions"),
        value_label="exceptions", value_format=_count,
        series=[Series("Raised in the window", [float(t.raised) for t in trends]),
                Series("Open now", [float(t.open_now) for t in trends])])


def work_in_progress_chart(dashboard: Dashboard) -> ChartData:
    loads = dashboard.work_in_progress
    overdue = sum(p.overdue for p in loads)
    return ChartData(
        key="work-in-progress", title="Work in progress per person", kind=ChartKind.STACKED_BARS,
        category_label="Person",
        description=(f"Open tasks {len(loads):,} people hold (claimed or assigned to them): "
                     f"{sum(p.tasks for p in loads):,} tasks, {overdue:,} past due (in red).") if loads
        else "Nobody holds an open task.",
        categories=_person_labels(loads), drawn_rows=MAX_ROWS,
        value_label="open tasks", value_format=_count,
        series=[Series("On time", [float(p.on_time) for p in loads], Tone.MAIN),
                Series("Past due", [float(p.overdue) for p in loads], Tone.BREACH)],
        note=_trimmed(loads, "people", "open tasks"))


def _person_labels(loads: list[PersonLoad]) -> list[str]:
    """Return each person's name, with their id where two share a name."""
    names = [load.name for load in loads]
    return [load.name if names.count(load.name) == 1 else f"{load.name} ({load.person})" for load in loads]
