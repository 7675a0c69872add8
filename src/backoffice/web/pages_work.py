"""My work: my tasks and my queues' tasks by SLA due, filters saved and shared as links, and the acts on tasks.

The list is a fragment (`/work/list`) that the page polls with htmx, so new work appears by
itself; it shows a page of `PAGE` tasks, and "Next page" continues after the last one's place
in the order (keyset: a link keeps the filters, and work arriving earlier shifts nothing); the poll carries the boxes ticked for a bulk act, and they come back ticked. Without
JavaScript everything is a plain form that posts and redirects (or shows each task's result).

Every act is the engine's operation as the signed-in person (`readmodels.work`): claim,
claim next, release, reassign (the engine says who may), alone or in bulk.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request

from backoffice.engine.tasks import TaskKind
from backoffice.errors import InputRefused, NotVisible, UnknownTask
from backoffice.readmodels import viewer_of
from backoffice.readmodels.board import age_text, summary_of
from backoffice.readmodels.saved_filters import delete_filter, save_filter, saved_filters
from backoffice.readmodels.work import (FILTER_FIELDS, act, claim_next, decode_place, encode_place, filter_from_query,
                                        my_work, place_of, query_string)
from backoffice.web.context import Web
from backoffice.web.render import redirect, render
from backoffice.services.principal import Principal
from backoffice.web.sessions import CurrentUser

router = APIRouter()

POLL_SECONDS = 20
# Tasks a page of My work shows; the next page starts after the last one's place (keyset, like the API's cursors).
PAGE = 200
Text = Annotated[str, Form(max_length=200)]


def _search_params(request: Request) -> dict[str, str]:
    return {name: request.query_params.get(name, "") for name in FILTER_FIELDS}


def _list_context(request: Request, web, user, params: dict[str, str], *, ticked: set[int] | None = None) -> dict:
    now = web.clock()
    viewer = viewer_of(web.engine, user.id)
    error = None
    try:
        search = filter_from_query(params)
    except InputRefused as refused:
        error, search = str(refused), filter_from_query({})
    cursor = request.query_params.get("after", "")[:200]
    try:
        after = decode_place(cursor) if cursor else None
    except InputRefused as refused:
        error, after, cursor = str(refused), None, ""
    # One more than a page: whether there is a next one, without counting them all.
    items = list(my_work(web.engine, viewer, search, now=now, limit=PAGE + 1, after=after))
    next_cursor = encode_place(place_of(items[PAGE - 1])) if len(items) > PAGE else None
    items = items[:PAGE]
    query = query_string(search)
    here = "&".join(filter(None, [query, f"after={cursor}" if cursor else ""]))
    return {"items": items, "now": now, "viewer": viewer, "search": search, "query": query,
            "filter_error": error, "ticked": ticked or set(), "age_text": age_text, "summary_of": summary_of,
            "poll_seconds": POLL_SECONDS, "list_url": "/work/list" + (f"?{here}" if here else ""),
            "paged": bool(cursor), "first_page": "/work" + (f"?{query}" if query else ""),
            "next_page": f"/work?{query + '&' if query else ''}after={next_cursor}" if next_cursor else None}


@router.get("/work")
def work_page(request: Request, user: CurrentUser, web: Web):
    """The page: filters, saved filters, claim next, and the list (which then refreshes itself)."""
    params = _search_params(request)
    context = _list_context(request, web, user, params)
    viewer = context["viewer"]
    context.update(saved=saved_filters(web.engine, viewer), params=params,
                   kinds=[str(kind) for kind in TaskKind], workflows=sorted({v.workflow for v in web.engine.versions()}),
                   may_reassign=web.engine.leads_work(user.id, now=context["now"]))
    status = 422 if context["filter_error"] else 200
    return render(request, "work.html", context, status=status)


@router.get("/work/list")
def work_list(request: Request, user: CurrentUser, web: Web,
              task_id: Annotated[list[int], Query(max_length=500)] = []):  # noqa: B006 - FastAPI reads it
    """The list alone, for the page's poll: the same search, with the boxes ticked that were ticked."""
    context = _list_context(request, web, user, _search_params(request), ticked=set(task_id))
    return render(request, "_work_list.html", context)


