"""Workflows over HTTP: deployed versions, deploy, manual mode and migrations (the map of live work: routes_live_work)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError

from backoffice.api.definition_upload import uploaded_definition
from backoffice.api.principal import Caller
from backoffice.api.problems import documented
from backoffice.api.schemas import CalendarRequest, DeployOut, DeployRequest, Strict, VersionOut, WorkflowOut
from backoffice.definitions.model import CalendarSpec
from backoffice.api.services import Served, Services
from backoffice.engine.versions import DeployedVersion
from backoffice.services.visibility import DEPLOYS, OPERATES, require, require_somewhere

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
    require_somewhere(caller, DEPLOYS, "deploy workflow definitions")
    with uploaded_definition(body) as definition:
        deployed = served.engine.deploy(definition, actor=caller.actor(), now=served.clock())
    if not deployed.created and not deployed.pending:
        response.status_code = 200
    return _deploy_answer(served, deployed, response)


@router.put("/workflows/{workflow}/calendar", response_model=DeployOut,
            responses={202: {"model": DeployOut, "description": "The version waits for a second person (status "
                                                                "pending): the workflow's change rules ask for one."},
                       **documented(403, 404, 409)})
def change_calendar(workflow: WorkflowName, body: CalendarRequest, served: Served, caller: Caller,
                    response: Response) -> DeployOut:
    """Deploy the next version of a workflow with this business calendar (administrators; the engine decides).

    Running cases keep the calendar of the version they started on; new cases count on this one.
    """
    try:
        calendar = CalendarSpec.model_validate(body.model_dump(exclude_none=True))
    except ValidationError as invalid:
        # Said as any request field is: a pointer into the body, and what was expected.
        raise RequestValidationError([{**problem, "loc": ("body", *problem["loc"])}
                                      for problem in invalid.errors(include_url=False, include_context=False)])
    deployed = served.engine.change_calendar(workflow, calendar, actor=caller.actor(), now=served.clock())
    return _deploy_answer(served, deployed, response)


def _deploy_answer(served: Services, deployed: DeployedVersion, response: Response) -> DeployOut:
    """The answer to a deploy or a calendar change: the version stored, or 202 when it waits for a second person."""
    if deployed.pending:
        # A version that weakens a control waits for a second person (issue 8): accepted, not deployed.
        response.status_code = 202
        return DeployOut(workflow=deployed.workflow, version=deployed.version, status="pending",
                         content_hash=deployed.content_hash, deployed_at=deployed.deployed_at,
                         deployed_by=deployed.deployed_by, created=deployed.created)
    stored = served.engine.store.version(deployed.workflow, deployed.version)
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
