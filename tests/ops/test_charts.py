"""Charts drawn on the server: labels that never overlap, values drawn to scale, colours that mean something."""

from __future__ import annotations

import csv
import io
import itertools
import math
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st
from lxml import etree

from backoffice.mapping.text_width import ASCENT, LINE_HEIGHT, text_width
from backoffice.ops.chart_data import ChartData, ChartKind, Series, Tone
from backoffice.ops.chart_svg import PALETTE, TONES, distinct_series, nice_ticks, render_chart, series_colours
from backoffice.ops.dashboard_charts import week_labels

NS = {"svg": "http://www.w3.org/2000/svg"}
WEEKS_52 = week_labels([datetime(2024, 1, 1, tzinfo=timezone.utc) + timedelta(weeks=k) for k in range(52)])


def parse(svg: str) -> etree._Element:
    return etree.fromstring(svg.encode())


def label_boxes(root: etree._Element) -> list[tuple[str, float, float, float, float]]:
    """Return (text, left, top, right, bottom) of every label, measured as the renderer measures."""
    boxes = []
    for text in root.iterfind(".//svg:text", NS):
        size = float(text.get("font-size"))
        width = text_width(text.text, size)
        x, y = float(text.get("x")), float(text.get("y"))
        left = {"start": x, "middle": x - width / 2, "end": x - width}[text.get("text-anchor")]
        top = y - ASCENT * size
        boxes.append((text.text, left, top, left + width, top + LINE_HEIGHT * size))
    return boxes


def overlaps(root: etree._Element) -> list[tuple[str, str]]:
    found = []
    for a, b in itertools.combinations(label_boxes(root), 2):
        if a[1] < b[3] and b[1] < a[3] and a[2] < b[4] and b[2] < a[4]:
            found.append((a[0], b[0]))
    return found


def chart(kind: ChartKind, categories: list[str], *series: Series, **options) -> ChartData:
    return ChartData(key="test", title="A chart", description="What it shows.", kind=kind, category_label="Thing",
                     categories=categories, series=list(series), value_label="cases", **options)


def test_a_chart_names_itself_for_screen_readers():
    root = parse(render_chart(chart(ChartKind.BARS, ["a"], Series("n", [1.0])), chart_id="c1"))
    assert root.get("role") == "img" and root.get("aria-labelledby") == "c1-title c1-desc"
    assert root.find("svg:title", NS).get("id") == "c1-title" and root.find("svg:title", NS).text == "A chart"
    assert root.find("svg:desc", NS).get("id") == "c1-desc" and root.find("svg:desc", NS).text == "What it shows."
    # No style element and no script: the chart shows the same under the app's Content-Security-Policy.
    assert root.find(".//svg:style", NS) is None and root.find(".//svg:script", NS) is None


def test_bars_are_drawn_to_scale_with_their_values():
    root = parse(render_chart(chart(ChartKind.BARS, ["big", "small"], Series("n", [40.0, 10.0], Tone.MAIN))))
    widths = [float(rect.get("width")) for rect in root.iterfind(".//svg:rect", NS)]
    assert widths[0] == pytest.approx(4 * widths[1], rel=0.01)
    labels = [box[0] for box in label_boxes(root)]
    assert "40" in labels and "10" in labels and "cases" in labels


def test_stacked_bars_end_at_their_total():
    root = parse(render_chart(chart(ChartKind.STACKED_BARS, ["q"], Series("a", [3.0]), Series("b", [7.0]))))
    first, second = [rect for rect in root.iterfind(".//svg:rect", NS) if rect.find("svg:title", NS) is not None]
    assert float(second.get("x")) == pytest.approx(float(first.get("x")) + float(first.get("width")), abs=0.11)
    assert float(second.get("width")) == pytest.approx(7 / 3 * float(first.get("width")), rel=0.01)
    assert "10" in [box[0] for box in label_boxes(root)]


def test_a_line_breaks_where_a_week_has_no_value():
    root = parse(render_chart(chart(ChartKind.LINES, ["w1", "w2", "w3", "w4", "w5"],
                                    Series("share", [50.0, 60.0, None, 80.0, 90.0]), value_max=100.0)))
    lines = root.findall(".//svg:polyline", NS)
    assert len(lines) == 2
    ys = [[float(point.split(",")[1]) for point in line.get("points").split()] for line in lines]
    assert ys[0][0] > ys[0][1] and ys[1][0] > ys[1][1]  # higher values are higher up
    ticks = [box[0] for box in label_boxes(root)]
    assert "100%" not in ticks and "100" in ticks  # no value_format given: plain numbers
    assert len(root.findall(".//svg:circle", NS)) == 4 + 1  # a marker per point, and the legend's


