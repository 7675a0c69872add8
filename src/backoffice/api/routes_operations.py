"""Workflows, dead letters, the audit trail, who am I, and the probes (/health, /ready, /metrics)."""

from __future__ import annotations

import tempfile
from pathlib import Path as FilePath, PurePosixPath
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from backoffice.api.principal import Caller
from backoffice.api.problems import ApiError, documented
from pydantic import BaseModel, Field

from backoffice.api.schemas import (Strict, AuditVerifyOut, DeployOut, DeployRequest, Health, OutboxOut, OutboxPage,
                                    PrincipalOut, Readiness, VersionOut, WorkflowOut)
from backoffice.api.services import MAX_ID, Served, decode_cursor, encode_cursor
from backoffice.api.visibility import DEPLOYS, OPERATES, READS_EVERYTHING, require

ANALYSES = (*READS_EVERYTHING, "analyst", "workflow-owner")
from backoffice.engine import verify
from backoffice.mapping.model import ProcessMap
from backoffice.store.migrate import current_revision, head_revision

router = APIRouter(prefix="/v1", responses=documented(400, 401, 413, 422))
probes = APIRouter(tags=["probes"])

WorkflowName = Annotated[str, Path(min_length=1, max_length=200)]


@router.get("/me", response_model=PrincipalOut, tags=["directory"])
def who_am_i(caller: Caller) -> PrincipalOut:
    """Say who the token proves the caller is, with the roles and queues the directory gives them."""
    return PrincipalOut(id=caller.id, roles=list(caller.roles), queues=list(caller.queues), service=caller.service)


@router.get("/workflows", response_model=list[WorkflowOut], tags=["workflows"])
def list_workflows(served: Served, caller: Caller) -> list[WorkflowOut]:
    """List the deployed workflows and their versions."""
    grouped: dict[str, list[VersionOut]] = {}
    for stored in served.engine.versions():
        grouped.setdefault(stored.workflow, []).append(VersionOut.of(stored))
    return [WorkflowOut(workflow=name, latest_version=versions[-1].version, versions=versions)
            for name, versions in grouped.items()]


@router.get("/workflows/{workflow}/versions", response_model=list[VersionOut], tags=["workflows"],
            responses=documented(404))
def list_versions(workflow: WorkflowName, served: Served, caller: Caller) -> list[VersionOut]:
    """List one workflow's deployed versions."""
    served.engine.running(workflow)
    return [VersionOut.of(stored) for stored in served.engine.versions(workflow)]


@router.post("/workflows", response_model=DeployOut, status_code=201, tags=["workflows"],
             responses={200: {"model": DeployOut, "description": "The same content was deployed already."},
                        **documented(403, 409)})
