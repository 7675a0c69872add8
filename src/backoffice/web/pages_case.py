"""The case page, my requests, and what a reader does there: answer "needs info", comment, attach, download,
and, holding the case's task, move it on or raise an exception (such as needs_info).

Every route reads the case through `Visibility.case` (a case not theirs is a 404, as over the
API) and acts through the engine's core operations, the same the API and the command line
call: `resolve_exception` (with the data asked for), `add_comment`, `attach_evidence`,
`complete` and `raise_exception`.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from backoffice.engine.worklist import RequestedCase
from backoffice.errors import ContractViolation, EvidenceRefused, NotVisible, UserError
from backoffice.services.evidence_files import ALLOWED
from backoffice.services.principal import Principal
from backoffice.web.case_page import attachments_of, case_view, may_write
from backoffice.web.context import Web, WebServices
from backoffice.web.intake_form import IntakeForm, posted_fields, posted_from
from backoffice.web.render import redirect, render
from backoffice.web.sessions import CurrentUser
from backoffice.web.task_actions import held_task, task_actions

router = APIRouter()
CaseId = Annotated[int, Path(ge=1, le=2**63 - 1)]
PAGE = 50
MAX_REQUESTS = 1000
"""The newest requests of a person the list orders; older ones are reached through search (a cap, not a page)."""


def _page(request: Request, web: WebServices, user: Principal, case_id: int, *, answer_posted: dict | None = None,
          answer_rows: dict | None = None, answer_errors: dict | None = None, comment: str = "",
          comment_error: str | None = None, upload_error: str | None = None, answer_note: str = "",
          task_error: str | None = None, status: int = 200):
    view = case_view(web, user, case_id)
    actions = task_actions(web.engine, user, view.case, view.definition, view.tasks, web.clock())
    answer_nodes = []
    if view.answer_task is not None:
        form = IntakeForm(web.engine.running(view.case.workflow, view.case.definition_version).inputs.json_schema())
        posted = answer_posted if answer_posted is not None else posted_from(view.case.data)
        rows = answer_rows if answer_rows is not None else form.act(posted)[1]
        answer_nodes = form.nodes(rows, posted, answer_errors or {})
    return render(request, "case.html", {
        "view": view, "case": view.case, "definition": view.definition, "answer_nodes": answer_nodes,
        "answer_errors": answer_errors or {}, "answer_note": answer_note, "comment": comment,
        "comment_error": comment_error, "upload_error": upload_error, "data_json": _pretty(view.case.data),
        "actions": actions, "task_error": task_error, "now": web.clock()}, status=status)


@router.get("/cases/{case_id}")
def case_page(case_id: CaseId, request: Request, user: CurrentUser, web: Web):
    return _page(request, web, user, case_id)


@router.get("/requests")
def my_requests(request: Request, user: CurrentUser, web: Web,
                page: Annotated[int, Query(ge=1, le=MAX_REQUESTS // PAGE)] = 1):
    """The cases the signed-in person started (or that were started on their behalf), a page at a time: first
    what waits for their answer, then the open ones, then the ended ones, newest first in each."""
    requested = list(web.engine.store.requested_cases(user.id, limit=MAX_REQUESTS))

    def ended(item: RequestedCase) -> bool:
        return web.engine.running(item.workflow, item.definition_version).definition.state(item.state).kind.is_end

    ordered = sorted(requested, key=lambda item: (0 if item.asks_me else 2 if ended(item) else 1,
                                                  -item.created_at.timestamp(), -item.case_id))
    rows = []
    for item in ordered[(page - 1) * PAGE:page * PAGE]:
        case = web.engine.case(item.case_id)
        definition = web.engine.running(case.workflow, case.definition_version).definition
        rows.append({"case": case, "title": definition.title, "state": case.state, "ended": ended(item),
                     "waiting": web.engine.store.open_exception(case.id), "asks_me": item.asks_me})
    return render(request, "my_requests.html", {"rows": rows, "page": page,
                                                "next_page": page + 1 if len(ordered) > page * PAGE else None,
                                                "capped": len(requested) == MAX_REQUESTS})


@router.post("/cases/{case_id}/answer")
async def answer(case_id: CaseId, request: Request, user: CurrentUser, web: Web):
    form = await request.form(max_fields=2000, max_files=0)
    posted = posted_fields(form)
    action = form.get("form_action") if isinstance(form.get("form_action"), str) else "submit"
    note = str(form.get("note") or "")[:2000]
    return await run_in_threadpool(_answer, request, web, user, case_id, posted, action, note)


def _answer(request: Request, web: WebServices, user: Principal, case_id: int, posted: dict, action: str,
            note: str):
    """Answer "needs info": the data asked for and a note, through the engine's resolution of the exception."""
    view = case_view(web, user, case_id)
    if view.answer_task is None:
        raise NotVisible(f"question on case {case_id} waiting for your answer")
    case = view.case
    form = IntakeForm(web.engine.running(case.workflow, case.definition_version).inputs.json_schema())
    posted, rows = form.act(posted, None if action == "submit" else action)
    if action != "submit":
        return _page(request, web, user, case_id, answer_posted=posted, answer_rows=rows, answer_note=note)
    payload = form.read(posted, rows)
    changed = {name: value for name, value in payload.items() if case.data.get(name) != value}
    try:
        web.engine.resolve_exception(case.id, actor=user.actor(), now=web.clock(), note=note.strip() or None,
                                     data=changed or None)
    except ContractViolation as refused:
        return _page(request, web, user, case_id, answer_posted=posted, answer_rows=rows, answer_note=note,
                     answer_errors=form.errors(refused.violations, rows, posted), status=422)
    except UserError as refused:
        return _page(request, web, user, case_id, answer_posted=posted, answer_rows=rows, answer_note=note,
                     answer_errors={"f": str(refused)}, status=409)
    return redirect(request, f"/cases/{case_id}", flash="Thank you: your answer is sent and the request moves on.")


