"""The dashboards and the live map over HTTP: every chart with its table and CSV, the filter, and who may see them."""

from __future__ import annotations

import csv
import io
import re

import pytest

from .dashboard_site import LEAD, add_service_desk

CHARTS = ["backlog", "age", "sla", "sla-missed", "throughput", "time-in-state", "exceptions-by-reason", "exceptions",
          "work-in-progress"]


@pytest.fixture
def desk(site):
    ids = add_service_desk(site)
    return site, ids


def test_a_team_lead_sees_every_chart_with_its_numbers_and_csv_one_click_away(desk):
    site, _ = desk
    page = site.client(LEAD).get("/dashboards?workflow=service-request&weeks=4")
    assert page.status_code == 200
    html = page.text
    for key in CHARTS:
        assert f'aria-labelledby="chart-{key}-title chart-{key}-desc"' in html
        assert f'href="/dashboards/{key}.csv?workflow=service-request&amp;weeks=4"' in html
    assert html.count("<details>") == len(CHARTS) and html.count("<svg") == len(CHARTS)
    # The backlog's table: the queues as rows, a column per state, and the total.
    assert re.search(r"<th scope=\"row\">service-desk</th><td class=\"number\">1</td><td class=\"number\">1</td>"
                     r"<td class=\"number\">0</td><td class=\"number\">2</td>", html)
    assert "the 4 weeks from 26 February 2024" in html
    assert 'href="/dashboards"' in site.client(LEAD).get("/").text  # in the navigation


def test_the_csv_download_holds_the_chart_numbers_with_a_file_name(desk):
    site, _ = desk
    answer = site.client(LEAD).get("/dashboards/throughput.csv?workflow=service-request&weeks=4&version=1")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["content-disposition"] == \
        'attachment; filename="throughput-service-request-v1-2024-03-20-4w.csv"'
    assert list(csv.reader(io.StringIO(answer.text))) == [
        ["Week starting", "Started", "Ended"], ["26 Feb", "0", "0"], ["4 Mar", "3", "1"], ["11 Mar", "2", "3"],
        ["18 Mar", "2", "0"]]


def test_the_filter_defaults_to_the_first_workflow_and_twelve_weeks(desk):
    site, _ = desk
    html = site.client(LEAD).get("/dashboards").text
    assert '<option value="purchase-approval" selected>' in html
    assert '<option value="12" selected>Last 12 weeks</option>' in html


@pytest.mark.parametrize(("query", "status", "words"), [
    ("weeks=5", 400, "weeks '5': expected one of 4, 8, 12, 26, 52"),
    ("version=abc", 400, "version 'abc': expected a version number"),
    ("workflow=no-such-thing", 404, "no-such-thing"),
    ("workflow=service-request&version=7", 404, "7"),
])
def test_a_bad_filter_is_refused_naming_the_field(desk, query, status, words):
    site, _ = desk
    answer = site.client(LEAD).get(f"/dashboards?{query}")
    assert answer.status_code == status and words in answer.text.replace("&#39;", "'")


def test_an_unknown_chart_has_no_csv(desk):
    site, _ = desk
    answer = site.client(LEAD).get("/dashboards/secrets.csv?workflow=service-request")
    assert answer.status_code == 400 and "chart" in answer.text


@pytest.mark.parametrize("path", ["/dashboards", "/dashboards/backlog.csv?workflow=service-request", "/live-map"])
def test_a_requester_or_a_clerk_may_not_see_the_dashboards(desk, path):
    site, _ = desk
    for person in ("alice", "bea"):
        answer = site.client(person).get(path)
        assert answer.status_code == 403 and "team-lead, manager, administrator" in answer.text
    assert 'href="/dashboards"' not in site.client("alice").get("/").text
    assert site.anonymous().get(path).status_code == 303


def test_the_live_map_shows_the_map_and_its_deviations(desk):
    site, ids = desk
    page = site.client(LEAD).get("/live-map?workflow=service-request&weeks=4")
    assert page.status_code == 200
    html = page.text
    assert 'class="process-map show-frequency time-total"' in html and "<style" not in html
    assert '<link rel="stylesheet" href="/live-map/map.css">' in html
    assert "first-response SLA missed" in html and f'href="/cases/{ids["E"]}"' in html
    style = site.client(LEAD).get("/live-map/map.css")
    assert style.headers["content-type"].startswith("text/css") and ".edge.deviation path" in style.text


def test_the_live_map_of_a_window_with_no_case_says_so(desk):
    site, _ = desk
    html = site.client(LEAD).get("/live-map?workflow=purchase-approval").text
    assert "No case of purchase-approval started in the" in html


def test_the_figures_are_read_again_once_five_minutes_have_passed(desk):
    from backoffice.engine import Actor
    site, _ = desk
    lead = site.client(LEAD)

    def started_this_week() -> str:
        answer = lead.get("/dashboards/throughput.csv?workflow=service-request&weeks=4")
        rows = list(csv.reader(io.StringIO(answer.text)))
        return rows[-1][1]

    assert started_this_week() == "2"
    site.engine.start_case("service-request", {"summary": "New", "description": "-", "category": "it",
                                               "urgency": "low", "requester_email": "ann@example.com"},
                           actor=Actor("ann"), now=site.clock.now)
    site.clock.advance(minutes=4)
    assert started_this_week() == "2"  # the figures of four minutes ago, as the page said
    assert "up to 2024-03-20 12:00 UTC" in lead.get("/dashboards?workflow=service-request&weeks=4").text
    site.clock.advance(minutes=1)
    assert started_this_week() == "3"
    assert "up to 2024-03-20 12:05 UTC" in lead.get("/dashboards?workflow=service-request&weeks=4").text
