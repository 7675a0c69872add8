"""Cases over HTTP: start (idempotent), list, show, move (If-Match), vote, raise and resolve exceptions.

Every endpoint takes its actor from the authenticated principal and calls the engine, whose
core checks decide; the visibility rule keeps other people's cases out of sight (404).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Query, Request, Response

from backoffice.api.answers import json_answer
from backoffice.api.principal import Caller, authenticated, authenticates_inside
from backoffice.api.problems import ApiError, Forbidden, documented
from backoffice.api.schemas import (BranchOut, CaseDetail, CaseOut, CasePage, CommentOut, EventOut,
                                    ExceptionOut, RaiseExceptionRequest, ResolveExceptionRequest, SlaOut, TaskOut,
                                    ParentOut, TimerOut, TransitionRequest, VoteOut, VoteRequest)
from backoffice.api.services import (MAX_ID, Served, decode_cursor, encode_cursor, etag, expected_version,
                                    served_by)
from backoffice.engine import Case, EngineEvent
from backoffice.engine.sla import resolution_due
from backoffice.engine.tasks import TaskKind
from backoffice.errors import IdempotencyKeyTaken
from backoffice.services.branch_view import branches_of, parent_of, paused_because
from backoffice.services.case_view import exceptions_of as case_exceptions

router = APIRouter(prefix="/v1", tags=["cases"], responses=documented(400, 401, 413, 422))

CaseId = Annotated[int, Path(ge=1, le=MAX_ID, description="The case id.")]
WorkflowName = Annotated[str, Path(min_length=1, max_length=200, description="The workflow id.")]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200,
                                              pattern=r"^[\x21-\x7e]+$",
                                              description="Your id for this request: a retry with the same key "
                                                          "and payload returns the first case.")]
IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=100,
                                       description='The ETag of the case you read, e.g. "3".')]


def _with_etag(response: Response, case: Case) -> None:
    response.headers["ETag"] = etag(case.version)


@router.post("/workflows/{workflow}/cases", status_code=201, response_model=CaseOut,
             responses={200: {"model": CaseOut, "description": "A retry: the case the key started first."},
                        **documented(404, 409, 429)})
def start_case(workflow: WorkflowName, served: Served, caller: Caller, response: Response,
               payload: Annotated[dict[str, Any], Body(description="The case data, as the workflow's inputs say.")],
               idempotency_key: IdempotencyKey = None) -> CaseOut:
    """Start a case; the caller is its requester. With Idempotency-Key, a retry returns the first case (200)."""
    now = served.clock()
    served.intake.admit(caller.id, now)
    try:
        case = served.engine.start_case(workflow, payload, actor=caller.actor(), now=now,
                                        idempotency_key=idempotency_key)
    except IdempotencyKeyTaken as taken:
        raise ApiError(409, f"the idempotency key {idempotency_key!r} was used for another request of "
                            f"workflow {workflow!r}", pointer="/header/Idempotency-Key",
                       expected="a key of your own, new for each new request", title="Idempotency key in use") from taken
    # A case this call started was created now; a retry's case (the caller's own: the engine hands
    # nobody else's over) was created by the first call.
    if case.created_at != now:
        response.status_code = 200
    else:
        served.metrics.cases_started.labels(case.workflow, str(case.definition_version)).inc()
    response.headers["Location"] = f"/v1/cases/{case.id}"
    _with_etag(response, case)
    return CaseOut.of(case)


@router.get("/cases", response_model=CasePage)
def list_cases(served: Served, caller: Caller,
               workflow: Annotated[str | None, Query(max_length=200)] = None,
               state: Annotated[str | None, Query(max_length=200)] = None,
               queue: Annotated[str | None, Query(max_length=200)] = None,
               requester: Annotated[str | None, Query(max_length=200)] = None,
               cursor: Annotated[str | None, Query(max_length=200)] = None,
               limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> CasePage:
    """List the cases the caller may see, by id, filtered; follow next_cursor for the next page."""
    limit = min(limit, served.settings.page_limit)
    # What the caller may see is a clause of the query (a keyset page by id): one read per page.
    found = served.engine.store.cases_in_sight(served.visibility.sight(caller), workflow=workflow, state=state,
                                               queue=queue, requester=requester, after_id=decode_cursor(cursor),
                                               limit=limit + 1)
    items = found[:limit]
    after = items[-1].id if len(found) > limit else None
    return CasePage(items=[CaseOut.of(case) for case in items], next_cursor=encode_cursor(after))


@router.get("/cases/{case_id}", response_model=CaseDetail, responses=documented(404))
@authenticates_inside
def show_case(case_id: CaseId, request: Request) -> Response:
    """Show a case with its timeline, tasks, votes and exceptions; its ETag is the case version."""
    caller = authenticated(request)
    served = served_by(request)
    engine = served.engine
    case = served.visibility.case(caller, case_id)
    # The case is in hand (read and seen just now): its parts are read by its id, not each after reading it again.
    history = engine.store.events(case.id)
    tasks = engine.tasks(case_id=case.id, status=None, limit=1000)
    rounds = sorted({task.round for task in tasks if task.kind is TaskKind.APPROVAL})
    votes = [vote for round_ in rounds for vote in engine.store.votes(case.id, round_)]
    definition = engine.running(case.workflow, case.definition_version).definition
    paused = engine.store.paused_time(case.id)
    due = None if paused.since is not None else resolution_due(definition, case, paused)
    timers = [TimerOut(name=t.name, kind=str(t.kind), clock=str(t.clock), state=t.state, status=str(t.status),
                       due_at=t.due_at, settled_at=t.settled_at) for t in engine.store.timers(case.id)]
    branches = branches_of(engine, case)
    parent = parent_of(engine, served.visibility, caller, case)
    return json_answer(CaseDetail(**CaseOut.of(case).model_dump(), timeline=[EventOut.of(event) for event in history],
                      tasks=[TaskOut.of(task) for task in tasks], votes=[VoteOut.of(vote) for vote in votes],
                      exceptions=exceptions_of(history), evidence=sorted(engine.store.evidence_names(case.id)),
                      sla=SlaOut(resolution_due_at=due, paused=paused.since is not None,
                                 paused_seconds=paused.seconds,
                                 paused_because=paused_because(engine, case, paused, branches)), timers=timers,
                      comments=[CommentOut.of(comment) for comment in engine.store.comments(case.id)],
                      branches=[BranchOut.of(seen) for seen in branches],
                      parent=ParentOut(case_id=parent.case_id, state=parent.state, branch=parent.branch)
                      if parent is not None else None), headers={"ETag": etag(case.version)})


@router.post("/cases/{case_id}/transitions", response_model=CaseOut,
             responses=documented(403, 404, 409, 412, 428))
@authenticates_inside
def transition_case(case_id: CaseId, body: TransitionRequest, request: Request,
                    if_match: IfMatch = None) -> Response:
    """Move a case to another state; If-Match must carry the case version you read (412 when stale)."""
    caller = authenticated(request)
    served = served_by(request)
    before = served.visibility.case(caller, case_id)
    if not served.visibility.takes_part(caller, before):
        # Seeing every case (an auditor, a team lead) is not moving it, even by a transition open to anyone.
        raise Forbidden(f"{caller.id} reads case {case_id} but takes no part in it; expected its requester, a worker "
                        f"of its queue, someone with a task on it, or an administrator")
    version = expected_version(if_match)
    case = served.engine.transition(case_id, body.to, actor=caller.actor(), expected_version=version,
                                    now=served.clock(), data=body.data)
    served.metrics.transitions.labels(case.workflow, before.state, case.state).inc()
    return json_answer(CaseOut.of(case), headers={"ETag": etag(case.version)})


@router.post("/cases/{case_id}/votes", response_model=CaseOut, responses=documented(403, 404, 409))
def vote(case_id: CaseId, body: VoteRequest, served: Served, caller: Caller, response: Response) -> CaseOut:
    """Cast the caller's vote on the case's approval; a refusal by separation of duties names the rule (403)."""
    served.visibility.case(caller, case_id)
    case = served.engine.approve(case_id, actor=caller.actor(), now=served.clock(),
                                 reject=body.decision == "reject", note=body.note)
    _with_etag(response, case)
    return CaseOut.of(case)


@router.post("/cases/{case_id}/exceptions", response_model=CaseOut, status_code=201,
             responses=documented(403, 404, 409))
def raise_exception(case_id: CaseId, body: RaiseExceptionRequest, served: Served, caller: Caller,
                    response: Response) -> CaseOut:
    """Raise an exception on a case with a reason code of its workflow's taxonomy."""
    served.visibility.case(caller, case_id)
    case = served.engine.raise_exception(case_id, body.reason, actor=caller.actor(), now=served.clock(),
                                         note=body.note)
    _with_etag(response, case)
    return CaseOut.of(case)


@router.post("/cases/{case_id}/exceptions/resolve", response_model=CaseOut, responses=documented(403, 404, 409))
def resolve_exception(case_id: CaseId, body: ResolveExceptionRequest, served: Served, caller: Caller,
                      response: Response) -> CaseOut:
    """Resolve the case's open exception (the resolver only), with the data it asked for when given."""
    served.visibility.case(caller, case_id)
    case = served.engine.resolve_exception(case_id, actor=caller.actor(), now=served.clock(), note=body.note,
                                           data=body.data)
    _with_etag(response, case)
    return CaseOut.of(case)


def exceptions_of(history: list[EngineEvent] | tuple[EngineEvent, ...]) -> list[ExceptionOut]:
    """Return a case's exceptions as its timeline records them: raised, and resolved when they were."""
    return [ExceptionOut(**found.__dict__) for found in case_exceptions(history)]