def test_two_lines_at_the_same_values_both_stay_readable():
    # First response and resolution both at 100% every week: neither may hide under the other.
    root = parse(render_chart(chart(ChartKind.LINES, ["w1", "w2", "w3"], Series("First response", [100.0] * 3),
                                    Series("Resolution", [100.0] * 3), value_max=100.0)))
    circles = [c for c in root.findall(".//svg:circle", NS) if c.find("svg:title", NS) is not None]
    squares = [r for r in root.findall(".//svg:rect", NS) if r.find("svg:title", NS) is not None]
    assert len(circles) == len(squares) == 3
    for circle, square in zip(circles, squares, strict=True):  # side by side in each week, never on top
        assert abs(float(circle.get("cx")) - (float(square.get("x")) + 3.5)) >= 6
    first, second = root.findall(".//svg:polyline", NS)
    assert first.get("stroke-dasharray") is None and second.get("stroke-dasharray")  # the lower one shows through
    legend = [box[0] for box in label_boxes(root)]
    assert "First response: 100 latest" in legend and "Resolution: 100 latest" in legend


def test_week_labels_along_a_long_window_are_thinned_until_they_do_not_touch():
    root = parse(render_chart(chart(ChartKind.LINES, WEEKS_52, Series("started", [float(k) for k in range(52)]))))
    shown = [box[0] for box in label_boxes(root) if box[0] in WEEKS_52]
    assert 4 <= len(shown) < 52 and shown[0] == WEEKS_52[0]
    assert overlaps(root) == []


def test_long_category_names_end_in_an_ellipsis_with_the_full_name_in_a_tooltip():
    name = "Accounts payable exceptions for suppliers outside the European Union"
    root = parse(render_chart(chart(ChartKind.BARS, [name, "short"], Series("n", [1.0, 2.0]))))
    label = next(t for t in root.iterfind(".//svg:text", NS) if t.text.endswith("…"))
    assert label.find("svg:title", NS).text == name
    assert overlaps(root) == []


@settings(max_examples=40, deadline=None)
@given(kind=st.sampled_from(list(ChartKind)),
       categories=st.lists(st.text(st.characters(min_codepoint=32, max_codepoint=0x24F), min_size=1, max_size=60),
                           min_size=1, max_size=20, unique=True),
       series_count=st.integers(1, 5), scale=st.sampled_from([1, 7, 1000, 2_500_000]), data=st.data())
def test_no_two_labels_overlap_whatever_the_names_and_values(kind, categories, series_count, scale, data):
    series = [Series(f"series {k} " + "x" * data.draw(st.integers(0, 30)),
                     [float(data.draw(st.integers(0, scale))) for _ in categories]) for k in range(series_count)]
    assert overlaps(parse(render_chart(chart(kind, categories, *series)))) == []


def test_red_means_breach_and_nothing_else():
    peers = chart(ChartKind.STACKED_BARS, ["q"], *[Series(f"s{k}", [1.0]) for k in range(12)])
    assert TONES[Tone.BREACH] not in series_colours(distinct_series(peers))
    late = chart(ChartKind.STACKED_BARS, ["p"], Series("On time", [1.0], Tone.MAIN), Series("Late", [1.0], Tone.BREACH))
    assert series_colours(late) == [TONES[Tone.MAIN], TONES[Tone.BREACH]]


