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
    Point,
    RouteShape,
    layout_map,
)
from backoffice.mapping.model import ProcessMap
from backoffice.mapping.svg_steps import (
    KIND_STYLE,
    SVG_NS,
    TIME_STATS,
    TimeStat,
    counted,
    draw_step,
    format_count,
    rework_cases,
    svg_element,
    svg_text,
)
from backoffice.mapping.text_width import fit_lines, text_width

__all__ = ["KIND_STYLE", "LEGEND_HEIGHT", "SVG_NS", "counted", "format_count", "render_svg", "rework_cases"]

Measure = Literal["frequency", "time"]
MEASURES: tuple[Measure, ...] = ("frequency", "time")
LEGEND_HEIGHT = 46.0

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
.process-map .edge.hot path, .process-map .edge.hot polygon { stroke: #d97706; fill: #d97706; }
.process-map .edge.hot path { fill: none; }
.process-map .edge-label.hot { fill: #b45309; text-decoration: underline; }
.process-map .edge path { fill: none; stroke-linecap: round; }
"""


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
    svg_element(root, "style").text = STYLE
    _legend(root)
    body = svg_element(root, "g", transform=f"translate(0 {LEGEND_HEIGHT:.0f})")
    _lanes(body, layout, process_map.lanes.value)
    ordered = sorted(range(len(layout.edges)), key=lambda i: layout.edges[i].count)  # thick on top of thin
    edges_group = svg_element(body, "g", {"class": "edges"})
    scales = {name: _Scale(layout.edges, value) for name, value in _measures().items()}
    for i in ordered:
        _edge(edges_group, layout.edges[i], layout, scales)
    nodes_group = svg_element(body, "g", {"class": "nodes"})
    badges = rework_cases(process_map)
    obstacles: list[Rect] = [Rect(0, 0, MARGIN + layout.label_width, layout.height)]
    # A label on an arrowhead hides where the path goes: keep the tips clear too.
    obstacles += [Rect(r.points[-1].x - 16, r.points[-1].y - 6, 32, 12) for r in layout.edges]
    for node in layout.nodes:
        obstacles.append(Rect(node.x, node.y, node.width, node.height))
        obstacles += draw_step(nodes_group, node, activities.get(node.activity or ""), process_map, badges)
    _edge_labels(svg_element(body, "g", {"class": "edge-labels"}), layout, obstacles)
    return etree.tostring(root, encoding="unicode")


def _legend(root: etree._Element) -> None:
    group = svg_element(root, "g", {"class": "legend", "transform": f"translate({MARGIN:.0f} 16)"})
    x = 0.0
    for fill, stroke, label in KIND_STYLE.values():
        svg_element(group, "rect", x=f"{x:.0f}", y="0", width="22", height="14", rx="3", fill=fill, stroke=stroke)
        svg_text(group, x + 28, 11.5, label, "legend")
        x += 28 + text_width(label, 12) + 18
    x += 8
    items = [("measure-frequency", FREQUENCY_RAMP, "Thicker, darker arrow = walked more often; labels count "
              "transitions")]
    items += [(f"measure-time stat-{stat}", TIME_RAMP, f"Thicker, redder arrow = more {STAT_WORDS[stat]} waiting; "
               f"labels show the {STAT_WORDS[stat]} wait; boxes the time at work")
              for stat in TIME_STATS]
    for css, ramp, text in items:
        item = svg_element(group, "g", {"class": css})
        for k, t in enumerate((0.15, 0.55, 1.0)):
            svg_element(item, "line", x1=f"{x + k * 14:.0f}", y1="7", x2=f"{x + k * 14 + 10:.0f}", y2="7",
                        stroke=_mix(ramp, t), **{"stroke-width": f"{1.5 + 5 * t:.1f}"})
        svg_text(item, x + 50, 11.5, text, "legend")


def _lanes(body: etree._Element, layout: MapLayout, lanes_by: str) -> None:
    group = svg_element(body, "g", {"class": "lanes"})
    for k, lane in enumerate(layout.lanes):
        shared = lane.key == SHARED_LANE
        band = svg_element(group, "g", {"class": "lane shared" if shared else "lane"})
        extra = {"stroke-dasharray": "6 4"} if shared else {}
        svg_element(band, "rect", x=f"{MARGIN:.0f}", y=f"{lane.y:.1f}", width=f"{layout.width - 2 * MARGIN:.0f}",
                    height=f"{lane.height:.1f}", fill="#fbf7ee" if shared else "#f7f9fc" if k % 2 == 0 else "#eef2f7",
                    stroke="#c9b68b" if shared else "#d5dce6", **extra)
        svg_element(band, "title").text = (f"Shared: steps no single {lanes_by} does 60% of; hover a step "
                                           f"for its split" if shared else f"{lanes_by}: {lane.label}")
        if layout.label_width < LANE_LABEL_WIDTH:  # no room for names: a map without lanes
            continue
        svg_element(band, "rect", x=f"{MARGIN:.0f}", y=f"{lane.y:.1f}", width=f"{LANE_LABEL_WIDTH:.0f}",
                    height=f"{lane.height:.1f}", fill="#f3ead6" if shared else "#e2e8f0" if k % 2 == 0 else "#d9e0ea",
                    stroke="#c9b68b" if shared else "#d5dce6", **extra)
        # A single word too long for the column (ADMINISTRATION) reads better smaller than cut.
        size = 13 if all(text_width(w, 13) <= LANE_LABEL_WIDTH - 24 for w in lane.label.split()) else 11
        lines = fit_lines(lane.label, LANE_LABEL_WIDTH - 24, size, lines=3)
        top = lane.y + lane.height / 2 - (len(lines) * 16) / 2 + 6
        svg_text(band, MARGIN + 12, top - 14, fit_lines(lanes_by, LANE_LABEL_WIDTH - 24, 10 * 1.1, lines=1)[0],
                 "lane-kind")
        for i, line in enumerate(lines):
            extra_style = {"style": f"font-size: {size}px"} if size != 13 else {}
            svg_text(band, MARGIN + 12, top + 12 + i * 16, line, "lane-label", **extra_style)
        if shared:
            svg_text(band, MARGIN + 12, top + 12 + len(lines) * 16, "none does 60%", "lane-kind")


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
    group = svg_element(parent, "g", {"class": f"edge {route.shape.value}", "data-source": route.source,
                                      "data-target": route.target})
    svg_element(group, "title").text = _edge_title(route, source, target)
    for css, scale in scales.items():
        t = scale(route)
        ramp = FREQUENCY_RAMP if css == "measure-frequency" else TIME_RAMP
        width = 1.2 + 7.0 * (t or 0.0)
        colour = _mix(ramp, t) if t is not None else "#c4cbd6"
        path, head = _curve(route.points, route.shape, width)
        attrib = {"class": css, "d": path, "stroke": colour, "stroke-width": f"{width:.2f}"}
        if t is None:
            attrib["stroke-dasharray"] = "4 4"
        svg_element(group, "path", attrib)
        svg_element(group, "polygon", {"class": css, "points": head, "fill": colour})


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
        # A path with no waiting to speak of gets no "0 s" label: the tooltip still says so.
        texts[f"measure-time stat-{stat}"] = [humanize(getattr(r.edge.wait, stat))
                                              if r.edge and getattr(r.edge.wait, stat) >= 1 else None
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
            svg_text(parent, label.x, label.baseline, label.text, f"edge-label {css}",
                     **{"text-anchor": "middle", "data-source": route.source, "data-target": route.target})


