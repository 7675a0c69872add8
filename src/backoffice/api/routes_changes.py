"""Governed change over HTTP: the control diff of a definition, the changes waiting, and their approval.

A version that weakens a control (or of a workflow whose change rules ask for it) waits for a
second person before it is deployed (`engine.governance`). The engine's core decides every
refusal: the deployer never approves their own change, and an approver holds the
change-approver role the directory grants (and the roles the change rules name).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from backoffice.api.definition_upload import uploaded_definition
from backoffice.api.principal import Caller
from backoffice.api.problems import documented
from backoffice.api.schemas import DeployRequest, Note, Strict
from backoffice.api.services import Served
from backoffice.engine.ports import VersionChange
from backoffice.services.visibility import DEPLOYS, READS_EVERYTHING, require_somewhere

router = APIRouter(prefix="/v1", tags=["governed change"], responses=documented(400, 401, 413, 422))

REVIEWS_CHANGES = (*DEPLOYS, *READS_EVERYTHING)
"""Who may read control diffs and the changes waiting: deployers, change approvers, auditors."""

WorkflowName = Annotated[str, Path(min_length=1, max_length=200)]
VersionNumber = Annotated[int, Path(ge=1, le=1_000_000)]
ContentHash = Field(min_length=64, max_length=64, pattern=r"^[0-9a-fA-F]{64}$",
                    description="The full content hash of the version you reviewed (sha256, hex).")


class ControlChangeOut(BaseModel):
    kind: str
    where: str
    old: str | None
    new: str | None
    weakens: bool
    reason: str


class ControlDiffOut(BaseModel):
    """What deploying a definition would do to its workflow's controls."""

    workflow: str
    version: int
    content_hash: str
    deployed_version: int | None = Field(description="The version deployed now (None: nothing is deployed).")
    weakens: bool
    second_approver_required: bool = Field(description="The deployed version's change rules ask for one.")
    waits: bool = Field(description="Deploying it would wait for a second person instead of deploying.")
    already_deployed: bool = Field(description="This exact content is deployed already.")
    changes: list[ControlChangeOut]
    lines: list[str] = Field(description="The diff as `backoffice check --db` prints it.")


class ChangeOut(BaseModel):
    """A version that waits (or waited) for a second person."""

    workflow: str
    version: int
    content_hash: str
    status: str
    requested_by: str
    requested_at: datetime
    on_behalf_of: str | None
    decided_by: str | None
    decided_at: datetime | None
    note: str | None
    second_approver_required: bool
    control_diff: dict[str, Any]

    @classmethod
    def of(cls, change: VersionChange) -> ChangeOut:
        reasons = change.reasons
        return cls(workflow=change.candidate.workflow, version=change.candidate.version,
                   content_hash=change.candidate.content_hash, status=change.status,
                   requested_by=change.requested_by, requested_at=change.requested_at,
                   on_behalf_of=reasons.get("on_behalf_of"), decided_by=change.decided_by,
                   decided_at=change.decided_at, note=change.note,
                   second_approver_required=bool(reasons.get("second_approver_required")),
                   control_diff=dict(reasons.get("control_diff") or {}))


class ChangeDecisionRequest(Strict):
    decision: Literal["approve", "reject"] = Field(description="approve: it becomes the deployed version; "
                                                               "reject: it is never deployed.")
    content_hash: str = ContentHash
    note: str | None = Note


@router.post("/workflows/control-diff", response_model=ControlDiffOut, responses=documented(403, 409))
def control_diff(body: DeployRequest, served: Served, caller: Caller) -> ControlDiffOut:
    """Say what deploying a definition would do to the controls, against the deployed version; change nothing."""
    require_somewhere(caller, REVIEWS_CHANGES, "read control diffs")
    with uploaded_definition(body) as definition:
        plan = served.engine.plan_deploy(definition, actor=caller.actor(), now=served.clock())
    return ControlDiffOut(workflow=plan.candidate.workflow, version=plan.candidate.version,
                          content_hash=plan.candidate.content_hash, deployed_version=plan.diff.old_version,
                          weakens=plan.diff.weakens, second_approver_required=plan.second_approver_required,
                          waits=plan.waits, already_deployed=plan.existing is not None,
                          changes=[ControlChangeOut(**change.as_json()) for change in plan.diff.changes],
                          lines=plan.lines())


@router.get("/changes", response_model=list[ChangeOut], responses=documented(403))
def list_changes(served: Served, caller: Caller,
                 workflow: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
                 status: Annotated[Literal["pending", "approved", "rejected", "all"], Query()] = "pending",
                 ) -> list[ChangeOut]:
    """List the versions waiting for a second person (or decided ones), with their control diff."""
    require_somewhere(caller, REVIEWS_CHANGES, "read the changes waiting for approval")
    changes = served.engine.changes(workflow, status=None if status == "all" else status)
    return [ChangeOut.of(change) for change in changes]


@router.post("/workflows/{workflow}/changes/{version}/decision", response_model=ChangeOut,
             responses=documented(403, 404, 409))
def decide_change(workflow: WorkflowName, version: VersionNumber, body: ChangeDecisionRequest, served: Served,
                  caller: Caller) -> ChangeOut:
    """Approve (change-approvers, never its deployer) or reject a waiting version by its exact content hash.

    Its deployer may reject (withdraw) their own change. Approved, it becomes the deployed version.
    """
    engine = served.engine
    now = served.clock()
    if body.decision == "approve":
        engine.approve_change(workflow, version, content_hash=body.content_hash, actor=caller.actor(), now=now,
                              note=body.note)
    else:
        engine.reject_change(workflow, version, content_hash=body.content_hash, actor=caller.actor(), now=now,
                             note=body.note)
    decided = [change for change in engine.changes(workflow, status=None)
               if change.candidate.version == version and change.candidate.content_hash == body.content_hash.lower()]
    return ChangeOut.of(decided[-1])
