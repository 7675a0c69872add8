"""Draw a chart as one accessible SVG on the server: bars, stacked bars, stacked columns and lines.

No script and no style sheet: colours and fonts are presentation attributes, so the SVG shows
the same under any Content-Security-Policy and in a file opened on its own. Every label is
measured (`mapping.text_width`, which errs wide) before it is placed: category names too long
for their column end in an ellipsis, with the full name in a tooltip; week labels along the
time axis are thinned until they no longer touch. The root names itself for screen readers
(`<title>` and `<desc>`), and the numbers are in the table the page shows beside it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import replace

from lxml import etree

from backoffice.mapping.svg_steps import SVG_NS, svg_element
from backoffice.mapping.text_width import fit_lines, text_width
from backoffice.ops.chart_data import ChartData, ChartKind, Series, Tone

WIDTH = 640.0
MARGIN = 12.0
LABEL_SIZE = 12.0
TICK_SIZE = 11.0
MAX_LABEL_WIDTH = 170.0
PLOT_HEIGHT = 210.0
INK = "#1a202c"
MUTED = "#4a5568"
GRID = "#e2e8f0"
FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif'

# Peers' colours: a categorical palette in the manner of Tableau 10, darkened until each is at least 3:1
# against white (WCAG 1.4.11), and chosen so that any two are at least 25 apart in CIELAB (ΔE*ab), as are
# each and the breach red and the neutral grey. None is red: red says breach, and only that. A chart with
# more peers than colours draws the smallest together as one grey "Other" rather than repeat a colour,
# which would make two states look like one.
PALETTE = ("#1f5fa8", "#b35900", "#2e7d32", "#7b1fa2", "#008b94", "#857400", "#c2185b", "#5d4037", "#000000")
TONES = {Tone.MAIN: "#1f5fa8", Tone.BREACH: "#c62828", Tone.NEUTRAL: "#718096"}
MARKERS = ("circle", "square", "diamond", "triangle")


def series_colours(chart: ChartData) -> list[str]:
    """Return each series' colour: its tone's, or the palette's next for peers (never the same twice).

    Raises:
        ValueError: more peers than colours; draw `distinct_series(chart)` instead.
    """
    colours, peer = [], 0
    for series in chart.series:
        if series.tone is Tone.SERIES:
            if peer >= len(PALETTE):
                raise ValueError(f"{chart.key}: {peer + 1} peer series for {len(PALETTE)} colours; group the rest")
            colours.append(PALETTE[peer])
            peer += 1
        else:
            colours.append(TONES[series.tone])
    return colours


def distinct_series(chart: ChartData) -> ChartData:
    """Return the chart with its smallest peers drawn together as "Other" when there are more than colours.

    The largest peers (by their total over the categories) keep their place and colour; the rest are
    summed into one neutral series at the end, and the description says which were grouped. The
    table and the CSV, made from the chart as given, still list every series.
    """
    peers = [s for s in chart.series if s.tone is Tone.SERIES]
    if len(peers) <= len(PALETTE):
        return chart
    by_size = sorted(peers, key=lambda s: -sum(v or 0.0 for v in s.values))
    grouped = {id(s) for s in by_size[len(PALETTE) - 1:]}
    kept = [s for s in chart.series if id(s) not in grouped]
    rest = [s for s in chart.series if id(s) in grouped]
    other = Series(f"Other ({len(rest)})", [None if all(s.values[k] is None for s in rest)
                                            else sum(s.values[k] or 0.0 for s in rest)
                                            for k in range(len(chart.categories))], Tone.NEUTRAL)
    return replace(chart, series=[*kept, other],
                   description=f"{chart.description} Drawn together as Other: {', '.join(s.name for s in rest)}.")


def render_chart(chart: ChartData, *, chart_id: str | None = None) -> str:
    """Return the chart as an `<svg>` element in text, labelled by its title and description.

    Args:
        chart: the numbers and how to draw them.
        chart_id: the prefix of the ids of its title and description (the chart's key by default);
            unique within the page that shows it.
    """
    prefix = chart_id or f"chart-{chart.key}"
    chart = distinct_series(chart.drawn())
    root = etree.Element(f"{{{SVG_NS}}}svg", nsmap={None: SVG_NS}, attrib={
        "class": f"chart chart-{chart.kind.value}", "role": "img", "aria-labelledby": f"{prefix}-title {prefix}-desc",
        "font-family": FONT, "fill": INK})
    svg_element(root, "title", id=f"{prefix}-title").text = chart.title
    svg_element(root, "desc", id=f"{prefix}-desc").text = chart.description
    canvas = _Canvas(root)
    if chart.empty:  # no legend either: it would name colours that appear nowhere
        canvas.text(WIDTH / 2, MARGIN + 40, "Nothing to show in this window", LABEL_SIZE, anchor="middle", fill=MUTED)
        height = MARGIN + 64
    elif chart.kind in (ChartKind.BARS, ChartKind.STACKED_BARS):
        height = _bars(canvas, chart, _legend(canvas, chart, MARGIN))
    else:
        height = _over_time(canvas, chart, _legend(canvas, chart, MARGIN))
    root.set("viewBox", f"0 0 {WIDTH:.0f} {height:.0f}")
    root.set("width", f"{WIDTH:.0f}")
    root.set("height", f"{height:.0f}")
    return etree.tostring(root, encoding="unicode")


class _Canvas:
    """The root and a text helper that states the size and anchor of every label (so tests can measure)."""

    def __init__(self, root: etree._Element) -> None:
        self.root = root

    def text(self, x: float, y: float, text: str, size: float, *, anchor: str = "start", fill: str = INK,
             weight: str | None = None, full: str | None = None) -> etree._Element:
        attrib = {"x": f"{x:.1f}", "y": f"{y:.1f}", "font-size": f"{size:g}", "text-anchor": anchor, "fill": fill}
        if weight:
            attrib["font-weight"] = weight
        element = svg_element(self.root, "text", attrib)
        element.text = text
        if full is not None and full != text:
            svg_element(element, "title").text = full
        return element

    def element(self, tag: str, **attrib: str) -> etree._Element:
        return svg_element(self.root, tag, attrib)


def _legend(canvas: _Canvas, chart: ChartData, top: float) -> float:
    """Draw the legend (when there is more than one series, or a reference line); return where the plot starts."""
    items: list[tuple[str, str, str]] = []
    if len(chart.series) > 1 or chart.kind is ChartKind.LINES:
        # As drawn: every line after the first dashed (see `_over_time`).
        items += [(_with_latest(chart, s) if chart.kind is ChartKind.LINES else s.name, colour,
                   ("line" if k == 0 else "dashed line") if chart.kind is ChartKind.LINES else "box")
                  for k, (s, colour) in enumerate(zip(chart.series, series_colours(chart), strict=True))]
    if chart.reference is not None:
        items.append((chart.reference[1], INK, "dash"))
    if not items:
        return top
    x, y = MARGIN, top + LABEL_SIZE
    for k, (label, colour, swatch) in enumerate(items):
        label = fit_lines(label, WIDTH - 2 * MARGIN - 24, LABEL_SIZE, lines=1)[0]
        width = 20 + text_width(label, LABEL_SIZE)
        if x > MARGIN and x + width > WIDTH - MARGIN:
            x, y = MARGIN, y + LABEL_SIZE + 8
        middle = y - LABEL_SIZE * 0.35
        if swatch == "box":
            canvas.element("rect", x=f"{x:.1f}", y=f"{middle - 6:.1f}", width="12", height="12", fill=colour)
        else:
            canvas.element("line", x1=f"{x:.1f}", y1=f"{middle:.1f}", x2=f"{x + 14:.1f}", y2=f"{middle:.1f}",
                           stroke=colour, **{"stroke-width": "1.5" if swatch == "dash" else "2.5"},
                           **({"stroke-dasharray": "5 3"} if swatch == "dash" else
                              {"stroke-dasharray": "4 2"} if swatch == "dashed line" else {}))
            if swatch != "dash":
                _marker(canvas, MARKERS[k % len(MARKERS)], x + 7, middle, colour)
        canvas.text(x + 18, y, label, LABEL_SIZE)
        x += width + 16
    return y + 12


def _with_latest(chart: ChartData, series: Series) -> str:
    """Return a line's name with its latest value: readable even where the line lies under another."""
    latest = next((value for value in reversed(series.values) if value is not None), None)
    return series.name if latest is None else f"{series.name}: {chart.value_format(latest)} latest"


def nice_ticks(largest: float, *, count: int = 5, whole: bool = True) -> list[float]:
    """Return tick values from 0 to a round number at or above `largest`, about `count` of them.

    Steps are 1, 2 or 5 times a power of ten; with `whole`, never below 1 (counts have no halves).
    """
    if largest <= 0:
        return [0.0, 1.0]
    raw = largest / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    if whole:
        step = max(step, 1.0)
    top = math.ceil(largest / step - 1e-9) * step
    return [round(k * step, 10) for k in range(int(round(top / step)) + 1)]


def _scale_top(chart: ChartData, totals: list[float]) -> list[float]:
    if chart.value_max is not None:
        return nice_ticks(chart.value_max, whole=False)
    largest = max([*totals, chart.reference[0] if chart.reference else 0.0, 0.0])
    whole = all(float(v).is_integer() for s in chart.series for v in s.values if v is not None)
    return nice_ticks(largest, whole=whole)


def _bars(canvas: _Canvas, chart: ChartData, top: float) -> float:
    """Draw horizontal bars (side by side, or stacked); return the chart's height."""
    stacked = chart.kind is ChartKind.STACKED_BARS
    colours = series_colours(chart)
    values = [[v or 0.0 for v in s.values] for s in chart.series]
    totals = ([sum(column) for column in zip(*values, strict=True)] if stacked
              else [max(column) for column in zip(*values, strict=True)])
    ticks = _scale_top(chart, totals)
    label_width = min(MAX_LABEL_WIDTH, max(text_width(c, LABEL_SIZE) for c in chart.categories))
    value_width = max(text_width(chart.value_format(t), TICK_SIZE) for t in [*totals, ticks[-1]]) + 8
    x0 = MARGIN + label_width + 10
    plot = WIDTH - MARGIN - value_width - x0
    bar = 18.0 if stacked or len(chart.series) == 1 else 14.0  # 14: taller than a label beside it
    band = (bar if stacked else bar * len(chart.series)) + 10
    y0 = top + 6
    height = band * len(chart.categories)

    def x_of(value: float) -> float:
        return x0 + plot * value / ticks[-1]

    for tick in ticks:
        canvas.element("line", x1=f"{x_of(tick):.1f}", y1=f"{y0:.1f}", x2=f"{x_of(tick):.1f}",
                       y2=f"{y0 + height:.1f}", stroke=GRID)
    for row, category in enumerate(chart.categories):
        band_top = y0 + row * band
        shown = fit_lines(category, label_width, LABEL_SIZE, lines=1)[0]
        canvas.text(x0 - 10, band_top + band / 2 + LABEL_SIZE * 0.35, shown, LABEL_SIZE, anchor="end", full=category)
        start = 0.0
        for k, series in enumerate(chart.series):
            value = values[k][row]
            if stacked:
                left, y = x_of(start), band_top + 5
                start += value
            else:
                left, y = x0, band_top + 5 + k * bar
            width = x_of(value) - x0
            if width <= 0:
                continue
            rect = canvas.element("rect", x=f"{left:.1f}", y=f"{y:.1f}", width=f"{width:.1f}", height=f"{bar:.1f}",
                                  fill=colours[k], stroke="#ffffff", **{"stroke-width": "1"})
            svg_element(rect, "title").text = f"{category}, {series.name}: {chart.value_format(value)}"
            if not stacked:
                canvas.text(x_of(value) + 4, y + bar / 2 + TICK_SIZE * 0.35, chart.value_format(value), TICK_SIZE,
                            fill=MUTED)
        if stacked:
            canvas.text(x_of(start) + 4, band_top + band / 2 + TICK_SIZE * 0.35, chart.value_format(start),
                        TICK_SIZE, fill=MUTED)
    axis_y = y0 + height
    canvas.element("line", x1=f"{x0:.1f}", y1=f"{axis_y:.1f}", x2=f"{x0 + plot:.1f}", y2=f"{axis_y:.1f}", stroke=MUTED)
    for tick in _spaced(ticks, [x_of(t) for t in ticks], chart.value_format, TICK_SIZE):
        canvas.text(x_of(tick), axis_y + 16, chart.value_format(tick), TICK_SIZE, anchor="middle", fill=MUTED)
    canvas.text(x0 + plot / 2, axis_y + 36, chart.value_label, LABEL_SIZE, anchor="middle")
    if chart.reference is not None:
        x = x_of(chart.reference[0])
        canvas.element("line", x1=f"{x:.1f}", y1=f"{y0:.1f}", x2=f"{x:.1f}", y2=f"{axis_y:.1f}", stroke=INK,
                       **{"stroke-dasharray": "5 3", "stroke-width": "1.5"})
    return axis_y + 48


def _spaced(ticks: list[float], positions: list[float], fmt: Callable[[float], str], size: float) -> Iterator[float]:
    """Yield the ticks whose centred labels stay clear of the previous one shown."""
    right = -math.inf
    for tick, x in zip(ticks, positions, strict=True):
        half = text_width(fmt(tick), size) / 2
        if x - half >= right + 6:
            right = x + half
            yield tick


def _over_time(canvas: _Canvas, chart: ChartData, top: float) -> float:
    """Draw weekly columns (stacked) or lines; return the chart's height."""
    stacked = chart.kind is ChartKind.STACKED_COLUMNS
    colours = series_colours(chart)
    count = len(chart.categories)
    totals = ([sum(s.values[k] or 0.0 for s in chart.series) for k in range(count)] if stacked
              else [max((s.values[k] or 0.0 for s in chart.series), default=0.0) for k in range(count)])
    ticks = _scale_top(chart, totals)
    tick_width = max(text_width(chart.value_format(t), TICK_SIZE) for t in ticks)
    x0 = MARGIN + tick_width + 8
    y0 = top + 24  # room for the value axis's label above the plot
    plot_width = WIDTH - MARGIN - 8 - x0
    band = plot_width / count
    axis_y = y0 + PLOT_HEIGHT

    def y_of(value: float) -> float:
        return axis_y - PLOT_HEIGHT * value / ticks[-1]

    canvas.text(MARGIN, top + 12, chart.value_label, LABEL_SIZE, fill=INK)
    for tick in ticks:  # a tick every ~40px is never crowded vertically at this height
        canvas.element("line", x1=f"{x0:.1f}", y1=f"{y_of(tick):.1f}", x2=f"{x0 + plot_width:.1f}",
                       y2=f"{y_of(tick):.1f}", stroke=GRID)
        canvas.text(x0 - 6, y_of(tick) + TICK_SIZE * 0.35, chart.value_format(tick), TICK_SIZE, anchor="end",
                    fill=MUTED)
    if stacked:
        column = min(band * 0.7, 48.0)
        for k, category in enumerate(chart.categories):
            start = 0.0
            for s, series in enumerate(chart.series):
                value = series.values[k] or 0.0
                if value <= 0:
                    continue
                rect = canvas.element("rect", x=f"{x0 + k * band + (band - column) / 2:.1f}",
                                      y=f"{y_of(start + value):.1f}", width=f"{column:.1f}",
                                      height=f"{y_of(start) - y_of(start + value):.1f}", fill=colours[s],
                                      stroke="#ffffff", **{"stroke-width": "1"})
                svg_element(rect, "title").text = f"{category}, {series.name}: {chart.value_format(value)}"
                start += value
    else:
        # Lines often coincide (two SLA clocks both at 100%): each series' points sit a few pixels apart
        # across the week's band, and every line after the first is dashed, so the one under it shows
        # through and each marker stays in sight. The values are not moved, only where in the week they sit.
        lines = len(chart.series)
        step = min(band * 0.5 / max(lines - 1, 1), 9.0) if lines > 1 else 0.0
        for s, series in enumerate(chart.series):
            shift = (s - (lines - 1) / 2) * step
            _line(canvas, series, [x0 + (k + 0.5) * band + shift for k in range(count)], y_of, colours[s],
                  MARKERS[s % len(MARKERS)], chart, category_names=chart.categories, dashed=s > 0)
    if chart.reference is not None:
        y = y_of(chart.reference[0])
        canvas.element("line", x1=f"{x0:.1f}", y1=f"{y:.1f}", x2=f"{x0 + plot_width:.1f}", y2=f"{y:.1f}", stroke=INK,
                       **{"stroke-dasharray": "5 3", "stroke-width": "1.5"})
    canvas.element("line", x1=f"{x0:.1f}", y1=f"{axis_y:.1f}", x2=f"{x0 + plot_width:.1f}", y2=f"{axis_y:.1f}",
                   stroke=MUTED)
    widest = max(text_width(c, TICK_SIZE) for c in chart.categories)
    every = max(1, math.ceil((widest + 8) / band))
    for k in range(0, count, every):
        # 20 below the axis: clear of the bottom value tick's label, which the first week's may reach under.
        canvas.text(x0 + (k + 0.5) * band, axis_y + 20, chart.categories[k], TICK_SIZE, anchor="middle", fill=MUTED)
    canvas.text(x0 + plot_width / 2, axis_y + 40, chart.category_label, LABEL_SIZE, anchor="middle")
    return axis_y + 52


def _line(canvas: _Canvas, series: Series, xs: list[float], y_of: Callable[[float], float], colour: str,
          marker: str, chart: ChartData, *, category_names: list[str], dashed: bool = False) -> None:
    """Draw a series as a line broken where it has no value (dashed: to show a line it covers), with markers."""
    runs: list[list[tuple[float, float]]] = [[]]
    for x, value in zip(xs, series.values, strict=True):
        if value is None:
            runs.append([])
        else:
            runs[-1].append((x, y_of(value)))
    for run in runs:
        if len(run) > 1:
            canvas.element("polyline", points=" ".join(f"{x:.1f},{y:.1f}" for x, y in run), fill="none",
                           stroke=colour, **{"stroke-width": "2.5", "stroke-linejoin": "round"},
                           **({"stroke-dasharray": "7 5"} if dashed else {}))
    for x, value, name in zip(xs, series.values, category_names, strict=True):
        if value is not None:
            shape = _marker(canvas, marker, x, y_of(value), colour)
            svg_element(shape, "title").text = f"{name}, {series.name}: {chart.value_format(value)}"


def _marker(canvas: _Canvas, shape: str, x: float, y: float, colour: str) -> etree._Element:
    # A shape per series as well as a colour: the lines stay apart for people who see colours alike.
    common = {"fill": colour, "stroke": "#ffffff", "stroke-width": "1"}
    if shape == "circle":
        return canvas.element("circle", cx=f"{x:.1f}", cy=f"{y:.1f}", r="4", **common)
    if shape == "square":
        return canvas.element("rect", x=f"{x - 3.5:.1f}", y=f"{y - 3.5:.1f}", width="7", height="7", **common)
    if shape == "diamond":
        points = f"{x:.1f},{y - 5:.1f} {x + 5:.1f},{y:.1f} {x:.1f},{y + 5:.1f} {x - 5:.1f},{y:.1f}"
    else:
        points = f"{x:.1f},{y - 5:.1f} {x + 5:.1f},{y + 4:.1f} {x - 5:.1f},{y + 4:.1f}"
    return canvas.element("polygon", points=points, **common)
