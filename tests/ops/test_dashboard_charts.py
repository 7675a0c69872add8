"""The dashboard's charts: what each draws, what its table and CSV hold, and what the busiest rows leave out."""

from __future__ import annotations

import csv
import io

from lxml import etree

from backoffice.engine import Engine
from backoffice.ops.chart_data import ChartData, ChartKind, Series, Tone
from backoffice.ops.chart_svg import TONES, render_chart
from backoffice.ops.dashboard import read_dashboard
from backoffice.ops.dashboard_charts import MAX_ROWS, dashboard_charts
from backoffice.ops.scope import Scope, Window

from .seeded_cases import NOW, seed_cases

NS = {"svg": "http://www.w3.org/2000/svg"}


def charts_of(store) -> dict[str, ChartData]:
    scope = Scope.of(store, "service-request", Window.last_weeks(NOW, 3))
    with store.engine.connect() as connection:
        return {chart.key: chart for chart in dashboard_charts(read_dashboard(connection, scope))}


def rows(chart: ChartData) -> list[list[str]]:
    return list(csv.reader(io.StringIO(chart.csv())))


def test_each_chart_holds_the_seeded_figures(store):
    seed_cases(Engine(store))
    charts = charts_of(store)
    assert rows(charts["backlog"]) == [["Queue", "New", "Waiting on requester", "Blocked", "Total"],
                                       ["service-desk", "1", "1", "0", "2"], ["resolver-groups", "0", "0", "1", "1"]]
    assert rows(charts["sla"])[1:] == [["4 Mar", "66.67", "100", "2", "1", "1", "0"],
                                       ["11 Mar", "100", "66.67", "2", "0", "2", "1"],
                                       ["18 Mar", "100", "", "1", "0", "0", "0"]]
    assert rows(charts["sla"])[0] == ["Week starting", "First response (4h)", "Resolution (3d)", "First response met",
                                      "First response missed", "Resolution met", "Resolution missed"]
    assert rows(charts["work-in-progress"]) == [["Person", "On time", "Past due"], ["Ann", "0", "1"],
                                                ["Carl", "1", "0"]]
    # The target line comes from the definition's monitoring: sla_attainment below 90% alerts.
    assert charts["sla"].reference == (90.0, "target 90%")


def test_missed_sla_and_overdue_work_are_the_only_red(store):
    seed_cases(Engine(store))
    red = {chart.key: [s.name for s in chart.series if s.tone is Tone.BREACH] for chart in charts_of(store).values()}
    assert {key: names for key, names in red.items() if names} == {"sla-missed": ["Resolution missed"],
                                                                   "work-in-progress": ["Past due"]}


def test_a_chart_draws_its_busiest_rows_and_its_table_lists_every_one():
    people = [f"Person {k:02d}" for k in range(MAX_ROWS + 5)]
    chart = ChartData(key="wip", title="Work", description="Open tasks.", kind=ChartKind.STACKED_BARS,
                      category_label="Person", categories=people, value_label="open tasks",
                      series=[Series("On time", [float(30 - k) for k in range(len(people))], Tone.MAIN)],
                      drawn_rows=MAX_ROWS)
    root = etree.fromstring(render_chart(chart).encode())
    drawn = {text.text for text in root.iterfind(".//svg:text", NS)}
    assert set(people[:MAX_ROWS]) <= drawn and not set(people[MAX_ROWS:]) & drawn
    assert [row[0] for row in rows(chart)[1:]] == people
    assert TONES[Tone.MAIN] in {rect.get("fill") for rect in root.iterfind(".//svg:rect", NS)}
