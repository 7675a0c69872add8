"""A chart's numbers, apart from its drawing: what the SVG draws, the HTML table lists and the CSV holds.

One `ChartData` feeds all three, so the picture, the table beside it and the download can
never disagree.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum


class ChartKind(StrEnum):
    BARS = "bars"
    """Horizontal bars, one row per category; several series side by side."""
    STACKED_BARS = "stacked_bars"
    """Horizontal bars, one row per category, the series stacked end to end."""
    STACKED_COLUMNS = "stacked_columns"
    """Vertical columns, one per week, the series stacked."""
    LINES = "lines"
    """One line per series over the weeks."""


class Tone(StrEnum):
    """What a series' colour says. Red is for a breach only: a missed SLA, work past its due time."""

    SERIES = "series"
    """One of several peers (a state, a reason): the next colour of the palette."""
    MAIN = "main"
    BREACH = "breach"
    NEUTRAL = "neutral"


@dataclass(frozen=True)
class Series:
    name: str
    values: list[float | None]
    tone: Tone = Tone.SERIES


@dataclass(frozen=True)
class ChartData:
    """One chart: its categories (rows, or weeks), the series drawn over them, and columns only the table shows.

    Attributes:
        key: a slug naming the chart in ids, links and the CSV's file name.
        title: the chart's heading.
        description: a sentence that says what the chart shows, for people who cannot see it.
        kind: how it is drawn.
        category_label: the heading of the categories' column (Queue, Week, State ...).
        categories: the rows (bars) or points along the time axis (columns, lines).
        series: what is drawn, each with one value per category (None: no value, such as a week with no case).
        value_label: the value axis's label (cases, % met, hours).
        value_format: turns a value into the text a tick, a label or a table cell shows.
        extra: columns the table and the CSV list beside the series (counts behind a percentage).
        value_max: the top of the value axis when it is fixed (100 for a percentage); else from the values.
        reference: a value drawn as a dashed line across the chart (a target), with its label.
        note: a sentence shown under the chart (what was left out of the drawing, say).
        drawn_rows, drawn_series: how many categories (bars) and series (lines) the drawing shows, the
            first ones; None: all. The table and the CSV always hold every one.
    """

    key: str
    title: str
    description: str
    kind: ChartKind
    category_label: str
    categories: list[str]
    series: list[Series]
    value_label: str
    value_format: Callable[[float], str] = field(default=lambda value: f"{value:,.0f}")
    extra: list[Series] = field(default_factory=list)
    value_max: float | None = None
    reference: tuple[float, str] | None = None
    note: str | None = None
    drawn_rows: int | None = None
    drawn_series: int | None = None

    def drawn(self) -> ChartData:
        """Return the chart as it is drawn: its first `drawn_rows` categories and `drawn_series` series."""
        rows, series = self.drawn_rows, self.drawn_series
        return replace(self, categories=self.categories[:rows],
                       series=[Series(s.name, s.values[:rows], s.tone) for s in self.series[:series]],
                       drawn_rows=None, drawn_series=None)

    @property
    def empty(self) -> bool:
        return not self.categories or all(value is None or value == 0 for s in self.series for value in s.values)

    def header(self) -> list[str]:
        """Return the table's column headings: the categories', each series', each extra column's."""
        return [self.category_label, *(s.name for s in self.series), *(s.name for s in self.extra)]

    def rows(self) -> list[list[str]]:
        """Return the table's rows as text, one per category, values formatted as the chart shows them."""
        columns = [*self.series, *self.extra]
        return [[category, *("" if s.values[k] is None else self.value_format_of(s)(s.values[k]) for s in columns)]
                for k, category in enumerate(self.categories)]

    def value_format_of(self, series: Series) -> Callable[[float], str]:
        # Extra columns hold counts behind the drawn values: whole numbers, whatever the axis shows.
        return self.value_format if any(series is drawn for drawn in self.series) else (lambda value: f"{value:,.0f}")

    def csv(self) -> str:
        """Return the table as CSV text: raw numbers (no thousands separators), for a spreadsheet."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow([_safe_cell(heading) for heading in self.header()])
        columns = [*self.series, *self.extra]
        for k, category in enumerate(self.categories):
            writer.writerow([_safe_cell(category), *("" if s.values[k] is None else _number(s.values[k])
                                                     for s in columns)])
        return out.getvalue()


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.4g}" if abs(value) < 1 else f"{value:.2f}"


def _safe_cell(text: str) -> str:
    # A cell starting with = + - @ runs as a formula in a spreadsheet: a queue named "=HYPERLINK(...)"
    # must open as text, not as a link.
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
