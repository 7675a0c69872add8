"""Draw the swimlane map as one self-contained SVG, with both measures in it.

Every path is drawn twice, once weighted by how often it is walked and once by how long
work waits on it, with classes `measure-frequency` and `measure-time`. The root's class
(`show-frequency` or `show-time`) decides which set shows, so a page can switch measures
by changing one class, without redrawing. Text goes through lxml, which escapes it.
"""

from __future__ import annotations

import math
from typing import Literal

from lxml import etree

from backoffice.errors import BadOption
from backoffice.mapping.layout import (
    LANE_LABEL_WIDTH,
    MARGIN,
    EdgeRoute,
    MapLayout,
    NodeBox,
    NodeKind,
    Point,
    RouteShape,
    layout_map,
)
from backoffice.mapping.durations import humanize
from backoffice.mapping.model import Activity, ProcessMap, StepKind

Measure = Literal["frequency", "time"]
MEASURES: tuple[Measure, ...] = ("frequency", "time")
SVG_NS = "http://www.w3.org/2000/svg"
LEGEND_HEIGHT = 46.0
CHAR_WIDTH = 7.0  # average width of a bold 12px lowercase character or digit, for wrapping without metrics
VALUE_CHAR_WIDTH = 6.0  # the same at 11px

KIND_STYLE = {  # fill, stroke, legend
    StepKind.STRAIGHT_THROUGH: ("#e3f4e8", "#2f855a", "Straight-through (system)"),
    StepKind.HUMAN: ("#e6eefb", "#2c5fa8", "Human work"),
    StepKind.APPROVAL: ("#fdf0d8", "#b7791f", "Approval"),
}
# Light to dark: how often a path is walked, then how long work waits on it.
FREQUENCY_RAMP = ((176, 190, 207), (26, 54, 93))
TIME_RAMP = ((240, 196, 150), (155, 28, 28))

STYLE = """
.process-map { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
.process-map.show-frequency .measure-time, .process-map.show-time .measure-frequency { display: none; }
.process-map .lane-label { font-size: 13px; font-weight: 600; fill: #2d3748; }
.process-map .lane-kind { font-size: 10px; letter-spacing: .08em; fill: #718096; text-transform: uppercase; }
.process-map .node-name { font-size: 12px; font-weight: 600; fill: #1a202c; }
.process-map .node-value { font-size: 11px; fill: #4a5568; }
.process-map .edge-label { font-size: 11px; font-weight: 600; paint-order: stroke; stroke: #ffffff;
  stroke-width: 3.5px; stroke-linejoin: round; }
.process-map .edge-label.measure-frequency { fill: #1a365d; }
.process-map .edge-label.measure-time { fill: #9b1c1c; }
.process-map .legend { font-size: 12px; fill: #2d3748; }
.process-map .edge:hover path { stroke-opacity: 1; }
.process-map .edge path { fill: none; stroke-linecap: round; }
"""


def format_count(count: int) -> str:
    """Return a count with thousands separators: 1234 -> "1,234"."""
    return f"{count:,}"


def render_svg(process_map: ProcessMap, layout: MapLayout | None = None, *,
               measure: Measure = "frequency") -> str:
    """Render the swimlane map as an inline SVG string, with no external references.

    Args:
        process_map: the as-is map.
        layout: a layout of that map; None lays it out with every path the map holds.
        measure: which measure shows first, "frequency" or "time"; both are in the SVG.

    Returns:
        An `<svg>` element as text, its root classed `process-map show-<measure>`.

    Raises:
        BadOption: measure is neither "frequency" nor "time".
    """
    if measure not in MEASURES:
        raise BadOption("--measure", measure, "frequency or time")
    layout = layout or layout_map(process_map)
    activities = {a.name: a for a in process_map.activities}
    width, height = layout.width, layout.height + LEGEND_HEIGHT
    root = etree.Element(f"{{{SVG_NS}}}svg", nsmap={None: SVG_NS}, attrib={
        "class": f"process-map show-{measure}", "viewBox": f"0 0 {width:.0f} {height:.0f}",
        "width": f"{width:.0f}", "height": f"{height:.0f}", "role": "img",
        "aria-label": f"Process map of {process_map.summary.source}: {len(layout.nodes) - 2} activities "
                      f"in {len(layout.lanes)} lanes"})
    _sub(root, "style").text = STYLE
    _legend(root, process_map)
    body = _sub(root, "g", transform=f"translate(0 {LEGEND_HEIGHT:.0f})")
    _lanes(body, layout, process_map.lanes.value)
    scale = _EdgeScale(layout.edges)
    ordered = sorted(layout.edges, key=lambda r: r.count)  # thick paths on top of thin ones
    edges_group = _sub(body, "g", {"class": "edges"})
    for route in ordered:
        _edge(edges_group, route, layout, scale)
    nodes_group = _sub(body, "g", {"class": "nodes"})
    for node in layout.nodes:
        _node(nodes_group, node, activities.get(node.activity or ""), process_map)
    labels = _sub(body, "g", {"class": "edge-labels"})
    for route in ordered:
        _edge_labels(labels, route)
    return etree.tostring(root, encoding="unicode")


