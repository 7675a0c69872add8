"""Write the as-is map as one self-contained HTML page that works offline.

Everything is inline: the swimlane SVGs, the charts, the CSS and a small hand-written
script for the map's detail sliders, measure switch, pan and zoom. Jinja2 escapes every
value; the only markup passed through unescaped is SVG that lxml built (and escaped) itself.

The detail sliders switch between maps drawn here, one per level, each laid out on its
own: a layout made for 10 activities reads better than 150 activities' layout with most
of it hidden, and laying out on the server keeps one tested layout and label placement
for the page, the SVG and the BPMN alike, with no layout library shipped to the browser.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from backoffice.mapping.detail import DetailLevels, detail_levels, few_enough_paths, readable_level
from backoffice.mapping.layout import LANE_LABEL_WIDTH, layout_map
from backoffice.mapping.model import ProcessMap, StepKind, TimeSink, Variant
from backoffice.mapping.durations import humanize
from backoffice.mapping.exceptions import raised_at
from backoffice.mapping.svg import KIND_STYLE, LEGEND_HEIGHT, format_count, render_svg, rework_cases

TOP_VARIANTS = 10
# The page's map is narrower than the SVG export's: more steps fit a screen at a legible zoom.
MAP_NODE_WIDTH = 140.0
MAP_LAYER_GAP = 76.0
KIND_EXPLAINED = {
    StepKind.STRAIGHT_THROUGH: "done by systems or service accounts: could run without anyone touching it",
    StepKind.HUMAN: "done by people: candidates for simplification or automation",
    StepKind.APPROVAL: "decisions: check whether each one needs a person",
}


@dataclass(frozen=True)
class DrawnLevel:
    """One position of the detail sliders, drawn."""

    key: str  # "a-p": activity step and path step
    activities: int
    paths: int
    few_paths: bool  # few enough paths to open at (see detail.few_enough_paths)
    svg: Markup
    width: float
    height: float


@dataclass(frozen=True)
class DetailControl:
    """The drawn levels and where the sliders start."""

    levels: tuple[DrawnLevel, ...]
    activity_steps: int
    path_steps: int
    start: DrawnLevel
    total_activities: int
    total_paths: int


@dataclass(frozen=True)
class HistogramBar:
    """One bin of the cycle-time histogram, placed in the chart's coordinates."""

    x: float
    y: float
    width: float
    height: float
    cases: int
    label: str


@dataclass(frozen=True)
class Histogram:
    width: float
    height: float
    baseline: float
    bars: tuple[HistogramBar, ...]
    ticks: tuple[tuple[float, str], ...]  # x and label under the axis
    markers: tuple[tuple[float, str], ...]  # x and label of the median and p90 lines
    max_cases: int


