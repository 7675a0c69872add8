"""Tasks over HTTP: list by queue or assignee, claim the next, claim, release, complete.

One claimant at a time is the store's guarantee; eligibility (role, person) and who may
reassign are the engine's. The visibility rule decides which queues and tasks a caller may list.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response

from backoffice.api.answers import json_answer
from backoffice.api.principal import Caller, Principal, authenticated, authenticates_inside
from backoffice.api.problems import ApiError, Forbidden, Problem, detail_of, documented, field_problems, status_of
from backoffice.api.schemas import (BulkItemResult, BulkResult, BulkTaskRequest, CompleteRequest, NextTaskRequest,
                                    ReassignRequest, TaskOut, TaskPage)
from backoffice.api.services import MAX_ID, Served, Services, decode_cursor, encode_cursor, served_by
from backoffice.services.visibility import READS_EVERYTHING
from backoffice.engine.tasks import Task, TaskStatus
from backoffice.errors import BackofficeError

router = APIRouter(prefix="/v1/tasks", tags=["tasks"], responses=documented(400, 401, 413, 422))

TaskId = Annotated[int, Path(ge=1, le=MAX_ID, description="The task id.")]
ME = "me"


@router.get("", response_model=TaskPage, responses=documented(403))
@authenticates_inside
def list_tasks(request: Request,
               queue: Annotated[str | None, Query(max_length=200, description="Tasks waiting in this queue.")] = None,
               assignee: Annotated[str | None, Query(max_length=200,
                                                     description="Tasks given to this person; 'me' for yours.")] = None,
               status: Annotated[Literal["open", "completed", "cancelled", "any"], Query()] = "open",
               cursor: Annotated[str | None, Query(max_length=200)] = None,
               limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> Response:
    """List tasks: a queue's, a person's (assignee=me), or, without either, every task the caller may see."""
    caller = authenticated(request)
    served = served_by(request)
    visibility = served.visibility
    if queue is not None:
        visibility.check_queue(caller, queue)
    person = caller.id if assignee == ME else assignee
    if person is not None and person != caller.id and not caller.holds(*READS_EVERYTHING):
        raise Forbidden(f"{caller.id} may not list the tasks of {person}; expected assignee=me")
    wanted = None if status == "any" else TaskStatus(status)
    # Who may see which task is a clause of the query (a keyset page by id), not a filter after reading:
    # a queue the caller works, or the tasks of a person they may list, are theirs whole (checked above).
    sight = None if queue is not None or person is not None else visibility.sight(caller)
    page_size = min(limit, served.settings.page_limit)
    found = served.engine.store.task_rows_in_sight(sight, queue=queue, status=wanted, person=person,
                                                   after_id=decode_cursor(cursor), limit=page_size + 1)
    items = found[:page_size]
    after = items[-1].id if len(found) > page_size else None
    # The page is answered from the rows as read, each validated as a TaskOut from its columns by pydantic in
    # one call (the same fields, values and JSON as TaskOut.of a Task): building a Task, then a TaskOut, of each
    # cost a millisecond of CPU for a page of fifty.
    return json_answer(TaskPage.model_validate({"items": items, "next_cursor": encode_cursor(after)},
                                               from_attributes=True))


@router.post("/next", response_model=TaskOut,
             responses={204: {"description": "No task is waiting that the caller may take."}, **documented(403)})
@authenticates_inside
def claim_next(body: NextTaskRequest, request: Request) -> Response:
    """Claim the most urgent task the caller may take in these queues; 204 when there is none."""
    caller = authenticated(request)
    served = served_by(request)
    for queue in body.queues:
        served.visibility.check_queue(caller, queue)
    task = served.engine.next_task(body.queues, actor=caller.actor(), now=served.clock())
    if task is None:
        return Response(status_code=204)
    return json_answer(TaskOut.of(task))


@router.get("/{task_id}", response_model=TaskOut, responses=documented(404))
def show_task(task_id: TaskId, served: Served, caller: Caller) -> TaskOut:
    """Show a task the caller may see."""
    return TaskOut.of(served.visibility.task(caller, task_id))


@router.post("/{task_id}/claim", response_model=TaskOut, responses=documented(403, 404, 409))
def claim(task_id: TaskId, served: Served, caller: Caller) -> TaskOut:
    """Claim a task (renew your own claim); one claimant at a time."""
    served.visibility.task(caller, task_id)
    return TaskOut.of(served.engine.claim(task_id, actor=caller.actor(), now=served.clock()))


@router.post("/{task_id}/release", response_model=TaskOut, responses=documented(404, 409))
@authenticates_inside
def release(task_id: TaskId, request: Request) -> Response:
    """Give a task you hold back to its queue."""
    caller = authenticated(request)
    served = served_by(request)
    served.visibility.task(caller, task_id)
    return json_answer(TaskOut.of(served.engine.release(task_id, actor=caller.actor(), now=served.clock())))


@router.post("/{task_id}/reassign", response_model=TaskOut, responses=documented(403, 404, 409))
def reassign(task_id: TaskId, body: ReassignRequest, served: Served, caller: Caller) -> TaskOut:
    """Give an open task to another queue or person (team leads, operators, administrators)."""
    return TaskOut.of(_reassign(served, caller, task_id, body))


@router.post("/bulk", response_model=BulkResult, responses=documented(403))
def bulk(body: BulkTaskRequest, served: Served, caller: Caller) -> BulkResult:
    """Claim, release or reassign many tasks; each task gets the result it would have had alone."""
    if body.action == "reassign":
        if body.reassign is None:
            raise ApiError(422, "a bulk reassign needs where to", pointer="/body/reassign",
                           expected='{"queue": ...} or {"person": ...}', title="Invalid request")
    results = []
    for task_id in dict.fromkeys(body.task_ids):
        try:
            if body.action == "claim":
                served.visibility.task(caller, task_id)
                task = served.engine.claim(task_id, actor=caller.actor(), now=served.clock())
            elif body.action == "release":
                served.visibility.task(caller, task_id)
                task = served.engine.release(task_id, actor=caller.actor(), now=served.clock())
            else:
                task = _reassign(served, caller, task_id, body.reassign)
            results.append(BulkItemResult(task_id=task_id, status=200, task=TaskOut.of(task)))
        except BackofficeError as error:
            status = status_of(error)
            if status >= 500:
                raise
            results.append(BulkItemResult(task_id=task_id, status=status, problem=Problem(
                type="about:blank", title=type(error).__name__, status=status, detail=detail_of(error),
                errors=field_problems(error))))
    succeeded = sum(result.status == 200 for result in results)
    return BulkResult(succeeded=succeeded, failed=len(results) - succeeded, results=results)


def _reassign(served: Services, caller: Principal, task_id: int, body: ReassignRequest) -> Task:
    # Who may reassign, and that an approval's task is never reassigned, is the engine's rule
    # (Engine.reassign), the same for every interface.
    if body.queue is None and body.person is None:
        raise ApiError(422, "a reassignment needs a queue or a person", pointer="/body",
                       expected='{"queue": ...} or {"person": ...}', title="Invalid request")
    served.visibility.task(caller, task_id)
    return served.engine.reassign(task_id, actor=caller.actor(), now=served.clock(), queue=body.queue,
                                  role=body.role, person=body.person)


@router.post("/{task_id}/complete", response_model=TaskOut, responses=documented(403, 404, 409, 412))
def complete(task_id: TaskId, body: CompleteRequest, served: Served, caller: Caller) -> TaskOut:
    """Complete a task you hold by moving its case to `to`, in one transaction."""
    served.visibility.task(caller, task_id)
    task = served.engine.complete(task_id, actor=caller.actor(), now=served.clock(), to=body.to, data=body.data)
    served.metrics.transitions.labels(task.workflow, task.state, body.to).inc()
    return TaskOut.of(task)