def _lab(colour: str) -> tuple[float, float, float]:
    """Return the colour in CIELAB (D65), where a distance of about 2.3 is just noticeable."""
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (linear(int(colour[k:k + 2], 16) / 255) for k in (1, 3, 5))
    x, y, z = ((0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047, 0.2126 * r + 0.7152 * g + 0.0722 * b,
               (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883)

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116
    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def test_the_palette_colours_are_far_apart_from_each_other_and_from_breach_and_neutral():
    colours = [*PALETTE, TONES[Tone.BREACH], TONES[Tone.NEUTRAL]]
    assert len(set(colours)) == len(colours)
    close = [(a, b, round(math.dist(_lab(a), _lab(b)))) for a, b in itertools.combinations(colours, 2)
             if math.dist(_lab(a), _lab(b)) < 25]  # ΔE*ab 25: told apart at a glance, not side by side only
    assert close == []


def _fills_by_series(root: etree._Element) -> dict[str, set[str]]:
    fills: dict[str, set[str]] = {}
    for rect in root.iterfind(".//svg:rect", NS):
        title = rect.find("svg:title", NS)
        if title is not None:
            fills.setdefault(title.text.split(", ", 1)[1].rsplit(":", 1)[0], set()).add(rect.get("fill"))
    return fills


@pytest.mark.parametrize("states", [2, len(PALETTE), len(PALETTE) + 1, 14])
def test_no_two_series_of_a_chart_share_a_colour(states):
    # The purchase-request backlog has 14 states: with a colour per state repeated, "Submitted" and
    # "Approval: budget owner and finance" looked the same.
    series = [Series(f"State {k}", [float(k + 1), float(2 * k + 1)]) for k in range(states)]
    root = parse(render_chart(chart(ChartKind.STACKED_BARS, ["q1", "q2"], *series)))
    fills = _fills_by_series(root)
    assert all(len(colours) == 1 for colours in fills.values())
    drawn = [colours.pop() for colours in fills.values()]
    assert len(set(drawn)) == len(drawn)
    if states > len(PALETTE):  # the smallest are drawn as one "Other", the rest each in their own colour
        grouped = states - len(PALETTE) + 1
        assert set(fills) == {f"State {k}" for k in range(grouped, states)} | {f"Other ({grouped})"}
        assert "Drawn together as Other: State 0, State 1" in root.find("svg:desc", NS).text
    else:
        assert len(drawn) == states


def test_other_holds_the_sum_of_the_series_it_groups():
    series = [Series(f"s{k}", [float(k), None]) for k in range(len(PALETTE) + 2)]
    other = distinct_series(chart(ChartKind.LINES, ["w1", "w2"], *series)).series[-1]
    assert other == Series("Other (3)", [0.0 + 1.0 + 2.0, None], Tone.NEUTRAL)


def _luminance(colour: str) -> float:
    channels = [int(colour[k:k + 2], 16) / 255 for k in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


@pytest.mark.parametrize("colour", [*PALETTE, *TONES.values()])
def test_every_colour_stands_out_from_the_white_background(colour):
    assert (1.05) / (_luminance(colour) + 0.05) >= 3.0  # WCAG 1.4.11: graphics at least 3:1


def test_an_empty_chart_says_so():
    root = parse(render_chart(chart(ChartKind.LINES, ["w1"], Series("n", [0.0]))))
    assert [box[0] for box in label_boxes(root)] == ["Nothing to show in this window"]


@pytest.mark.parametrize(("largest", "ticks"), [(0, [0, 1]), (3, [0, 1, 2, 3]), (7, [0, 2, 4, 6, 8]),
                                                (95, [0, 20, 40, 60, 80, 100]), (1234, [0, 500, 1000, 1500])])
def test_ticks_are_round_numbers_from_zero_past_the_largest(largest, ticks):
    assert nice_ticks(largest) == ticks


def test_the_table_and_the_csv_hold_the_drawn_numbers_and_the_extra_columns():
    data = chart(ChartKind.LINES, ["4 Mar", "11 Mar"], Series("Share", [50.0, None]),
                 extra=[Series("Met", [1.0, 0.0]), Series("Missed", [1.0, 0.0])], value_format=lambda v: f"{v:.0f}%")
    assert data.header() == ["Thing", "Share", "Met", "Missed"]
    assert data.rows() == [["4 Mar", "50%", "1", "1"], ["11 Mar", "", "0", "0"]]
    assert list(csv.reader(io.StringIO(data.csv()))) == [["Thing", "Share", "Met", "Missed"],
                                                         ["4 Mar", "50", "1", "1"], ["11 Mar", "", "0", "0"]]


def test_a_category_that_reads_as_a_formula_stays_text_in_the_csv():
    data = chart(ChartKind.BARS, ['=HYPERLINK("http://x")', "-1"], Series("n", [1.0, 2.0]))
    rows = list(csv.reader(io.StringIO(data.csv())))
    assert rows[1][0] == "'=HYPERLINK(\"http://x\")" and rows[2][0] == "'-1"