def render_html(process_map: ProcessMap) -> str:
    """Render the whole as-is map as one HTML page with no external references.

    Args:
        process_map: the as-is map.

    Returns:
        The page as text: summary, findings, the swimlane map with a Frequency/Time switch,
        step kinds, cycle times, waiting, variants, handoffs, rework, exceptions and SLA.
    """
    environment = Environment(loader=PackageLoader("backoffice.mapping", "templates"), autoescape=True,
                              undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    environment.filters.update(duration=humanize, number=format_count, percent=_percent,
                               day=_day)
    template = environment.get_template("report.html.j2")
    detail = draw_levels(detail_levels(process_map))
    return template.render(
        map=process_map,
        has_lanes=any(activity.lane for activity in process_map.activities),
        summary=process_map.summary,
        reading=_optional_text(getattr(process_map, "reading", None)),
        lane_choice=_optional_text(getattr(process_map, "lane_choice", None)),
        detail=detail,
        level_positions=[{"key": level.key, "activities": level.activities, "paths": level.paths,
                          "width": round(level.width), "height": round(level.height), "fewPaths": level.few_paths}
                         for level in detail.levels],
        has_exception_marks=any(getattr(a, "exception_reasons", None) for a in process_map.activities),
        has_rework_marks=any(rework_cases(process_map).values()),
        findings=_findings(process_map),
        kinds=[(share, KIND_STYLE[share.kind], KIND_EXPLAINED[share.kind]) for share in process_map.step_kinds],
        kind_events=max(sum(share.events for share in process_map.step_kinds), 1),
        kind_wait=sum(share.wait_before for share in process_map.step_kinds) or 1.0,
        histogram=_histogram(process_map),
        top_variants=process_map.variants[:TOP_VARIANTS],
        all_variants=process_map.variants,
        raised_at=raised_at(process_map),
        processed=sorted((activity for activity in process_map.activities if activity.processing),
                         key=lambda activity: -activity.processing.total),
        slowest=_slowest(process_map),
        max_variant_share=max((v.share for v in process_map.variants), default=1.0) or 1.0,
        waiting_paths=_sink_bars(process_map.waiting_paths),
        waiting_activities=_sink_bars(process_map.waiting_activities),
        time_span=_time_span(process_map),
    )


def draw_levels(levels: DetailLevels) -> DetailControl:
    """Lay out and draw every level of the detail sliders; start at the richest that reads on a screen.

    Levels that keep the same activities and paths are drawn once and share a key.
    """
    drawn: dict[tuple[frozenset[str], frozenset[tuple[str, str]]], DrawnLevel] = {}
    by_position: list[DrawnLevel] = []
    sizes = {}
    for row in levels.levels:
        for level in row:
            content = (frozenset(a.name for a in level.map.activities),
                       frozenset((e.source, e.target) for e in level.map.edges))
            if content not in drawn:
                lanes = any(a.lane or getattr(a, "shared", False) for a in level.map.activities)
                layout = layout_map(level.map, node_width=MAP_NODE_WIDTH, layer_gap=MAP_LAYER_GAP,
                                    label_width=LANE_LABEL_WIDTH if lanes else 0.0)
                svg = render_svg(level.map, layout)
                root_height = layout.height + LEGEND_HEIGHT
                drawn[content] = DrawnLevel(key=f"{level.activity_step}-{level.path_step}",
                                            activities=level.activities, paths=level.paths,
                                            few_paths=few_enough_paths(level, levels),
                                            svg=Markup(svg),  # built and escaped by lxml
                                            width=layout.width, height=root_height)
            by_position.append(drawn[content])
            sizes[level.activity_step, level.path_step] = (drawn[content].width, drawn[content].height)
    path_steps = len(levels.path_shares)
    a, p = readable_level(levels, sizes)
    return DetailControl(levels=tuple(by_position), activity_steps=len(levels.levels), path_steps=path_steps,
                         start=by_position[a * path_steps + p], total_activities=levels.total_activities,
                         total_paths=levels.total_paths)


def _optional_text(value: object) -> str | None:
    """Say in words a field the analysis may or may not give: None or empty, text, or a model with a `note`."""
    if value is None:
        return None
    text = str(value.note if hasattr(value, "note") else getattr(value, "value", value)).strip()
    return text or None


def _percent(share: float | None, digits: int = 0) -> str:
    """A share as a percentage; small non-zero shares keep a decimal so they never read as 0%."""
    if share is None:
        return "–"
    if 0 < share * 100 < 10 and digits == 0:
        digits = 1
    return f"{share * 100:.{digits}f}%"


def _day(moment: datetime | None) -> str:
    return "–" if moment is None else moment.strftime("%-d %b %Y")


def _time_span(process_map: ProcessMap) -> str:
    first, last = process_map.summary.first_event, process_map.summary.last_event
    if first is None or last is None:
        return "–"
    return humanize((last - first).total_seconds())


def _slowest(process_map: ProcessMap) -> list[Variant]:
    by_rank = {v.rank: v for v in process_map.variants}
    return [by_rank[rank] for rank in process_map.slowest_variants if rank in by_rank]


def _sink_bars(sinks: list[TimeSink]) -> list[tuple[TimeSink, float]]:
    """Pair each place of waiting with its bar length, relative to the largest."""
    largest = max((s.total_wait for s in sinks), default=0.0) or 1.0
    return [(sink, sink.total_wait / largest) for sink in sinks]


def _findings(process_map: ProcessMap) -> list[str]:
    """Say in plain sentences what the map shows, so nobody needs the tables to get it."""
    findings = []
    if process_map.variants:
        top = process_map.variants[0]
        findings.append(f"The most common path, {len(top.activities)} steps long, is followed by "
                        f"{_percent(top.share)} of cases ({format_count(top.cases)}); "
                        f"{format_count(process_map.summary.variants)} different paths in all.")
    stats = process_map.cycle_time.stats
    if stats.count:
        findings.append(f"A case takes {humanize(stats.median)} from first to last step "
                        f"(median); one in ten takes more than {humanize(stats.p90)}.")
    flow = process_map.flow
    if flow is not None and flow.efficiency.count:
        findings.append(f"Work is done in {_percent(flow.efficiency.overall)} of the cases' time; the rest is "
                        f"waiting (median case: {humanize(flow.active.median)} of work, "
                        f"{humanize(flow.waiting.median)} waiting).")
    if process_map.waiting_paths:
        sink = process_map.waiting_paths[0]
        each = f", {humanize(sink.total_wait / sink.count)} each on average" if sink.count else ""
        findings.append(f"Most waiting happens between “{sink.source or 'start'}” and “{sink.target}”: "
                        f"{humanize(sink.total_wait)} in total over {format_count(sink.count)} "
                        f"steps{each}.")
    if process_map.rework.cases_affected:
        added = process_map.rework.added_time
        findings.append(f"{_percent(process_map.rework.share_of_cases)} of cases repeat a step"
                        + (f", which adds a median {humanize(added)}." if added and added > 0 else "."))
    if process_map.handoffs:
        total = sum(h.count for h in process_map.handoffs)
        findings.append(f"Work changes hands {format_count(total)} times between "
                        f"{process_map.lanes.value}s.")
    if process_map.sla is not None:
        findings.append(f"{_percent(process_map.sla.attainment)} of cases meet the {process_map.sla.target} target.")
    straight = next((k for k in process_map.step_kinds if k.kind is StepKind.STRAIGHT_THROUGH), None)
    total_events = sum(k.events for k in process_map.step_kinds)
    if straight is not None and total_events:
        findings.append(f"{_percent(straight.events / total_events)} of the work already runs straight "
                        f"through systems.")
    return findings


def _histogram(process_map: ProcessMap, *, width: float = 720, height: float = 220) -> Histogram:
    """Place the cycle-time bins as equal-width bars, with humanised edges and the median and p90 marked.

    Bars are drawn by position, not to scale, because the analysis gathers the long tail
    into one last, wider bin; to scale, that bin would squash all the others.
    """
    bins = process_map.cycle_time.histogram
    left, right, top, bottom = 40.0, 12.0, 14.0, 34.0
    plot_width, plot_height = width - left - right, height - top - bottom
    most = max((cases for _, _, cases in bins), default=0) or 1
    slot = plot_width / max(len(bins), 1)

    def x_of(seconds: float) -> float:
        for i, (start, end, _) in enumerate(bins):
            if start <= seconds <= end:
                return left + (i + (seconds - start) / ((end - start) or 1.0)) * slot
        return left + plot_width

    bars = []
    for i, (start, end, cases) in enumerate(bins):
        bar_height = cases / most * plot_height
        bars.append(HistogramBar(x=left + i * slot + 1, y=top + plot_height - bar_height, width=max(slot - 2, 1),
                                 height=bar_height, cases=cases,
                                 label=f"{humanize(start)} – {humanize(end)}: "
                                       f"{format_count(cases)} {'case' if cases == 1 else 'cases'}"))
    step = max(round(len(bins) / 6), 1)
    ticks = [(left + i * slot, humanize(bins[i][0])) for i in range(0, len(bins), step)]
    if bins:
        tail = bins[-1][1] - bins[-1][0] > 1.5 * (bins[0][1] - bins[0][0])
        # A last bin holding the long tail is labelled under its bar; its tooltip gives the real end.
        last = ((left + plot_width - slot / 2, f"≥ {humanize(bins[-1][0])}") if tail
                else (left + plot_width, humanize(bins[-1][1])))
        ticks = [t for t in ticks if last[0] - t[0] >= 56] + [last]
    stats = process_map.cycle_time.stats
    markers = [(x_of(value), f"{name} {humanize(value)}")
               for name, value in (("median", stats.median), ("p90", stats.p90))
               if bins and stats.count and bins[0][0] <= value <= bins[-1][1]]
    return Histogram(width=width, height=height, baseline=top + plot_height, bars=tuple(bars),
                     ticks=tuple(ticks), markers=tuple(markers), max_cases=most)
