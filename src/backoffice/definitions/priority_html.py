"""Write the priorities as one offline HTML page: the 2x2 as an inline SVG scatter, then the factors.

The page takes the look of the as-is map's report (its stylesheet is included inline), has
no script and refers to nothing outside itself. Jinja2 escapes every value, the SVG included:
the chart is drawn by the template from the positions computed here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined

from backoffice.definitions.priority import (CHANGE_MANAGEMENT_SCALE, CYCLE_TIME_SCALE, DATA_CLEANUP_SCALE,
                                             EXCEPTION_COMPLEXITY_SCALE, EXCEPTION_RATE_SCALE, HIGH, SYSTEMS_SCALE,
                                             VOLUME_SCALE, PriorityReport, Quadrant, WorkflowPriority)

WIDTH, HEIGHT = 760.0, 560.0
LEFT, RIGHT, TOP, BOTTOM = 64.0, 24.0, 24.0, 56.0
LABEL_HEIGHT = 15.0
# The axes run half a point past the scores, so a bubble at 1 or 5 is drawn whole inside the chart.
LOW_END, HIGH_END = 0.5, 5.5
CHAR_WIDTH = 6.6  # of the 12px label font, near enough to keep labels from overlapping
QUADRANT_COLOURS = {Quadrant.QUICK_WIN: ("#e6f4ea", "#2f855a"), Quadrant.MAJOR_PROJECT: ("#e8eef8", "#2c5fa8"),
                    Quadrant.FILL_IN: ("#f1f3f6", "#64748b"), Quadrant.AVOID: ("#fdf0e6", "#c05621")}
QUADRANT_MEANING = {
    Quadrant.QUICK_WIN: "high impact, low effort: automate these first",
    Quadrant.MAJOR_PROJECT: "high impact, high effort: plan them as projects",
    Quadrant.FILL_IN: "low impact, low effort: do them when there is room",
    Quadrant.AVOID: "low impact, high effort: leave them for now",
}


@dataclass(frozen=True)
class Area:
    """A quadrant's rectangle on the chart, with its name placed in its outer corner."""

    quadrant: Quadrant
    x: float
    y: float
    width: float
    height: float
    fill: str
    ink: str
    label_x: float
    label_y: float
    anchor: str


@dataclass(frozen=True)
class Bubble:
    workflow: WorkflowPriority
    x: float
    y: float
    radius: float
    colour: str
    label_x: float
    label_y: float
    anchor: str
    leader: tuple[float, float, float, float] | None = None  # x1, y1, x2, y2 of a line to a moved label


@dataclass(frozen=True)
class Chart:
    width: float
    height: float
    left: float
    top: float
    right: float
    bottom: float
    areas: tuple[Area, ...]
    bubbles: tuple[Bubble, ...]
    ticks: tuple[tuple[float, float, str], ...]  # x on the effort axis, y on the impact axis, label


