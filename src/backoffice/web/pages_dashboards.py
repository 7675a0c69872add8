"""The dashboards of team leads and managers, and the live process map, with each chart's numbers one click away.

- `/dashboards`: backlog, age of open cases, SLA attainment, throughput, time in state, exceptions
  and work in progress of one workflow (one version, or all) over the last weeks, chosen in a
  GET form. Each chart is an SVG drawn on the server (no script), with its numbers in a table
  under a <details> and as a CSV download (`/dashboards/{chart}.csv`, same filter).
- `/live-map`: the map of the engine's own events (`backoffice map --db`'s analysis and
  renderer) with the moves the definition does not allow marked, and the conformance
  deviations listed.

Why the map is the SVG in the page, and not the HTML report in a frame: the page must pass
the app's Content-Security-Policy (no inline script or style) and axe-core like every page.
The report's viewer (detail sliders, pan and zoom) is an inline script written for the
report's own page; framing it would need a second, looser policy for that frame and would hide
its contents from the page's accessibility check. The SVG needs no script at all: its style
sheet is served from `/live-map/map.css`, it scrolls in a keyboard-focusable frame, and the
deviations are a table beside it. Whoever wants the full report runs `backoffice map --db`.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from markupsafe import Markup

from backoffice.errors import BadOption, UnknownWorkflow
from backoffice.mapping.svg import STYLE as MAP_STYLE
from backoffice.ops.chart_data import ChartData
from backoffice.ops.chart_svg import render_chart
from backoffice.ops.dashboard import Dashboard, read_dashboard
from backoffice.ops.dashboard_cache import RecentReads
from backoffice.ops.dashboard_charts import dashboard_charts
from backoffice.ops.live_map import DEVIATION_COLOUR, PAGE_RULES, live_map
from backoffice.ops.scope import Scope, Window
from backoffice.services.dashboard_access import require_dashboards
from backoffice.web.context import Web, WebServices
from backoffice.web.render import render
from backoffice.web.sessions import CurrentUser

router = APIRouter()

WEEK_CHOICES = (4, 8, 12, 26, 52)
DEFAULT_WEEKS = 12
LIVE_MAP_DEFAULT_WEEKS = 4
"""The live map reads whole event histories into memory: by default the cases of the last four weeks."""
MAP_WIDTH = 1120.0
"""The page's content width (app.css: main is 72rem, less its padding): a map wider is drawn smaller to fit."""
_VERSION = re.compile(r"^[1-9][0-9]{0,8}$")


class Filter:
    """The workflow, version and weeks a page was asked for, checked against what is deployed."""

    def __init__(self, web: WebServices, workflow: str | None, version: str | None, weeks: str | None, *,
                 default_weeks: int) -> None:
        versions = web.engine.versions()
        self.workflows = sorted({v.workflow for v in versions})
        self.workflow = workflow or (self.workflows[0] if self.workflows else None)
        if self.workflow is not None and self.workflow not in self.workflows:
            raise UnknownWorkflow(self.workflow, self.workflows)
        self.versions = sorted(v.version for v in versions if v.workflow == self.workflow)
        self.version = _version(version)
        if self.version is not None and self.version not in self.versions:
            raise UnknownWorkflow(self.workflow, self.versions, self.version)
        self.weeks = _weeks(weeks, default_weeks)
        self.now: datetime = web.clock()
        self.window = Window.last_weeks(self.now, self.weeks)
        self.week_choices = WEEK_CHOICES

    def query(self) -> str:
        """Return the filter as a query string, for links that keep it."""
        values = {"workflow": self.workflow or "", "weeks": str(self.weeks)}
        if self.version is not None:
            values["version"] = str(self.version)
        return urlencode(values)


def _version(text: str | None) -> int | None:
    if text is None or text in ("", "all"):
        return None
    if not _VERSION.match(text):
        raise BadOption("version", text, "a version number such as 2, or all versions")
    return int(text)


def _weeks(text: str | None, default: int) -> int:
    if text is None or text == "":
        return default
    if not text.isdigit() or int(text) not in WEEK_CHOICES:
        raise BadOption("weeks", text, f"one of {', '.join(map(str, WEEK_CHOICES))}")
    return int(text)


QueryText = Annotated[str | None, Query(max_length=200)]