def deploy(body: DeployRequest, served: Served, caller: Caller, response: Response) -> DeployOut:
    """Deploy a definition (and the contract files it names) as an immutable version."""
    require(caller, DEPLOYS, "deploy workflow definitions")
    with tempfile.TemporaryDirectory(prefix="backoffice-deploy-") as folder:
        root = FilePath(folder)
        for name, text in body.files.items():
            target = root / _safe_relative(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        definition = root / "definition.yaml"
        definition.write_text(body.definition, encoding="utf-8")
        deployed = served.engine.deploy(definition, actor=caller.id, now=served.clock())
    stored = served.engine.store.version(deployed.workflow, deployed.version)
    if not deployed.created:
        response.status_code = 200
    return DeployOut(**VersionOut.of(stored).model_dump(), created=deployed.created)


class ModeRequest(Strict):
    manual: bool = Field(description="true: automated steps go to people; false: back to the worker.")


class ModeOut(BaseModel):
    workflow: str
    manual: bool


class MigrateRequest(Strict):
    to_version: int | None = Field(None, ge=1, le=1_000_000, description="Default: the latest version.")
    dry_run: bool = False


class CaseLeftOut(BaseModel):
    case_id: int
    reason: str


class MigrationOut(BaseModel):
    workflow: str
    to_version: int
    dry_run: bool
    moved: list[int]
    left: list[CaseLeftOut]


@router.post("/workflows/{workflow}/mode", response_model=ModeOut, tags=["workflows"],
             responses=documented(403, 404))
def set_mode(workflow: WorkflowName, body: ModeRequest, served: Served, caller: Caller) -> ModeOut:
    """Send a workflow's automated steps to people while a system is down, or back to the worker (operators)."""
    require(caller, OPERATES, "switch manual mode")
    served.engine.set_mode(workflow, manual=body.manual, now=served.clock(), actor=caller.actor())
    return ModeOut(workflow=workflow, manual=served.engine.manual_mode(workflow))


@router.post("/workflows/{workflow}/migrations", response_model=MigrationOut, tags=["workflows"],
             responses=documented(403, 404, 409))
def migrate(workflow: WorkflowName, body: MigrateRequest, served: Served, caller: Caller) -> MigrationOut:
    """Move open cases of older versions to a version whose states they fit (operators); dry_run says what would."""
    require(caller, OPERATES, "migrate running cases")
    done = served.engine.migrate_cases(workflow, actor=caller.actor(), now=served.clock(),
                                       to_version=body.to_version, dry_run=body.dry_run)
    return MigrationOut(workflow=done.workflow, to_version=done.to_version, dry_run=done.dry_run,
                        moved=[case.id for case in done.moved],
                        left=[CaseLeftOut(case_id=left.case.id, reason=left.reason) for left in done.left])


@router.get("/workflows/{workflow}/map", tags=["workflows"], responses=documented(403, 404, 409),
            response_model=ProcessMap)
def live_map(workflow: WorkflowName, served: Served, caller: Caller) -> ProcessMap:
    """Map the live work of a workflow from the engine's own events (the map's JSON; analysts, auditors)."""
    require(caller, ANALYSES, "map live work")
    served.engine.running(workflow)
    from backoffice.mapping.analyze import analyze
    from backoffice.store.event_log import read_engine_log
    log = read_engine_log(served.engine.store, workflow=workflow)
    if not len(log):
        raise ApiError(409, f"workflow {workflow!r} has no events yet", pointer="/path/workflow",
                       expected="a workflow with started cases", title="Nothing to map")
    return analyze(log)


@router.get("/dead-letters", response_model=OutboxPage, tags=["operations"], responses=documented(403))
def dead_letters(served: Served, caller: Caller, cursor: Annotated[str | None, Query(max_length=200)] = None,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> OutboxPage:
    """List the dead-letter queue (operators, administrators and auditors)."""
    require(caller, (*OPERATES, *READS_EVERYTHING), "read the dead-letter queue")
    limit = min(limit, served.settings.page_limit)
    entries = served.engine.dead_letters(after_id=decode_cursor(cursor), limit=limit)
    after = entries[-1].id if len(entries) == limit else None
    return OutboxPage(items=[OutboxOut.of(entry) for entry in entries], next_cursor=encode_cursor(after))


@router.post("/dead-letters/{entry_id}/replay", response_model=OutboxOut, tags=["operations"],
             responses=documented(403, 404, 409))
def replay(entry_id: Annotated[int, Path(ge=1, le=MAX_ID)], served: Served, caller: Caller) -> OutboxOut:
    """Put a dead letter back in the outbox with fresh attempts and the same idempotency key (operators)."""
    require(caller, OPERATES, "replay dead letters")
    return OutboxOut.of(served.engine.replay(entry_id, actor=caller.id, now=served.clock()))


@router.get("/audit/verify", response_model=AuditVerifyOut, tags=["audit"], responses=documented(403))
def audit_verify(served: Served, caller: Caller) -> AuditVerifyOut:
    """Check the audit chain and name the first record altered (auditors and administrators)."""
    require(caller, READS_EVERYTHING, "verify the audit trail")
    report = verify(served.engine.store)
    return AuditVerifyOut(ok=report.ok, records=report.records, head_seq=report.head.seq, head_hash=report.head.hash,
                          first_altered=report.first_altered, problem=report.problem, summary=str(report))


@probes.get("/health", response_model=Health)
def health() -> Health:
    """Say the process is alive (it reads nothing)."""
    return Health(status="ok")


@probes.get("/ready", response_model=Readiness, responses={503: {"model": Readiness, "description": "Not ready"}})
def ready(served: Served) -> Readiness | JSONResponse:
    """Say whether the database answers and its tables are at the newest migration."""
    database = served.engine.store.url
    expected = head_revision()
    try:
        revision = current_revision(served.engine.store.engine)
    except sa.exc.SQLAlchemyError as exc:
        answer = Readiness(status="not ready", database=database, revision=None, expected_revision=expected,
                           detail=f"the database does not answer: {str(exc).splitlines()[0]}")
        return JSONResponse(answer.model_dump(mode="json"), status_code=503)
    if revision != expected:
        answer = Readiness(status="not ready", database=database, revision=revision, expected_revision=expected,
                           detail="the database is not at the newest migration")
        return JSONResponse(answer.model_dump(mode="json"), status_code=503)
    return Readiness(status="ready", database=database, revision=revision, expected_revision=expected)


@probes.get("/metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE_LATEST: {}},
                                                                   "description": "Prometheus text format"}})
def metrics(served: Served) -> Response:
    """Prometheus metrics: requests and latency, cases, queues, the outbox and dead letters."""
    return Response(generate_latest(served.metrics.registry), media_type=CONTENT_TYPE_LATEST)


def _safe_relative(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if (not name or path.is_absolute() or ".." in path.parts or "\\" in name or "\x00" in name
            or len(name) > 200 or path.name == "definition.yaml"):
        raise ApiError(422, f"the file name {name[:80]!r} is not a plain relative name", pointer=f"/body/files",
                       expected="a relative name such as contracts/invoice.yaml, as the definition names it",
                       title="Invalid file name")
    return path
