"""Draw the steps of the map: boxes with their names and figures, badges, start and end.

A box shows how often its step happened (frequency) or its time at work for each
statistic of the time view; rework and exceptions are badges under it, and its tooltip
holds every figure, the split between lanes of a shared step and the reasons.
"""

from __future__ import annotations

from typing import Literal

from lxml import etree

from backoffice.mapping.durations import humanize
from backoffice.mapping.labels import Rect
from backoffice.mapping.layout import NodeBox, NodeKind
from backoffice.mapping.model import Activity, DurationStats, ProcessMap, StepKind
from backoffice.mapping.text_width import fit_lines, text_width

TimeStat = Literal["total", "mean", "median"]
TIME_STATS: tuple[TimeStat, ...] = ("total", "mean", "median")
SVG_NS = "http://www.w3.org/2000/svg"
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
def format_count(count: int) -> str:
    """Return a count with thousands separators: 1234 -> "1,234"."""
    return f"{count:,}"


def counted(count: int, noun: str) -> str:
    """Return a count and its noun, singular for one: "1 case", "1,234 cases"."""
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"


def rework_cases(process_map: ProcessMap) -> dict[str, int]:
    """Return, per activity, how many cases did it more than once.

    Taken from the activity itself when the analysis gives it (`rework_cases`), else from
    the map's table of repeated activities.
    """
    from_table = {item.activity: item.cases for item in process_map.rework.repeated_activities}
    result = {}
    for activity in process_map.activities:
        # A default left unset (an activity built without it) is not the analysis saying "none".
        given = "rework_cases" in activity.model_fields_set
        result[activity.name] = activity.rework_cases if given else from_table.get(activity.name, 0)
    return result


def svg_element(parent: etree._Element, tag: str, attrib: dict[str, str] | None = None,
                **extra: str) -> etree._Element:
    """Add an SVG element under parent."""
    return etree.SubElement(parent, f"{{{SVG_NS}}}{tag}", attrib={**(attrib or {}), **extra})


def svg_text(parent: etree._Element, x: float, y: float, text: str, css: str, **extra: str) -> etree._Element:
    """Add a text element at (x, baseline y); lxml escapes the text."""
    element = svg_element(parent, "text", {"x": f"{x:.1f}", "y": f"{y:.1f}", "class": css}, **extra)
    element.text = text
    return element


def _stat_text(stats: DurationStats | None, stat: TimeStat) -> str | None:
    return None if stats is None or not stats.count else humanize(getattr(stats, stat))


def draw_step(parent: etree._Element, node: NodeBox, activity: Activity | None, process_map: ProcessMap,
              rework: dict[str, int]) -> list[Rect]:
    """Draw a step (or the start or end) and return the rectangles of the badges drawn under it."""
    if activity is None:
        _terminal(parent, node, process_map)
        return []
    fill, stroke, kind_label = KIND_STYLE[activity.kind]
    shared = bool(getattr(activity, "shared", False))
    css = f"node kind-{activity.kind.value}" + (" shared" if shared else "")
    group = svg_element(parent, "g", {"class": css, "data-id": node.id})
    svg_element(group, "title").text = _node_title(activity, kind_label, process_map.lanes.value, rework)
    outline = {"stroke-dasharray": "5 3"} if shared else {}
    svg_element(group, "rect", x=f"{node.x:.1f}", y=f"{node.y:.1f}", width=f"{node.width:.0f}",
                height=f"{node.height:.0f}", rx="7", fill=fill, stroke=stroke, **{"stroke-width": "1.5"}, **outline)
    svg_element(group, "rect", x=f"{node.x:.1f}", y=f"{node.y:.1f}", width="5", height=f"{node.height:.0f}",
                rx="2", fill=stroke)
    room = node.width - TEXT_INSET - 8
    lines = fit_lines(activity.name, room, NAME_SIZE, lines=3)
    first = node.y + {1: 24.0, 2: 19.0, 3: 15.0}[len(lines)]
    for i, line in enumerate(lines):
        svg_text(group, node.x + TEXT_INSET, first + i * NAME_LINE_STEP, line, "node-name")
    bottom = node.y + node.height - 8
    volume = counted(activity.events, "time")  # events, or activity instances: how often it happened
    with_cases = f"{volume} · {counted(activity.cases, 'case')}"
    if activity.cases != activity.events and text_width(with_cases, VALUE_SIZE) <= room:
        volume = with_cases
    svg_text(group, node.x + TEXT_INSET, bottom, fit_lines(volume, room, VALUE_SIZE, lines=1)[0],
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
        svg_text(group, node.x + TEXT_INSET, bottom, fit_lines(text, room, VALUE_SIZE, lines=1)[0],
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
        badge = svg_element(group, "g", {"class": f"badge {css}"})
        svg_element(badge, "title").text = title
        svg_element(badge, "rect", x=f"{x:.1f}", y=f"{y:.1f}", width=f"{width:.1f}", height=f"{BADGE_HEIGHT:.0f}",
                    rx="7")
        svg_text(badge, x + 5, y + 10.5, label, "badge-text")
        rects.append(Rect(x, y, width, BADGE_HEIGHT))
        x += width + 4
    return rects


def _terminal(parent: etree._Element, node: NodeBox, process_map: ProcessMap) -> None:
    is_start = node.kind is NodeKind.START
    counts = process_map.summary.start_activities if is_start else process_map.summary.end_activities
    group = svg_element(parent, "g", {"class": f"node {node.kind.value}", "data-id": node.id})
    svg_element(group, "title").text = (f"{'Start' if is_start else 'End'}: "
                                        f"{counted(sum(c.cases for c in counts), 'case')}")
    c = node.center
    svg_element(group, "circle", cx=f"{c.x:.1f}", cy=f"{c.y:.1f}", r=f"{node.width / 2:.1f}",
                fill="#2f855a" if is_start else "#4a5568")
    if is_start:
        triangle = f"{c.x - 4:.1f},{c.y - 7:.1f} {c.x - 4:.1f},{c.y + 7:.1f} {c.x + 7:.1f},{c.y:.1f}"
        svg_element(group, "polygon", points=triangle, fill="#ffffff")
    else:
        svg_element(group, "rect", x=f"{c.x - 6:.1f}", y=f"{c.y - 6:.1f}", width="12", height="12", fill="#ffffff")
