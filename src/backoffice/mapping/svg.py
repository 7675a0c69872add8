"""Draw the swimlane map as one self-contained SVG, with every measure in it.

Every path is drawn once per measure: by how often it is walked (`measure-frequency`),
and by how long work waits on it (`measure-time`), in total, on average and at the median
(`stat-total`, `stat-mean`, `stat-median`). The root's classes (`show-frequency` or
`show-time`, and `time-total`, `time-mean` or `time-median`) decide which set shows, so
a page switches measures by changing a class, without redrawing. Labels are placed per
measure where they touch no box and no other label (see labels.py). Text goes through
lxml, which escapes it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

from lxml import etree

from backoffice.errors import BadOption
from backoffice.mapping.durations import humanize
from backoffice.mapping.labels import PlacedLabel, Rect, place_labels
from backoffice.mapping.layout import (
    LANE_LABEL_WIDTH,
    MARGIN,
    SHARED_LANE,
    EdgeRoute,
    MapLayout,
    NodeBox,
    NodeKind,
    Point,
    RouteShape,
    layout_map,
)
from backoffice.mapping.model import Activity, DurationStats, ProcessMap, StepKind
from backoffice.mapping.text_width import fit_lines, text_width

Measure = Literal["frequency", "time"]
TimeStat = Literal["total", "mean", "median"]
MEASURES: tuple[Measure, ...] = ("frequency", "time")
TIME_STATS: tuple[TimeStat, ...] = ("total", "mean", "median")
SVG_NS = "http://www.w3.org/2000/svg"
LEGEND_HEIGHT = 46.0
NAME_SIZE = 12.0
VALUE_SIZE = 11.0
BADGE_SIZE = 10.0
BADGE_HEIGHT = 14.0
NAME_LINE_STEP = 14.5
TEXT_INSET = 12.0  # from a box's left edge to its text, past the kind stripe

KIND_STYLE = {  # fill, stroke, legend
    StepKind.STRAIGHT_THROUGH: ("#e3f4e8", "#2f855a", "Straight-through (system)"),
    StepKind.HUMAN: ("#e6eefb", "#2c5fa8", "Human work"),
    StepKind.APPROVAL: ("#fdf0d8", "#b7791f", "Approval"),
}
# Light to dark: how often a path is walked, then how long work waits on it.
FREQUENCY_RAMP = ((176, 190, 207), (26, 54, 93))
TIME_RAMP = ((240, 196, 150), (155, 28, 28))
STAT_WORDS = {"total": "total", "mean": "mean", "median": "median"}

STYLE = """
.process-map { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
.process-map.show-frequency .measure-time, .process-map.show-time .measure-frequency { display: none; }
.process-map.time-total .stat-mean, .process-map.time-total .stat-median,
.process-map.time-mean .stat-total, .process-map.time-mean .stat-median,
.process-map.time-median .stat-total, .process-map.time-median .stat-mean { display: none; }
.process-map .lane-label { font-size: 13px; font-weight: 600; fill: #2d3748; }
.process-map .lane-kind { font-size: 10px; letter-spacing: .08em; fill: #718096; text-transform: uppercase; }
.process-map .node-name { font-size: 12px; font-weight: 600; fill: #1a202c; }
.process-map .node-value { font-size: 11px; fill: #4a5568; }
.process-map .edge-label { font-size: 11px; font-weight: 600; paint-order: stroke; stroke: #ffffff;
  stroke-width: 3.5px; stroke-linejoin: round; }
.process-map .edge-label.measure-frequency { fill: #1a365d; }
.process-map .edge-label.measure-time { fill: #9b1c1c; }
.process-map .badge-text { font-size: 10px; font-weight: 700; fill: #ffffff; }
.process-map .badge.rework rect { fill: #6b46c1; }
.process-map .badge.exception rect { fill: #c05621; }
.process-map .legend { font-size: 12px; fill: #2d3748; }
.process-map .edge:hover path { stroke-opacity: 1; }
.process-map .edge path { fill: none; stroke-linecap: round; }
"""


def format_count(count: int) -> str:
    """Return a count with thousands separators: 1234 -> "1,234"."""
    return f"{count:,}"


def counted(count: int, noun: str) -> str:
    """Return a count and its noun, singular for one: "1 case", "1,234 cases"."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def render_svg(process_map: ProcessMap, layout: MapLayout | None = None, *,
               measure: Measure = "frequency", time_stat: TimeStat = "total") -> str:
    """Render the swimlane map as an inline SVG string, with no external references.

    Args:
        process_map: the as-is map.
        layout: a layout of that map; None lays it out with every path the map holds.
        measure: which measure shows first, "frequency" or "time"; all are in the SVG.
        time_stat: which waiting the time measure shows first: "total", "mean" or "median".

    Returns:
        An `<svg>` element as text, its root classed `process-map show-<measure> time-<stat>`.

    Raises:
        BadOption: measure is neither "frequency" nor "time", or time_stat is not a statistic named above.
    """
    if measure not in MEASURES:
        raise BadOption("--measure", measure, "frequency or time")
    if time_stat not in TIME_STATS:
        raise BadOption("--time-stat", time_stat, "total, mean or median")
    layout = layout or layout_map(process_map)
    activities = {a.name: a for a in process_map.activities}
    width, height = layout.width, layout.height + LEGEND_HEIGHT
    root = etree.Element(f"{{{SVG_NS}}}svg", nsmap={None: SVG_NS}, attrib={
        "class": f"process-map show-{measure} time-{time_stat}", "viewBox": f"0 0 {width:.0f} {height:.0f}",
        "width": f"{width:.0f}", "height": f"{height:.0f}", "role": "img",
        "aria-label": f"Process map of {process_map.summary.source}: {len(layout.nodes) - 2} activities "
                      f"in {len(layout.lanes)} lanes"})
    _sub(root, "style").text = STYLE
    _legend(root)
    body = _sub(root, "g", transform=f"translate(0 {LEGEND_HEIGHT:.0f})")
    _lanes(body, layout, process_map.lanes.value)
    ordered = sorted(range(len(layout.edges)), key=lambda i: layout.edges[i].count)  # thick on top of thin
    edges_group = _sub(body, "g", {"class": "edges"})
    scales = {name: _Scale(layout.edges, value) for name, value in _measures().items()}
    for i in ordered:
        _edge(edges_group, layout.edges[i], layout, scales)
    nodes_group = _sub(body, "g", {"class": "nodes"})
    badges = rework_cases(process_map)
    obstacles: list[Rect] = [Rect(0, 0, MARGIN + layout.label_width, layout.height)]
    # A label on an arrowhead hides where the path goes: keep the tips clear too.
    obstacles += [Rect(r.points[-1].x - 16, r.points[-1].y - 6, 32, 12) for r in layout.edges]
    for node in layout.nodes:
        obstacles.append(Rect(node.x, node.y, node.width, node.height))
        obstacles += _node(nodes_group, node, activities.get(node.activity or ""), process_map, badges)
    _edge_labels(_sub(body, "g", {"class": "edge-labels"}), layout, obstacles)
    return etree.tostring(root, encoding="unicode")


def rework_cases(process_map: ProcessMap) -> dict[str, int]:
    """Return, per activity, how many cases did it more than once.

    Taken from the activity itself when the analysis gives it (`rework_cases`), else from
    the map's table of repeated activities.
    """
    from_table = {item.activity: item.cases for item in process_map.rework.repeated_activities}
    result = {}
    for activity in process_map.activities:
        cases = getattr(activity, "rework_cases", None)
        result[activity.name] = from_table.get(activity.name, 0) if cases is None else cases
    return result


def _sub(parent: etree._Element, tag: str, attrib: dict[str, str] | None = None, **extra: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{SVG_NS}}}{tag}", attrib={**(attrib or {}), **extra})


def _text(parent: etree._Element, x: float, y: float, text: str, css: str, **extra: str) -> etree._Element:
    element = _sub(parent, "text", {"x": f"{x:.1f}", "y": f"{y:.1f}", "class": css}, **extra)
    element.text = text
    return element


def _legend(root: etree._Element) -> None:
    group = _sub(root, "g", {"class": "legend", "transform": f"translate({MARGIN:.0f} 16)"})
    x = 0.0
    for fill, stroke, label in KIND_STYLE.values():
        _sub(group, "rect", x=f"{x:.0f}", y="0", width="22", height="14", rx="3", fill=fill, stroke=stroke)
        _text(group, x + 28, 11.5, label, "legend")
        x += 28 + text_width(label, 12) + 18
    x += 8
    items = [("measure-frequency", FREQUENCY_RAMP, "Thicker, darker arrow = walked more often; labels count "
              "transitions")]
    items += [(f"measure-time stat-{stat}", TIME_RAMP, f"Thicker, redder arrow = more {STAT_WORDS[stat]} waiting; "
               f"labels show the {STAT_WORDS[stat]} wait; boxes the time at work")
              for stat in TIME_STATS]
    for css, ramp, text in items:
        item = _sub(group, "g", {"class": css})
        for k, t in enumerate((0.15, 0.55, 1.0)):
            _sub(item, "line", x1=f"{x + k * 14:.0f}", y1="7", x2=f"{x + k * 14 + 10:.0f}", y2="7",
                 stroke=_mix(ramp, t), **{"stroke-width": f"{1.5 + 5 * t:.1f}"})
        _text(item, x + 50, 11.5, text, "legend")


def _lanes(body: etree._Element, layout: MapLayout, lanes_by: str) -> None:
    group = _sub(body, "g", {"class": "lanes"})
    for k, lane in enumerate(layout.lanes):
        shared = lane.key == SHARED_LANE
        band = _sub(group, "g", {"class": "lane shared" if shared else "lane"})
        extra = {"stroke-dasharray": "6 4"} if shared else {}
        _sub(band, "rect", x=f"{MARGIN:.0f}", y=f"{lane.y:.1f}", width=f"{layout.width - 2 * MARGIN:.0f}",
             height=f"{lane.height:.1f}", fill="#fbf7ee" if shared else "#f7f9fc" if k % 2 == 0 else "#eef2f7",
             stroke="#c9b68b" if shared else "#d5dce6", **extra)
        _sub(band, "title").text = (f"Shared: activities that no single {lanes_by} does most of; hover a step "
                                    f"for its split" if shared else f"{lanes_by}: {lane.label}")
        if layout.label_width < LANE_LABEL_WIDTH:  # no room for names: a map without lanes
            continue
        _sub(band, "rect", x=f"{MARGIN:.0f}", y=f"{lane.y:.1f}", width=f"{LANE_LABEL_WIDTH:.0f}",
             height=f"{lane.height:.1f}", fill="#f3ead6" if shared else "#e2e8f0" if k % 2 == 0 else "#d9e0ea",
             stroke="#c9b68b" if shared else "#d5dce6", **extra)
        # A single word too long for the column (ADMINISTRATION) reads better smaller than cut.
        size = 13 if all(text_width(w, 13) <= LANE_LABEL_WIDTH - 24 for w in lane.label.split()) else 11
        lines = fit_lines(lane.label, LANE_LABEL_WIDTH - 24, size, lines=3)
        top = lane.y + lane.height / 2 - (len(lines) * 16) / 2 + 6
        kind = f"no {lanes_by} does most" if shared else lanes_by
        _text(band, MARGIN + 12, top - 14, fit_lines(kind, LANE_LABEL_WIDTH - 24, 10 * 1.1, lines=1)[0], "lane-kind")
        for i, line in enumerate(lines):
            extra_style = {"style": f"font-size: {size}px"} if size != 13 else {}
            _text(band, MARGIN + 12, top + 12 + i * 16, line, "lane-label", **extra_style)


def _measures() -> dict[str, Callable[[EdgeRoute], float | None]]:
    """Each measure's value of a route, by the class suffix it is drawn under."""
    return {
        "measure-frequency": lambda r: float(r.count),
        "measure-time stat-total": lambda r: r.edge.wait.total if r.edge else None,
        "measure-time stat-mean": lambda r: r.edge.wait.mean if r.edge else None,
        "measure-time stat-median": lambda r: r.edge.wait.median if r.edge else None,
    }


class _Scale:
    """Map a route's value to a position 0..1 on a ramp: the square root of its share of the largest.

    The square root keeps rare paths visible next to a dominant one without letting them
    look important.
    """

    def __init__(self, routes: tuple[EdgeRoute, ...], value: Callable[[EdgeRoute], float | None]) -> None:
        self.value = value
        self.largest = max((value(r) or 0.0 for r in routes), default=0.0) or 1.0

    def __call__(self, route: EdgeRoute) -> float | None:
        value = self.value(route)
        return None if value is None else math.sqrt(max(value, 0.0) / self.largest)


def _mix(ramp: tuple[tuple[int, int, int], tuple[int, int, int]], t: float) -> str:
    low, high = ramp
    r, g, b = (round(a + (z - a) * t) for a, z in zip(low, high, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def _edge(parent: etree._Element, route: EdgeRoute, layout: MapLayout, scales: dict[str, _Scale]) -> None:
    source, target = layout.node_by_id(route.source), layout.node_by_id(route.target)
    group = _sub(parent, "g", {"class": f"edge {route.shape.value}", "data-source": route.source,
                               "data-target": route.target})
    _sub(group, "title").text = _edge_title(route, source, target)
    for css, scale in scales.items():
        t = scale(route)
        ramp = FREQUENCY_RAMP if css == "measure-frequency" else TIME_RAMP
        width = 1.2 + 7.0 * (t or 0.0)
        colour = _mix(ramp, t) if t is not None else "#c4cbd6"
        path, head = _curve(route.points, route.shape, width)
        attrib = {"class": css, "d": path, "stroke": colour, "stroke-width": f"{width:.2f}"}
        if t is None:
            attrib["stroke-dasharray"] = "4 4"
        _sub(group, "path", attrib)
        _sub(group, "polygon", {"class": css, "points": head, "fill": colour})


def _edge_title(route: EdgeRoute, source: NodeBox, target: NodeBox) -> str:
    start = source.activity or "start"
    end = target.activity or "end"
    if route.edge is None:
        return f"{start} → {end}: {counted(route.count, 'case')}"
    edge = route.edge
    wait = edge.wait
    text = (f"{start} → {end}: {counted(edge.count, 'time')} in {counted(edge.cases, 'case')}\n"
            f"waiting: {humanize(wait.total)} in total, mean {humanize(wait.mean)}, median {humanize(wait.median)}, "
            f"p90 {humanize(wait.p90)}, longest {humanize(wait.max)}")
    if edge.handoffs:
        text += f"\n{counted(edge.handoffs, 'handoff')}"
    return text


def _curve(points: tuple[Point, ...], shape: RouteShape, width: float) -> tuple[str, str]:
    """Return an SVG path through the points and the arrowhead polygon at its end.

    Each segment is a cubic curve with horizontal tangents, which reads as flow from
    left to right; the path stops short of the end so the arrowhead covers the tip.
    """
    length, half = 6.0 + width * 0.9, 3.5 + width * 0.6
    tip = points[-1]
    if shape is RouteShape.SELF_LOOP:
        p0, p1, p2, _ = points
        base = Point(tip.x, tip.y - length)
        path = f"M{p0.x:.1f},{p0.y:.1f} C{p1.x:.1f},{p1.y:.1f} {p2.x:.1f},{p2.y:.1f} {base.x:.1f},{base.y:.1f}"
        head = (f"{tip.x:.1f},{tip.y:.1f} {tip.x - half:.1f},{base.y:.1f} {tip.x + half:.1f},{base.y:.1f}")
        return path, head
    direction = 1.0 if tip.x >= points[-2].x else -1.0
    base = Point(tip.x - direction * length, tip.y)
    ends = (*points[:-1], base)
    parts = [f"M{ends[0].x:.1f},{ends[0].y:.1f}"]
    for a, b in zip(ends, ends[1:]):
        dx = (b.x - a.x) / 2
        parts.append(f"C{a.x + dx:.1f},{a.y:.1f} {b.x - dx:.1f},{b.y:.1f} {b.x:.1f},{b.y:.1f}")
    head = (f"{tip.x:.1f},{tip.y:.1f} {base.x:.1f},{tip.y - half:.1f} {base.x:.1f},{tip.y + half:.1f}")
    return " ".join(parts), head


def edge_label_texts(layout: MapLayout) -> dict[str, list[str | None]]:
    """Return each measure's label for every route, by the classes it is drawn under."""
    texts: dict[str, list[str | None]] = {"measure-frequency": [format_count(r.count) for r in layout.edges]}
    for stat in TIME_STATS:
        texts[f"measure-time stat-{stat}"] = [humanize(getattr(r.edge.wait, stat)) if r.edge else None
                                              for r in layout.edges]
    return texts


def place_edge_labels(layout: MapLayout, obstacles: list[Rect]) -> dict[str, dict[int, PlacedLabel]]:
    """Place every measure's labels, each measure on its own since only one shows at a time."""
    values = _measures()
    bounds = Rect(0, 0, layout.width, layout.height)
    placed = {}
    for css, texts in edge_label_texts(layout).items():
        priority = [values[css](r) or 0.0 for r in layout.edges]
        placed[css] = place_labels(layout.edges, texts, priority, obstacles, bounds=bounds)
    return placed


def _edge_labels(parent: etree._Element, layout: MapLayout, obstacles: list[Rect]) -> None:
    for css, labels in place_edge_labels(layout, obstacles).items():
        for i in sorted(labels):
            label = labels[i]
            route = layout.edges[i]
            _text(parent, label.x, label.baseline, label.text, f"edge-label {css}",
                  **{"text-anchor": "middle", "data-source": route.source, "data-target": route.target})


def _stat_text(stats: DurationStats | None, stat: TimeStat) -> str | None:
    return None if stats is None or not stats.count else humanize(getattr(stats, stat))


def _node(parent: etree._Element, node: NodeBox, activity: Activity | None, process_map: ProcessMap,
          rework: dict[str, int]) -> list[Rect]:
    """Draw a box and return the rectangles of the badges drawn under it."""
    if activity is None:
        _terminal(parent, node, process_map)
        return []
    fill, stroke, kind_label = KIND_STYLE[activity.kind]
    shared = bool(getattr(activity, "shared", False))
    css = f"node kind-{activity.kind.value}" + (" shared" if shared else "")
    group = _sub(parent, "g", {"class": css, "data-id": node.id})
    _sub(group, "title").text = _node_title(activity, kind_label, process_map.lanes.value, rework)
    outline = {"stroke-dasharray": "5 3"} if shared else {}
    _sub(group, "rect", x=f"{node.x:.1f}", y=f"{node.y:.1f}", width=f"{node.width:.0f}",
         height=f"{node.height:.0f}", rx="7", fill=fill, stroke=stroke, **{"stroke-width": "1.5"}, **outline)
    _sub(group, "rect", x=f"{node.x:.1f}", y=f"{node.y:.1f}", width="5", height=f"{node.height:.0f}",
         rx="2", fill=stroke)
    room = node.width - TEXT_INSET - 8
    lines = fit_lines(activity.name, room, NAME_SIZE, lines=3)
    first = node.y + {1: 24.0, 2: 19.0, 3: 15.0}[len(lines)]
    for i, line in enumerate(lines):
        _text(group, node.x + TEXT_INSET, first + i * NAME_LINE_STEP, line, "node-name")
    bottom = node.y + node.height - 8
    volume = counted(activity.events, "time")  # events, or activity instances: how often it happened
    with_cases = f"{volume} · {counted(activity.cases, 'case')}"
    if activity.cases != activity.events and text_width(with_cases, VALUE_SIZE) <= room:
        volume = with_cases
    _text(group, node.x + TEXT_INSET, bottom, fit_lines(volume, room, VALUE_SIZE, lines=1)[0],
          "node-value measure-frequency")
    processing = getattr(activity, "processing", None)
    for stat in TIME_STATS:
        worked = _stat_text(processing, stat)
        waited = _stat_text(activity.wait_before, stat)
        # The statistic is named in the box: a total of 1.3 y must not read as one case's wait.
        if worked is not None:
            text = f"{stat} work {worked}"
        elif waited is not None:
            text = f"{stat} wait {waited}"  # before the step; the tooltip says so
        else:
            text = "no wait before it"  # a first step, with no time at work recorded
        _text(group, node.x + TEXT_INSET, bottom, fit_lines(text, room, VALUE_SIZE, lines=1)[0],
              f"node-value measure-time stat-{stat}")
    return _badges(group, node, activity, rework.get(activity.name, 0))


def _node_title(activity: Activity, kind_label: str, lanes_by: str, rework: dict[str, int]) -> str:
    lines = [activity.name, f"{kind_label}; {lanes_by}: {_lane_text(activity)}",
             f"{counted(activity.events, 'time')} in {counted(activity.cases, 'case')}"
             + (f"; repeated {counted(activity.repeats, 'time')}" if activity.repeats else "")]
    split = getattr(activity, "lane_split", None) or []
    if split:
        lines.append("done by: " + ", ".join(f"{share.lane} {share.share * 100:.0f}% ({format_count(share.events)})"
                                            for share in split[:8])
                     + (f" and {len(split) - 8} more" if len(split) > 8 else ""))
    processing = getattr(activity, "processing", None)
    if processing is not None and processing.count:
        lines.append(f"time at work: median {humanize(processing.median)}, mean {humanize(processing.mean)}, "
                     f"p90 {humanize(processing.p90)}, {humanize(processing.total)} in total")
    wait = activity.wait_before
    if wait is not None and wait.count:
        lines.append(f"waiting before: median {humanize(wait.median)}, mean {humanize(wait.mean)}, "
                     f"{humanize(wait.total)} in total")
    if rework.get(activity.name):
        lines.append(f"rework: {counted(rework[activity.name], 'case')} did this step more than once")
    for reason in getattr(activity, "exception_reasons", None) or []:
        lines.append(f"exception “{reason.reason}”: {counted(reason.cases, 'case')}, "
                     f"{counted(reason.events, 'event')}")
    return "\n".join(lines)


def _lane_text(activity: Activity) -> str:
    if getattr(activity, "shared", False):
        return "shared, no single one does most of it"
    return activity.lane or "unassigned"


def _badges(group: etree._Element, node: NodeBox, activity: Activity, rework: int) -> list[Rect]:
    """Mark rework and exceptions just under the box's left corner; return where the badges sit."""
    marks = []
    if rework:
        marks.append(("rework", f"↻ {format_count(rework)}",
                      f"Rework: {counted(rework, 'case')} did “{activity.name}” more than once"))
    reasons = getattr(activity, "exception_reasons", None) or []
    if reasons:
        cases = sum(r.cases for r in reasons)
        detail = "\n".join(f"{r.reason}: {counted(r.cases, 'case')}, {counted(r.events, 'event')}"
                           for r in reasons[:10])
        more = f"\nand {len(reasons) - 10} more reasons" if len(reasons) > 10 else ""
        marks.append(("exception", f"! {format_count(cases)}",
                      f"Exceptions at “{activity.name}” ({len(reasons)} reasons):\n{detail}{more}"))
    rects = []
    x, y = node.x + 8, node.y + node.height + 2
    for css, label, title in marks:
        width = text_width(label, BADGE_SIZE) + 10
        badge = _sub(group, "g", {"class": f"badge {css}"})
        _sub(badge, "title").text = title
        _sub(badge, "rect", x=f"{x:.1f}", y=f"{y:.1f}", width=f"{width:.1f}", height=f"{BADGE_HEIGHT:.0f}", rx="7")
        _text(badge, x + 5, y + 10.5, label, "badge-text")
        rects.append(Rect(x, y, width, BADGE_HEIGHT))
        x += width + 4
    return rects


def _terminal(parent: etree._Element, node: NodeBox, process_map: ProcessMap) -> None:
    is_start = node.kind is NodeKind.START
    counts = process_map.summary.start_activities if is_start else process_map.summary.end_activities
    group = _sub(parent, "g", {"class": f"node {node.kind.value}", "data-id": node.id})
    _sub(group, "title").text = (f"{'Start' if is_start else 'End'}: "
                                 f"{counted(sum(c.cases for c in counts), 'case')}")
    c = node.center
    _sub(group, "circle", cx=f"{c.x:.1f}", cy=f"{c.y:.1f}", r=f"{node.width / 2:.1f}",
         fill="#2f855a" if is_start else "#4a5568")
    if is_start:
        _sub(group, "polygon", points=f"{c.x - 4:.1f},{c.y - 7:.1f} {c.x - 4:.1f},{c.y + 7:.1f} {c.x + 7:.1f},{c.y:.1f}",
             fill="#ffffff")
    else:
        _sub(group, "rect", x=f"{c.x - 6:.1f}", y=f"{c.y - 6:.1f}", width="12", height="12", fill="#ffffff")