@router.post("/cases/{case_id}/comments")
def add_comment(case_id: CaseId, request: Request, user: CurrentUser, web: Web,
                body: Annotated[str, Form(max_length=20_000)] = ""):
    case = web.visibility.case(user, case_id)
    if not may_write(web, user, case):
        return _page(request, web, user, case_id, comment=body, status=403,
                     comment_error="You read this case; only the people taking part in it comment.")
    try:
        web.engine.add_comment(case.id, body, actor=user.actor(), now=web.clock())
    except UserError as refused:
        return _page(request, web, user, case_id, comment=body, comment_error=str(refused), status=422)
    return redirect(request, f"/cases/{case_id}#comments", flash="Your comment is added.")


@router.post("/cases/{case_id}/evidence")
async def upload(case_id: CaseId, request: Request, user: CurrentUser, web: Web):
    form = await request.form(max_fields=10, max_files=1)
    name = form.get("name") if isinstance(form.get("name"), str) else ""
    file = form.get("file")
    content = await file.read(web.settings.max_upload_bytes + 1) if isinstance(file, UploadFile) else b""
    return await run_in_threadpool(_upload, request, web, user, case_id, name, content)


def _upload(request: Request, web: WebServices, user: Principal, case_id: int, name: str, content: bytes):
    """Attach a document through the same evidence storage as the API: sniffed, kept by hash, audited."""
    case = web.visibility.case(user, case_id)
    if not may_write(web, user, case):
        return _page(request, web, user, case_id, upload_error="You read this case; only the people taking part in "
                                                               "it attach documents.", status=403)
    documents = case_view(web, user, case_id).documents
    if name not in documents:
        return _page(request, web, user, case_id, status=422,
                     upload_error=f"Choose which document this is: one of {', '.join(documents) or 'none'}.")
    if len(content) > web.settings.max_upload_bytes:
        return _page(request, web, user, case_id, status=413, upload_error=(
            f"The file is larger than {web.settings.max_upload_bytes // (1024 * 1024)} MB; choose a smaller one."))
    try:
        stored = web.evidence.keep(content)
    except EvidenceRefused as refused:
        return _page(request, web, user, case_id, status=415,
                     upload_error=f"{refused.problem[0].upper()}{refused.problem[1:]}; expected {refused.expected}.")
    web.engine.attach_evidence(case.id, name, actor=user.actor(), now=web.clock(), reference=stored.reference)
    return redirect(request, f"/cases/{case_id}#attachments", flash=f"The {name} is attached.")


def _my_task(web: WebServices, user: Principal, case_id: int):
    view = case_view(web, user, case_id)
    task = held_task(view.tasks, view.case, user.id, web.clock())
    if task is None:
        raise NotVisible(f"task of case {case_id} held by {user.id}")
    return task


@router.post("/cases/{case_id}/move")
def move_on(case_id: CaseId, request: Request, user: CurrentUser, web: Web,
            to: Annotated[str, Form(max_length=200)] = ""):
    """Complete the task the signed-in person holds by moving the case to `to`; the core decides."""
    task = _my_task(web, user, case_id)
    try:
        web.engine.complete(task.id, actor=user.actor(), now=web.clock(), to=to)
    except UserError as refused:
        return _page(request, web, user, case_id, task_error=str(refused), status=409)
    return redirect(request, f"/cases/{case_id}", flash=f"Task {task.id} is done: the request moves to {to}.")


@router.post("/cases/{case_id}/exceptions")
def raise_exception(case_id: CaseId, request: Request, user: CurrentUser, web: Web,
                    reason: Annotated[str, Form(max_length=200)] = "",
                    note: Annotated[str, Form(max_length=2000)] = ""):
    """Raise an exception (such as needs_info) on the case whose task the signed-in person holds."""
    _my_task(web, user, case_id)
    try:
        case = web.engine.raise_exception(case_id, reason, actor=user.actor(), now=web.clock(),
                                          note=note.strip() or None)
    except UserError as refused:
        return _page(request, web, user, case_id, task_error=str(refused), status=409)
    return redirect(request, f"/cases/{case_id}",
                    flash=f"{reason.replace('_', ' ').capitalize()} is raised: the request waits in {case.state}.")


@router.get("/cases/{case_id}/evidence/{index}")
def download(case_id: CaseId, index: Annotated[int, Path(ge=0, le=100_000)], request: Request, user: CurrentUser,
             web: Web):
    """Download one attachment of a case the reader may see: always as an attachment, never shown as a page."""
    web.visibility.case(user, case_id)
    attachments = attachments_of(web, case_id)
    if index >= len(attachments) or not attachments[index].downloadable:
        raise NotVisible(f"attachment {index} of case {case_id}")
    item = attachments[index]
    path = web.evidence.path_of(item.sha256 or "")
    if path is None or not path.is_file():
        raise NotVisible(f"file of attachment {item.name!r} (sha256 {item.sha256}) in this server's evidence folder")
    media_type = item.media_type if item.media_type in ALLOWED else "application/octet-stream"
    extension = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif",
                 "image/tiff": ".tif", "application/zip": ".zip", "text/plain": ".txt"}.get(media_type, "")
    # An attachment with its own sandbox: even a browser told to open it will not run it as a page.
    return FileResponse(path, media_type=media_type, filename=f"case-{case_id}-{item.name}{extension}",
                        content_disposition_type="attachment",
                        headers={"Content-Security-Policy": "sandbox; default-src 'none'",
                                 "X-Content-Type-Options": "nosniff"})


def _pretty(data) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False, default=str)