@router.post("/work/next")
def take_next(request: Request, user: CurrentUser, web: Web, queue: Text = ""):
    """Claim the most urgent task of my queues (or of the queue chosen)."""
    viewer = viewer_of(web.engine, user.id)
    task = claim_next(web.engine, viewer, now=web.clock(), queues=[queue] if queue else None)
    if task is None:
        return redirect(request, "/work", flash="No task is waiting that you may take.")
    return redirect(request, "/work?scope=mine", flash=f"Task {task.id} of case {task.case_id} is yours.")


@router.post("/work/tasks/{task_id}/{action}")
def one_task(task_id: int, action: str, request: Request, user: CurrentUser, web: Web,
             queue: Text = "", person: Text = "", back: Annotated[str, Form(max_length=500)] = ""):
    """Claim, release or reassign one task; the engine decides, and its answer is the flash."""
    [result] = act(web.engine, action, [task_id], viewer=viewer_of(web.engine, user.id), now=web.clock(),
                   queue=queue, person=person, seen=_seen_by(web, user))
    if not result.done:
        return render(request, "work_results.html", {"results": [result], "action": action, "back": _back(back)},
                      status=409)
    # The message also fills a cell of the bulk results; as the page's one line it starts a sentence.
    return redirect(request, _back(back), flash=result.message[:1].upper() + result.message[1:])


@router.post("/work/bulk")
def bulk(request: Request, user: CurrentUser, web: Web, action: Text = "",
         task_id: Annotated[list[int], Form()] = [],  # noqa: B006 - FastAPI reads it
         queue: Text = "", person: Text = "", back: Annotated[str, Form(max_length=500)] = ""):
    """Apply one act to every ticked task; show each task's result."""
    results = act(web.engine, action, task_id, viewer=viewer_of(web.engine, user.id), now=web.clock(),
                  queue=queue, person=person, seen=_seen_by(web, user))
    return render(request, "work_results.html", {"results": results, "action": action, "back": _back(back)})


@router.post("/work/filters")
def save(request: Request, user: CurrentUser, web: Web, name: Text = "",
         query: Annotated[str, Form(max_length=2000)] = "", share_with: Text = ""):
    """Save the current search under a name (shared with one of my queues when chosen)."""
    saved = save_filter(web.engine, viewer_of(web.engine, user.id), name=name, query=query, share_with=share_with,
                        now=web.clock())
    shared = f", shared with {saved.shared_queue}" if saved.shared_queue else ""
    return redirect(request, "/work" + (f"?{saved.query}" if saved.query else ""),
                    flash=f"Filter {saved.name!r} saved{shared}.")


@router.post("/work/filters/{filter_id}/delete")
def delete(filter_id: int, request: Request, user: CurrentUser, web: Web):
    """Delete one of my saved filters (someone else's shared one is theirs to delete)."""
    if not delete_filter(web.engine, viewer_of(web.engine, user.id), filter_id):
        raise InputRefused("the filter", f"filter {filter_id} is not one of yours", "one of your saved filters")
    return redirect(request, "/work", flash="Filter deleted.")


def _seen_by(web, user: Principal):
    """The check that a task is one the signed-in person may see; one that is not, or no task at all, is answered
    alike as absent (as the API's 404): an act's refusal would name whose task it is, and of which workflow."""
    def check(task_id: int) -> None:
        try:
            web.visibility.task(user, task_id)
        except UnknownTask:
            raise NotVisible(f"task {task_id}") from None
    return check


def _back(path: str) -> str:
    # Only a path of My work: a crafted form cannot send the browser elsewhere.
    return path if path.startswith("/work") and not path.startswith("//") and "\\" not in path else "/work"

