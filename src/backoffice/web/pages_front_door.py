"""The front door: the catalogue of requests a person may start, and each one's intake form.

The form is generated from the workflow's data contract (`intake_form`); the case is started
through the engine's intake (`Engine.start_case`), whose contract validation, routing and
audit are the same as for the API. A refusal by the contract comes back as an error beside
each field, with everything typed kept. Attachments are kept by the same evidence storage as
the API's uploads (sniffed, by hash) and attached through the engine, audited with their hash.
A hidden idempotency key makes a double click start one case, not two.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from backoffice.definitions.model import DefinitionStatus
from backoffice.engine.versions import RunningVersion
from backoffice.errors import ContractViolation, EvidenceRefused, TooManyRequests, UnknownWorkflow
from backoffice.services.evidence_files import StoredFile
from backoffice.services.principal import Principal
from backoffice.web.context import Web, WebServices
from backoffice.web.intake_form import FieldNode, IntakeForm, posted_fields
from backoffice.web.render import redirect, render
from backoffice.web.sessions import CurrentUser

router = APIRouter()
ATTACHMENT = "attachment:"
MAX_FORM_FIELDS = 2000
MAX_FORM_FILES = 20


@dataclass(frozen=True)
class Startable:
    """A workflow in the catalogue: what it is for and what starts it."""

    id: str
    title: str
    purpose: str
    starts: tuple[str, ...]


def startable(web: WebServices) -> list[Startable]:
    """Return the workflows a person may start: those whose latest version is active (the engine's intake refuses the rest).

    The engine lets any active person of the directory start an active workflow (they become
    its requester); drafts and retired workflows take no new cases.
    """
    found = []
    for workflow in sorted({stored.workflow for stored in web.engine.versions()}):
        definition = web.engine.running(workflow).definition
        if definition.status is DefinitionStatus.ACTIVE:
            found.append(Startable(definition.id, definition.title, " ".join(definition.purpose.split()),
                                   tuple(definition.scope.starts)))
    return sorted(found, key=lambda item: item.title.lower())


def documents_of(running: RunningVersion) -> list[str]:
    """Return the documents the workflow's approvals need as evidence, in order: the attachments its form offers."""
    names: list[str] = []
    for approval in running.definition.approvals:
        names += [name for name in approval.evidence.documents if name not in names]
    return names


@router.get("/requests/new")
def catalogue(request: Request, user: CurrentUser, web: Web):
    return render(request, "front_door.html", {"workflows": startable(web)})


def active_version(web: WebServices, workflow: str) -> RunningVersion:
    """Return the latest version of a workflow that takes new cases (UnknownWorkflow, 404, otherwise)."""
    if len(workflow) > 200:
        raise UnknownWorkflow(workflow[:200], [])
    running = web.engine.running(workflow)
    if running.definition.status is not DefinitionStatus.ACTIVE:
        raise UnknownWorkflow(workflow, [item.id for item in startable(web)])
    return running


def _page(request: Request, web: WebServices, running: RunningVersion, *, posted: dict[str, str],
          rows: dict[str, int], errors: dict[str, str], key: str, status: int = 200, problem: str | None = None,
          upload_errors: dict[str, str] | None = None):
    form = IntakeForm(running.inputs.json_schema())
    nodes = form.nodes(rows, posted, errors)
    return render(request, "intake.html", {
        "definition": running.definition, "nodes": nodes, "errors": errors, "labels": labels_of(nodes),
        "action": f"/requests/new/{running.definition.id}",
        "idempotency_key": key, "documents": documents_of(running), "problem": problem,
        "upload_errors": upload_errors or {},
        "max_upload": f"{web.settings.max_upload_bytes // (1024 * 1024)} MB"}, status=status)


@router.get("/requests/new/{workflow}")
def intake_form(workflow: str, request: Request, user: CurrentUser, web: Web):
    running = active_version(web, workflow)
    return _page(request, web, running, posted={}, rows={}, errors={}, key=secrets.token_urlsafe(18))


@router.post("/requests/new/{workflow}")
async def submit_intake(workflow: str, request: Request, user: CurrentUser, web: Web):
    form = await request.form(max_files=MAX_FORM_FILES, max_fields=MAX_FORM_FIELDS)
    posted = posted_fields(form)
    action = form.get("form_action") if isinstance(form.get("form_action"), str) else "submit"
    key = form.get("idempotency_key")
    key = key if isinstance(key, str) and 8 <= len(key) <= 100 else secrets.token_urlsafe(18)
    uploads = {name[len(ATTACHMENT):]: value for name, value in form.multi_items()
               if name.startswith(ATTACHMENT) and isinstance(value, UploadFile) and value.filename}
    contents = {name: await upload.read(web.settings.max_upload_bytes + 1) for name, upload in uploads.items()}
    return await run_in_threadpool(_submit, request, web, user, workflow, posted, action, key, contents)


def _submit(request: Request, web: WebServices, user: Principal, workflow: str, posted: dict[str, str],
            action: str, key: str, contents: dict[str, bytes]):
    running = active_version(web, workflow)
    form = IntakeForm(running.inputs.json_schema())
    posted, rows = form.act(posted, None if action == "submit" else action)
    if action != "submit":
        # "Add line" or "Remove": the same form again, with its rows changed and nothing lost.
        return _page(request, web, running, posted=posted, rows=rows, errors={}, key=key)
    payload = form.read(posted, rows)
    kept, upload_errors = keep_uploads(web, documents_of(running), contents)
    violations = running.violations(payload)
    if violations or upload_errors:
        return _page(request, web, running, posted=posted, rows=rows, key=key, status=422,
                     errors=form.errors(violations, rows, posted), upload_errors=upload_errors)
    now = web.clock()
    try:
        web.intake.admit(user.id, now)
        case = web.engine.start_case(running.definition.id, payload, actor=user.actor(), now=now,
                                     idempotency_key=f"web:{user.id}:{key}")
    except ContractViolation as refused:
        # The engine's own check, when the version changed between the two: its words, beside the fields.
        return _page(request, web, running, posted=posted, rows=rows, key=key, status=422,
                     errors=form.errors(refused.violations, rows, posted))
    except TooManyRequests as refused:
        return _page(request, web, running, posted=posted, rows=rows, errors={}, key=key, status=429,
                     problem=f"You started many requests in the last minute; try again in {refused.retry_after} s.")
    for name, stored in kept.items():
        web.engine.attach_evidence(case.id, name, actor=user.actor(), now=now, reference=stored.reference)
    return redirect(request, f"/cases/{case.id}", flash=f"Your request {case.id} is started.")


def keep_uploads(web: WebServices, documents: list[str],
                 contents: dict[str, bytes]) -> tuple[dict[str, StoredFile], dict[str, str]]:
    """Keep the files sent for the workflow's `documents`; return those kept and an error per file refused.

    Files are checked (and kept by hash, which is harmless) before the case exists: a refused file
    starts nothing. A file under another name than the documents is ignored.
    """
    kept: dict[str, StoredFile] = {}
    upload_errors: dict[str, str] = {}
    for name, content in contents.items():
        if name not in documents:
            continue
        if len(content) > web.settings.max_upload_bytes:
            upload_errors[name] = (f"The file is larger than {web.settings.max_upload_bytes // (1024 * 1024)} MB; "
                                   f"choose a smaller one.")
            continue
        try:
            kept[name] = web.evidence.keep(content)
        except EvidenceRefused as refused:
            upload_errors[name] = f"{refused.problem[0].upper()}{refused.problem[1:]}; expected {refused.expected}."
    return kept, upload_errors


def labels_of(nodes: list[FieldNode], prefix: str = "") -> dict[str, str]:
    found: dict[str, Any] = {}
    for node in nodes:
        label = f"{prefix}{node.label}"
        found[node.name] = label
        found.update(labels_of(node.children, f"{label}, "))
        found.update(labels_of(node.rows, f"{label}, "))
    return found