# Per engine (one per app): tests and processes with other databases never share figures.
_RECENT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class DrawnDashboard:
    """A dashboard read, with its charts drawn: kept together, so a page served from it draws nothing again."""

    dashboard: Dashboard
    charts: list[tuple[ChartData, Markup]]

    def chart(self, key: str) -> ChartData | None:
        return next((data for data, _ in self.charts if data.key == key), None)


def _dashboard(web: WebServices, chosen: Filter) -> DrawnDashboard:
    """Return the scope's dashboard, as read within the last few minutes (see ops/dashboard_cache.py)."""
    store = web.engine.store

    def read() -> DrawnDashboard:
        scope = Scope.of(store, chosen.workflow, chosen.window, version=chosen.version)
        # One read transaction: the figures agree with each other.
        with store.engine.connect() as connection, connection.begin():
            dashboard = read_dashboard(connection, scope)
        return DrawnDashboard(dashboard, [(chart, Markup(render_chart(chart, chart_id=f"chart-{chart.key}")))
                                          for chart in dashboard_charts(dashboard)])

    recent = _RECENT.setdefault(web.engine, RecentReads())
    dashboard, _ = recent.get((chosen.workflow, chosen.version, chosen.weeks), chosen.now, read)
    return dashboard


@router.get("/dashboards")
def dashboards(request: Request, user: CurrentUser, web: Web, workflow: QueryText = None, version: QueryText = None,
               weeks: QueryText = None):
    require_dashboards(user)
    chosen = Filter(web, workflow, version, weeks, default_weeks=DEFAULT_WEEKS)
    require_dashboards(user, chosen.workflow)
    charts, window = [], None
    if chosen.workflow is not None:
        drawn = _dashboard(web, chosen)
        window = drawn.dashboard.scope.window
        charts = [{"data": data, "svg": svg} for data, svg in drawn.charts]
    return render(request, "dashboards.html", {"filter": chosen, "charts": charts, "window": window})


@router.get("/dashboards/{key}.csv")
def dashboard_csv(key: str, request: Request, user: CurrentUser, web: Web, workflow: QueryText = None,
                  version: QueryText = None, weeks: QueryText = None):
    require_dashboards(user)
    chosen = Filter(web, workflow, version, weeks, default_weeks=DEFAULT_WEEKS)
    require_dashboards(user, chosen.workflow)
    if chosen.workflow is None:
        raise UnknownWorkflow("(none)", [])
    drawn = _dashboard(web, chosen)
    chart = drawn.chart(key)
    if chart is None:
        raise BadOption("chart", key, f"one of {', '.join(data.key for data, _ in drawn.charts)}")
    # The figures the page showed (the same recent read), named for the moment they were read.
    read_at = drawn.dashboard.scope.window.now
    name = f"{key}-{chosen.workflow}" + (f"-v{chosen.version}" if chosen.version else "") + \
        f"-{read_at:%Y-%m-%d}-{chosen.weeks}w.csv"
    return Response(chart.csv(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{_file_name(name)}"'})


def _file_name(name: str) -> str:
    # A workflow id is text from a definition: keep the header's quoted file name plain.
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


@router.get("/live-map")
def live_map_page(request: Request, user: CurrentUser, web: Web, workflow: QueryText = None,
                  version: QueryText = None, weeks: QueryText = None):
    require_dashboards(user)
    chosen = Filter(web, workflow, version, weeks, default_weeks=LIVE_MAP_DEFAULT_WEEKS)
    require_dashboards(user, chosen.workflow)
    live = None
    if chosen.workflow is not None:
        def read():
            return live_map(web.engine.store, chosen.workflow, version=chosen.version, now=chosen.now,
                            since=chosen.window.start, fit_width=MAP_WIDTH)
        # The map reads whole case histories into memory: read again after five minutes, as the dashboards are.
        recent = _RECENT.setdefault(web.engine, RecentReads())
        live, _ = recent.get(("live-map", chosen.workflow, chosen.version, chosen.weeks), chosen.now, read)
    return render(request, "live_map.html", {
        "filter": chosen, "live": live, "svg": Markup(live.svg) if live and live.svg else None,
        "deviation_colour": DEVIATION_COLOUR})


@router.get("/live-map/map.css")
def live_map_style(user: CurrentUser) -> Response:
    """Serve the map's style sheet: the rules `backoffice map` puts inside its SVG, here as a file the CSP allows."""
    return Response(MAP_STYLE + PAGE_RULES, media_type="text/css",
                    headers={"Cache-Control": "private, max-age=300"})
