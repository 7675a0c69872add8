"""Workflows over HTTP: deployed versions, deploy, manual mode, migrations, and the map of live work."""

from __future__ import annotations

import tempfile
from pathlib import Path as FilePath, PurePosixPath
from typing import Annotated

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field

from backoffice.api.principal import Caller
from backoffice.api.problems import ApiError, documented
from backoffice.api.schemas import DeployOut, DeployRequest, Strict, VersionOut, WorkflowOut
from backoffice.api.services import Served
from backoffice.services.visibility import DEPLOYS, OPERATES, READS_EVERYTHING, require
from backoffice.mapping.model import ProcessMap

ANALYSES = (*READS_EVERYTHING, "analyst", "workflow-owner")
"""Who may map live work: whoever reads everything, analysts and workflow owners."""

router = APIRouter(prefix="/v1", tags=["workflows"], responses=documented(400, 401, 413, 422))

WorkflowName = Annotated[str, Path(min_length=1, max_length=200)]


@router.get("/workflows", response_model=list[WorkflowOut])
def list_workflows(served: Served, caller: Caller) -> list[WorkflowOut]:
    """List the deployed workflows and their versions."""
    grouped: dict[str, list[VersionOut]] = {}
    for stored in served.engine.versions():
        grouped.setdefault(stored.workflow, []).append(VersionOut.of(stored))
    return [WorkflowOut(workflow=name, latest_version=versions[-1].version, versions=versions)
            for name, versions in grouped.items()]


@router.get("/workflows/{workflow}/versions", response_model=list[VersionOut],
            responses=documented(404))
def list_versions(workflow: WorkflowName, served: Served, caller: Caller) -> list[VersionOut]:
    """List one workflow's deployed versions."""
    served.engine.running(workflow)
    return [VersionOut.of(stored) for stored in served.engine.versions(workflow)]


@router.post("/workflows", response_model=DeployOut, status_code=201,
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
        deployed = served.engine.deploy(definition, actor=caller.actor(), now=served.clock())
    if deployed.pending:
        # A version that weakens a control waits for a second person (issue 8): accepted, not deployed.
        response.status_code = 202
        return DeployOut(workflow=deployed.workflow, version=deployed.version, status="pending",
                         content_hash=deployed.content_hash, deployed_at=deployed.deployed_at,
                         deployed_by=deployed.deployed_by, created=deployed.created)
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


@router.post("/workflows/{workflow}/mode", response_model=ModeOut,
             responses=documented(403, 404))
def set_mode(workflow: WorkflowName, body: ModeRequest, served: Served, caller: Caller) -> ModeOut:
    """Send a workflow's automated steps to people while a system is down, or back to the worker (operators)."""
    require(caller, OPERATES, "switch manual mode")
    served.engine.set_mode(workflow, manual=body.manual, now=served.clock(), actor=caller.actor())
    return ModeOut(workflow=workflow, manual=served.engine.manual_mode(workflow))


@router.post("/workflows/{workflow}/migrations", response_model=MigrationOut,
             responses=documented(403, 404, 409))
def migrate(workflow: WorkflowName, body: MigrateRequest, served: Served, caller: Caller) -> MigrationOut:
    """Move open cases of older versions to a version whose states they fit (operators); dry_run says what would."""
    require(caller, OPERATES, "migrate running cases")
    done = served.engine.migrate_cases(workflow, actor=caller.actor(), now=served.clock(),
                                       to_version=body.to_version, dry_run=body.dry_run)
    return MigrationOut(workflow=done.workflow, to_version=done.to_version, dry_run=done.dry_run,
                        moved=[case.id for case in done.moved],
                        left=[CaseLeftOut(case_id=left.case.id, reason=left.reason) for left in done.left])


@router.get("/workflows/{workflow}/map", responses=documented(403, 404, 409),
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


def _safe_relative(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if (not name or path.is_absolute() or ".." in path.parts or "\\" in name or "\x00" in name
            or len(name) > 200 or path.name == "definition.yaml"):
        raise ApiError(422, f"the file name {name[:80]!r} is not a plain relative name", pointer="/body/files",
                       expected="a relative name such as contracts/invoice.yaml, as the definition names it",
                       title="Invalid file name")
    return path