def _sub(parent: etree._Element, tag: str, attrib: dict[str, str] | None = None, **extra: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{SVG_NS}}}{tag}", attrib={**(attrib or {}), **extra})


def _text(parent: etree._Element, x: float, y: float, text: str, css: str, **extra: str) -> etree._Element:
    element = _sub(parent, "text", {"x": f"{x:.1f}", "y": f"{y:.1f}", "class": css}, **extra)
    element.text = text
    return element


def _text_width(text: str) -> float:
    """Estimate the width of bold 12px sans-serif text; capitals are wider than the rest."""
    return sum(8.8 if c.isupper() else 3.6 if c in " .,:;'|il" else CHAR_WIDTH for c in text)


def _wrap(text: str, width: float, *, lines: int = 2) -> list[str]:
    """Split text into at most `lines` lines that fit `width` pixels, ending in … if cut."""
    words, result, current = text.split(), [], ""
    for word in words:
        candidate = f"{current} {word}".strip()
        if _text_width(candidate) <= width or not current:
            current = candidate
        else:
            result.append(current)
            current = word
    result.append(current)
    result = [_clip(line, width) for line in result]
    if len(result) > lines:
        result = result[:lines]
        result[-1] = _clip(result[-1], width, cut=True)
    return result


def _clip(line: str, width: float, *, cut: bool = False) -> str:
    """Return line if it fits (and was not cut short), else as much as fits followed by …."""
    if not cut and _text_width(line) <= width:
        return line
    line = line.removesuffix("…")
    while line and _text_width(line + "…") > width:
        line = line[:-1]
    return line.rstrip() + "…"


def _legend(root: etree._Element, process_map: ProcessMap) -> None:
    group = _sub(root, "g", {"class": "legend", "transform": f"translate({MARGIN:.0f} 16)"})
    x = 0.0
    for kind, (fill, stroke, label) in KIND_STYLE.items():
        _sub(group, "rect", x=f"{x:.0f}", y="0", width="22", height="14", rx="3", fill=fill, stroke=stroke)
        _text(group, x + 28, 11.5, label, "legend")
        x += 44 + len(label) * CHAR_WIDTH
    x += 12
    for css, ramp, text in (("measure-frequency", FREQUENCY_RAMP, "Thicker, darker arrow = walked more often; "
                             "labels count transitions"),
                            ("measure-time", TIME_RAMP, "Thicker, redder arrow = longer median wait; "
                             "labels show the median wait")):
        item = _sub(group, "g", {"class": css})
        for k, t in enumerate((0.15, 0.55, 1.0)):
            _sub(item, "line", x1=f"{x + k * 14:.0f}", y1="7", x2=f"{x + k * 14 + 10:.0f}", y2="7",
                 stroke=_mix(ramp, t), **{"stroke-width": f"{1.5 + 5 * t:.1f}"})
        _text(item, x + 50, 11.5, text, "legend")


def _lanes(body: etree._Element, layout: MapLayout, lanes_by: str) -> None:
    group = _sub(body, "g", {"class": "lanes"})
    for k, lane in enumerate(layout.lanes):
        band = _sub(group, "g", {"class": "lane"})
        _sub(band, "rect", x=f"{MARGIN:.0f}", y=f"{lane.y:.1f}", width=f"{layout.width - 2 * MARGIN:.0f}",
             height=f"{lane.height:.1f}", fill="#f7f9fc" if k % 2 == 0 else "#eef2f7", stroke="#d5dce6")
        _sub(band, "rect", x=f"{MARGIN:.0f}", y=f"{lane.y:.1f}", width=f"{LANE_LABEL_WIDTH:.0f}",
             height=f"{lane.height:.1f}", fill="#e2e8f0" if k % 2 == 0 else "#d9e0ea", stroke="#d5dce6")
        lines = _wrap(lane.label, LANE_LABEL_WIDTH - 24, lines=3)
        top = lane.y + lane.height / 2 - (len(lines) * 16) / 2 + 6
        _text(band, MARGIN + 12, top - 14, lanes_by, "lane-kind")
        for i, line in enumerate(lines):
            _text(band, MARGIN + 12, top + 12 + i * 16, line, "lane-label")
        _sub(band, "title").text = f"{lanes_by}: {lane.label}"


class _EdgeScale:
    """Map a path's count and median wait to a position 0..1 on the ramps.

    Square roots keep the rare paths visible next to a dominant one.
    """

    def __init__(self, routes: tuple[EdgeRoute, ...]) -> None:
        self.max_count = max((r.count for r in routes), default=1) or 1
        self.max_wait = max((r.edge.wait.median for r in routes if r.edge), default=0.0) or 1.0

    def frequency(self, route: EdgeRoute) -> float:
        return math.sqrt(max(route.count, 0) / self.max_count)

    def time(self, route: EdgeRoute) -> float | None:
        return math.sqrt(max(route.edge.wait.median, 0) / self.max_wait) if route.edge else None