def render_priority_html(report: PriorityReport, *, title: str = "Automation priorities") -> str:
    """Render the priorities as one HTML page with no external references.

    Returns:
        The page: summary cards, the 2x2 scatter (bubbles sized by cases a month), the ranked
        table of every factor with its derivation, and the readiness failures to fix first.
    """
    environment = Environment(loader=ChoiceLoader([PackageLoader("backoffice.definitions", "templates"),
                                                   PackageLoader("backoffice.mapping", "templates")]),
                              autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    environment.filters["score"] = lambda value: "–" if value is None else f"{value:g}"
    template = environment.get_template("priority.html.j2")
    return template.render(report=report, title=title, chart=layout_chart(report), Quadrant=Quadrant,
                           colours=QUADRANT_COLOURS, meaning=QUADRANT_MEANING, scales=_scales())


def layout_chart(report: PriorityReport) -> Chart:
    """Place the quadrants, the bubbles and their labels; labels are moved until none overlaps another."""
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    span = HIGH_END - LOW_END

    def x_of(effort: float) -> float:
        return LEFT + (effort - LOW_END) / span * plot_width

    def y_of(impact: float) -> float:
        return TOP + (HIGH_END - impact) / span * plot_height

    split_x, split_y = x_of(HIGH), y_of(HIGH)
    right_edge, bottom_edge = LEFT + plot_width, TOP + plot_height
    areas = []
    for quadrant, (x0, y0, x1, y1), (lx, ly, anchor) in (
            (Quadrant.QUICK_WIN, (LEFT, TOP, split_x, split_y), (LEFT + 10, TOP + 20, "start")),
            (Quadrant.MAJOR_PROJECT, (split_x, TOP, right_edge, split_y), (right_edge - 10, TOP + 20, "end")),
            (Quadrant.FILL_IN, (LEFT, split_y, split_x, bottom_edge), (LEFT + 10, bottom_edge - 10, "start")),
            (Quadrant.AVOID, (split_x, split_y, right_edge, bottom_edge), (right_edge - 10, bottom_edge - 10, "end"))):
        fill, ink = QUADRANT_COLOURS[quadrant]
        areas.append(Area(quadrant, x0, y0, x1 - x0, y1 - y0, fill, ink, lx, ly, anchor))

    largest = max((w.cases_per_month or 0.0 for w in report.workflows), default=0.0) or 1.0
    taken: dict[tuple[float, float], int] = {}
    spots: list[tuple[WorkflowPriority, float, float, float]] = []
    for workflow in sorted(report.workflows, key=lambda w: (-w.impact, w.effort, w.workflow)):
        x, y = x_of(workflow.effort), y_of(workflow.impact)
        # Workflows with the same scores would hide each other: fan the later ones out around the first.
        spot = (round(x), round(y))
        nth = taken.get(spot, 0)
        taken[spot] = nth + 1
        radius = 7 + 15 * math.sqrt((workflow.cases_per_month or 0.0) / largest) if workflow.cases_per_month else 8.0
        if nth:
            angle = -math.pi / 2 + (nth - 1) * math.pi / 3
            x, y = x + 24 * math.cos(angle), y + 24 * math.sin(angle)
        spots.append((workflow, x, y, radius))
    # Labels keep clear of the quadrant names and of every bubble (with room for a foundations ring).
    placed: list[tuple[float, float, float, float]] = [
        (a.label_x - (len(a.quadrant.value) * 8 if a.anchor == "end" else 0), a.label_y - 13,
         len(a.quadrant.value) * 8, 16) for a in areas]
    placed += [(x - r - 4, y - r - 4, 2 * r + 8, 2 * r + 8) for _, x, y, r in spots]
    bubbles = []
    for workflow, x, y, radius in spots:
        label_x, label_y, anchor = _place_label(workflow.workflow, x, y, radius + 4, placed)
        # A label moved away from its bubble gets a thin line back to it.
        moved = abs(label_y - 4 - y) > LABEL_HEIGHT / 2
        leader = (x + (radius if anchor == "start" else -radius), y, label_x, label_y - 4) if moved else None
        bubbles.append(Bubble(workflow, x, y, radius, QUADRANT_COLOURS[workflow.quadrant][1], label_x, label_y,
                              anchor, leader))
    ticks = tuple((x_of(value), y_of(value), str(value)) for value in range(1, 6))
    return Chart(WIDTH, HEIGHT, LEFT, TOP, right_edge, bottom_edge, tuple(areas), tuple(bubbles), ticks)


def _place_label(text: str, x: float, y: float, radius: float,
                 placed: list[tuple[float, float, float, float]]) -> tuple[float, float, str]:
    """Return where a bubble's label goes: right of it, else left, else moved down until it is free."""
    width = len(text) * CHAR_WIDTH
    for shift in [0.0] + [sign * k * LABEL_HEIGHT for k in range(1, 7) for sign in (1, -1)]:
        for anchor in ("start", "end"):
            left = x + radius + 4 if anchor == "start" else x - radius - 4 - width
            top = y - LABEL_HEIGHT / 2 + shift
            box = (left, top, width, LABEL_HEIGHT)
            inside = LEFT <= left and left + width <= WIDTH - RIGHT and TOP <= top \
                and top + LABEL_HEIGHT <= HEIGHT - BOTTOM
            if inside and not any(_overlap(box, other) for other in placed):
                placed.append(box)
                return (left if anchor == "start" else left + width), top + LABEL_HEIGHT - 4, anchor
    placed.append((x + radius + 4, y - LABEL_HEIGHT / 2, width, LABEL_HEIGHT))
    return x + radius + 4, y + 4, "start"


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def _scales() -> list[tuple[str, str, str]]:
    """Say each factor's scale in words: what a score of 1 to 5 means."""
    def bounds(scale, unit: str, percent: bool = False) -> str:
        shown = [f"{b:.0%}" if percent else f"{b:,g}" for b in scale]
        return (f"1 under {shown[0]}, 2 under {shown[1]}, 3 under {shown[2]}, 4 under {shown[3]}, "
                f"5 from {shown[3]} {unit}").rstrip()
    return [
        ("impact", "volume", bounds(VOLUME_SCALE, "cases a month")),
        ("impact", "cycle time", bounds(CYCLE_TIME_SCALE, "days (median)")),
        ("impact", "exception rate", bounds(EXCEPTION_RATE_SCALE, "of cases", percent=True)),
        ("impact", "compliance weight", "1 plus one per distinct risk (change risk tags, control reasons), at most 5"),
        ("effort", "systems to integrate", bounds(SYSTEMS_SCALE, "systems")),
        ("effort", "exception complexity", bounds(EXCEPTION_COMPLEXITY_SCALE,
                                                  "(reasons, plus those that send the case back)")),
        ("effort", "data cleanup", bounds(DATA_CLEANUP_SCALE, "required input fields")),
        ("effort", "change management", bounds(CHANGE_MANAGEMENT_SCALE, "roles involved")),
    ]
