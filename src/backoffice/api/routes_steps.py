"""Automated steps in doubt over HTTP: list them, and confirm what a person found in the other system.

A step is in doubt when its call may have reached the other system but the engine never learnt
the answer (see `engine.in_doubt`). The engine's core settles it (`Engine.confirm_step`): through
the gate, by someone holding the step's in-doubt role, in one transaction with its audit record.
This module only shows the steps to those who may check them and hands the confirmation over.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from backoffice.api.principal import Caller
from backoffice.api.problems import documented
from backoffice.api.schemas import CaseOut, Strict
from backoffice.api.services import MAX_ID, Served, decode_cursor, encode_cursor, etag
from backoffice.engine import OutboxEntry
from backoffice.engine.in_doubt import NotHappened, in_doubt_role
from backoffice.engine.tasks import TaskKind
from backoffice.errors import NotVisible
from backoffice.services.principal import Principal
from backoffice.services.visibility import OPERATES, READS_EVERYTHING

router = APIRouter(prefix="/v1", tags=["steps in doubt"], responses=documented(400, 401, 413, 422))

EntryId = Annotated[int, Path(ge=1, le=MAX_ID, description="The outbox entry id of the step.")]


class StepInDoubtOut(BaseModel):
    """An automated step whose outcome nobody knows, and who checks it."""

    id: int = Field(description="The outbox entry id: what a confirmation names.")
    case_id: int
    workflow: str
    state: str
    action: str
    idempotency_key: str = Field(description="The key the call carried: look for it in the other system.")
    attempts: int
    max_attempts: int
    why: str | None = Field(description="Why it is in doubt (the worker died mid-call, a timeout...).")
    in_doubt_role: str = Field(description="The role that checks it and confirms.")
    task_id: int | None = Field(description="The open task asking that role to check, when there is one.")


class StepInDoubtPage(BaseModel):
    items: list[StepInDoubtOut]
    next_cursor: str | None


class ConfirmationRequest(Strict):
    """What the person found in the other system."""

    happened: bool = Field(description="true: the call took effect there; false: it did not.")
    result: dict[str, Any] | None = Field(None, description="With happened=true: what the other system shows "
                                                            "(the purchase order number...), recorded as the "
                                                            "step's result. Never with happened=false.")
    then: Literal["retry", "manual"] = Field("retry", description="With happened=false: run the step again, or "
                                                                  "hand it to its manual twin (people).")


class _Checker:
    """Who may see a step in doubt: operators, readers of everything, and holders of its in-doubt role."""

    def __init__(self, served: Served, caller: Principal) -> None:
        self.served = served
        self.caller = caller

    def role_of(self, entry: OutboxEntry) -> str:
        engine = self.served.engine
        case = engine.case(entry.case_id)
        definition = engine.running(case.workflow, case.definition_version).definition
        return in_doubt_role(definition, definition.automated_step(entry.state))

    def may_see(self, entry: OutboxEntry) -> bool:
        return (self.caller.holds(*OPERATES, *READS_EVERYTHING)
                or self.caller.holds_in(entry.workflow, self.role_of(entry)))

    def described(self, entry: OutboxEntry) -> StepInDoubtOut:
        tasks = self.served.engine.tasks(case_id=entry.case_id, limit=1000)
        task = next((t.id for t in tasks if t.kind is TaskKind.IN_DOUBT and t.state == entry.state), None)
        return StepInDoubtOut(id=entry.id, case_id=entry.case_id, workflow=entry.workflow, state=entry.state,
                              action=entry.action, idempotency_key=entry.idempotency_key, attempts=entry.attempts,
                              max_attempts=entry.max_attempts, why=entry.last_error,
                              in_doubt_role=self.role_of(entry), task_id=task)


@router.get("/steps/in-doubt", response_model=StepInDoubtPage)
def list_steps_in_doubt(served: Served, caller: Caller,
                        workflow: Annotated[str | None, Query(max_length=200)] = None,
                        cursor: Annotated[str | None, Query(max_length=200)] = None,
                        limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> StepInDoubtPage:
    """List the steps in doubt the caller may check (their in-doubt role), oldest first; operators see all."""
    limit = min(limit, served.settings.page_limit)
    checker = _Checker(served, caller)

    def fetch(after: int, batch: int):
        return served.engine.steps_in_doubt(after_id=after, limit=batch)

    def keep(entry: OutboxEntry) -> bool:
        return (workflow is None or entry.workflow == workflow) and checker.may_see(entry)

    items, after = served.visibility.page(fetch, keep, lambda entry: entry.id, after=decode_cursor(cursor),
                                          limit=limit)
    return StepInDoubtPage(items=[checker.described(entry) for entry in items], next_cursor=encode_cursor(after))


@router.post("/steps/{entry_id}/confirmation", response_model=CaseOut, responses=documented(403, 404, 409))
def confirm_step(entry_id: EntryId, body: ConfirmationRequest, served: Served, caller: Caller,
                 response: Response) -> CaseOut:
    """Settle a step in doubt as the caller found it: happened (with its result) or not (retry, or manual).

    The engine decides who may: a person the directory grants the step's in-doubt role (403
    otherwise); a step no longer in doubt is a 409. Someone who may neither check the step nor
    see its case gets 404, so ids leak nothing.
    """
    engine = served.engine
    entry = engine.outbox_entry(entry_id)
    if not _Checker(served, caller).may_see(entry) and not served.visibility.may_see_case(
            caller, engine.case(entry.case_id)):
        raise NotVisible(f"outbox entry {entry_id}")
    case = engine.confirm_step(entry_id, happened=body.happened, result=body.result, then=NotHappened(body.then),
                               actor=caller.actor(), now=served.clock())
    response.headers["ETag"] = etag(case.version)
    return CaseOut.of(case)