def _mix(ramp: tuple[tuple[int, int, int], tuple[int, int, int]], t: float) -> str:
    low, high = ramp
    r, g, b = (round(a + (z - a) * t) for a, z in zip(low, high, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def _edge(parent: etree._Element, route: EdgeRoute, layout: MapLayout, scale: _EdgeScale) -> None:
    source, target = layout.node_by_id(route.source), layout.node_by_id(route.target)
    group = _sub(parent, "g", {"class": f"edge {route.shape.value}", "data-source": route.source,
                               "data-target": route.target})
    _sub(group, "title").text = _edge_title(route, source, target)
    time_t = scale.time(route)
    for css, t, ramp in (("measure-frequency", scale.frequency(route), FREQUENCY_RAMP),
                         ("measure-time", time_t, TIME_RAMP)):
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
        return f"{start} → {end}: {format_count(route.count)} cases"
    edge = route.edge
    text = (f"{start} → {end}: {format_count(edge.count)} times in {format_count(edge.cases)} cases; "
            f"median wait {humanize(edge.wait.median)}, p90 {humanize(edge.wait.p90)}")
    if edge.handoffs:
        text += f"; {format_count(edge.handoffs)} handoffs"
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


def _edge_labels(parent: etree._Element, route: EdgeRoute) -> None:
    x, y = route.label_at.x, route.label_at.y + 4
    _text(parent, x, y, format_count(route.count), "edge-label measure-frequency", **{"text-anchor": "middle"})
    if route.edge is not None:
        _text(parent, x, y, humanize(route.edge.wait.median), "edge-label measure-time",
              **{"text-anchor": "middle"})


def _node(parent: etree._Element, node: NodeBox, activity: Activity | None, process_map: ProcessMap) -> None:
    if activity is None:
        _terminal(parent, node, process_map)
        return
    fill, stroke, kind_label = KIND_STYLE[activity.kind]
    group = _sub(parent, "g", {"class": f"node kind-{activity.kind.value}", "data-id": node.id})
    wait = activity.wait_before.median if activity.wait_before else None
    _sub(group, "title").text = (
        f"{activity.name}\n{kind_label}; lane: {activity.lane or 'unassigned'}\n"
        f"{format_count(activity.events)} events in {format_count(activity.cases)} cases"
        + (f"; repeated {format_count(activity.repeats)} times" if activity.repeats else "")
        + f"\nmedian wait before: {humanize(wait)}")
    _sub(group, "rect", x=f"{node.x:.1f}", y=f"{node.y:.1f}", width=f"{node.width:.0f}",
         height=f"{node.height:.0f}", rx="7", fill=fill, stroke=stroke, **{"stroke-width": "1.5"})
    _sub(group, "rect", x=f"{node.x:.1f}", y=f"{node.y:.1f}", width="5", height=f"{node.height:.0f}",
         rx="2", fill=stroke)
    lines = _wrap(activity.name, node.width - 20, lines=3)
    first = node.y + {1: 24, 2: 19, 3: 16}[len(lines)]
    for i, line in enumerate(lines):
        _text(group, node.x + 12, first + i * 14, line, "node-name")
    bottom = node.y + node.height - 7
    volume = f"{format_count(activity.events)} events"
    if activity.cases != activity.events:
        with_cases = f"{volume} · {format_count(activity.cases)} cases"
        # Too long for the box at 11px: the cases stay in the tooltip.
        volume = with_cases if len(with_cases) * VALUE_CHAR_WIDTH <= node.width - 20 else volume
    _text(group, node.x + 12, bottom, volume, "node-value measure-frequency")
    waited = f"median wait before {humanize(wait)}" if wait is not None else "no wait measured before"
    _text(group, node.x + 12, bottom, waited, "node-value measure-time")


def _terminal(parent: etree._Element, node: NodeBox, process_map: ProcessMap) -> None:
    is_start = node.kind is NodeKind.START
    counts = process_map.summary.start_activities if is_start else process_map.summary.end_activities
    group = _sub(parent, "g", {"class": f"node {node.kind.value}", "data-id": node.id})
    _sub(group, "title").text = (f"{'Start' if is_start else 'End'}: "
                                 f"{format_count(sum(c.cases for c in counts))} cases")
    c = node.center
    _sub(group, "circle", cx=f"{c.x:.1f}", cy=f"{c.y:.1f}", r=f"{node.width / 2:.1f}",
         fill="#2f855a" if is_start else "#4a5568")
    if is_start:
        _sub(group, "polygon", points=f"{c.x - 4:.1f},{c.y - 7:.1f} {c.x - 4:.1f},{c.y + 7:.1f} {c.x + 7:.1f},{c.y:.1f}",
             fill="#ffffff")
    else:
        _sub(group, "rect", x=f"{c.x - 6:.1f}", y=f"{c.y - 6:.1f}", width="12", height="12", fill="#ffffff")
