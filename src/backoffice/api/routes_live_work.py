"""The map and conformance of live work over HTTP: the engine's own events, analysed as any exported log.

The same analyses as `backoffice map --db` and `backoffice conform --db`: the map's JSON, its
self-contained HTML report, and the conformance of each case to the deployed version it runs on.
They show every case of a workflow and who acted in it, so only those who may see all of a
workflow's work read them (see `ANALYSES`).

The HTML report carries its own inline script and styles (it works offline, as a file). Served
from the API's origin, it is answered with a sandboxing Content-Security-Policy: the page runs
in an opaque origin, so its script can neither read the API's origin (cookies, storage) nor
call anything (`connect-src 'none'`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from backoffice.api.principal import Caller
from backoffice.api.problems import ApiError, documented
from backoffice.api.services import Served
from backoffice.definitions.conformance import VersionsReport
from backoffice.events.schema import EventLog
from backoffice.mapping.model import ProcessMap
from backoffice.services.visibility import READS_EVERYTHING, require

ANALYSES = (*READS_EVERYTHING, "analyst", "workflow-owner")
"""Who may map live work: whoever reads everything (administrators, auditors), analysts and workflow owners."""

REPORT_POLICY = ("sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline'; "
                 "style-src 'unsafe-inline'; img-src data:; connect-src 'none'; form-action 'none'; "
                 "base-uri 'none'; frame-ancestors 'none'")
"""The HTML report's CSP: its inline script and styles run, in a sandbox with an opaque origin, reaching nothing."""

router = APIRouter(prefix="/v1", tags=["live work"], responses=documented(400, 401, 403, 404, 409, 413, 422))

WorkflowName = Annotated[str, Path(min_length=1, max_length=200)]
Version = Annotated[int | None, Query(ge=1, le=1_000_000, description="Only the cases that run on this version.")]


def _live_log(served: Served, caller, workflow: str, version: int | None) -> EventLog:
    """Return the engine's events of a workflow (of the cases on one version), for a caller who may read them.

    Raises:
        Forbidden: the caller may not read all of a workflow's work.
        UnknownWorkflow: the workflow, or that version of it, is not deployed (404).
        ApiError: 409, no case has started yet (nothing to analyse).
    """
    require(caller, ANALYSES, "map live work", workflow=workflow)
    from backoffice.store.event_log import read_engine_log, read_live_work
    store = served.engine.store
    if version is None:
        served.engine.running(workflow)
        log = read_engine_log(store, workflow=workflow)
    else:
        live = read_live_work(store, workflow, version=version)
        log = live.log() if live.logs else None
    if log is None or not len(log):
        on = f" on version {version}" if version is not None else ""
        raise ApiError(409, f"workflow {workflow!r} has no case{on} yet", pointer="/path/workflow",
                       expected="a workflow (and version) with started cases", title="Nothing to map")
    return log


@router.get("/workflows/{workflow}/map", response_model=ProcessMap)
def live_map(workflow: WorkflowName, served: Served, caller: Caller, version: Version = None) -> ProcessMap:
    """Map the live work of a workflow from the engine's own events: the map's JSON (as `backoffice map --db --json`)."""
    from backoffice.mapping.analyze import analyze
    return analyze(_live_log(served, caller, workflow, version))


@router.get("/workflows/{workflow}/map/report", response_class=Response,
            responses={200: {"content": {"text/html": {"schema": {"type": "string"}}},
                             "description": "The self-contained HTML report, sandboxed by its CSP"}})
def live_map_report(workflow: WorkflowName, served: Served, caller: Caller, version: Version = None,
                    download: Annotated[bool, Query(description="Answer as a file to save, not a page.")] = False,
                    ) -> Response:
    """The map of live work as the self-contained HTML report (as `backoffice map --db --html`), sandboxed."""
    from backoffice.mapping.analyze import analyze
    from backoffice.mapping.html_report import render_html
    page = render_html(analyze(_live_log(served, caller, workflow, version)))
    name = f"{workflow}-map.html" if version is None else f"{workflow}-v{version}-map.html"
    disposition = "attachment" if download else "inline"
    # The workflow id is a definition's id (letters, digits, dashes): safe in a quoted file name.
    safe = "".join(ch if ch.isalnum() or ch in "-._" else "-" for ch in name)
    return Response(page, media_type="text/html; charset=utf-8",
                    headers={"Content-Security-Policy": REPORT_POLICY,
                             "Content-Disposition": f'{disposition}; filename="{safe}"'})


@router.get("/workflows/{workflow}/conformance", response_model=VersionsReport)
def live_conformance(workflow: WorkflowName, served: Served, caller: Caller, version: Version = None,
                     as_of: Annotated[datetime | None, Query(description="The moment open cases are judged at "
                                                                         "(default: now).")] = None,
                     ) -> VersionsReport:
    """Check each case of a workflow against the deployed version it runs on (as `backoffice conform --db --json`)."""
    require(caller, ANALYSES, "check the conformance of live work", workflow=workflow)
    from backoffice.definitions.conformance import conform_versions
    from backoffice.store.event_log import ENGINE_STATES, read_live_work
    if as_of is not None and as_of.tzinfo is None:
        raise ApiError(422, f"as_of {as_of.isoformat()} has no time zone", pointer="/query/as_of",
                       expected="a time with its offset, such as 2024-03-04T09:00:00Z", title="Invalid time")
    live = read_live_work(served.engine.store, workflow, version=version)
    if not live.logs:
        on = f" on version {version}" if version is not None else ""
        raise ApiError(409, f"workflow {workflow!r} has no case{on} yet", pointer="/path/workflow",
                       expected="a workflow (and version) with started cases", title="Nothing to check")
    return conform_versions(live.logs, live.definitions, workflow=live.workflow, source=live.source,
                            as_of=as_of or served.clock(), states=ENGINE_STATES)
