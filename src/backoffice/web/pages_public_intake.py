"""The public form: people outside the company start a case of a workflow that opted in, with no account.

A workflow opts in with `public_intake` in its definition (checked by `backoffice check`, and a
weakening change in the control diff: it widens who may start cases). Everything else is the
front door's: the form generated from the data contract, checked on the server with each error
beside its field, attachments kept by the evidence storage, a CSRF token (the browser's signed
cookie, no session needed).

Who starts the case never comes from the form: it is the definition's service account, looked
up in the directory (inactive or missing: the form is closed), recorded as the actor in the
events and the audit trail. What the outsider types, their contact details included, is data.

The confirmation page gives a reference the outsider can keep: a random code, stored as the
case's idempotency key, not the case id. Case ids are sequential, so showing one would tell
anyone how many cases the company gets; and a random code cannot be guessed to look at
someone else's confirmation. The same code makes a second click start no second case.
"""

from __future__ import annotations

import re
import secrets
from base64 import b32encode
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from backoffice.definitions.model import PublicIntake
from backoffice.engine.versions import RunningVersion
from backoffice.errors import (ContractViolation, IdempotencyKeyReused, IdentityError, TooManyRequests, UnknownWorkflow,
                               UserError)
from backoffice.web.context import Web, WebServices
from backoffice.web.intake_form import IntakeForm, posted_fields
from backoffice.web.pages_front_door import (ATTACHMENT, MAX_FORM_FIELDS, MAX_FORM_FILES, active_version,
                                             documents_of, keep_uploads, labels_of)
from backoffice.web.render import redirect, render

router = APIRouter()
REFERENCE = re.compile(r"^[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$")
# The form's trap for robots: a field people never see nor reach; a form that fills it starts nothing.
HONEYPOT = "website"
KEY_PREFIX = "public:"


class NoPublicForm(UnknownWorkflow):
    """A workflow that takes no requests from the public: not deployed, not active, not opted in, or its account is off."""

    def __init__(self, workflow: str) -> None:
        self.workflow, self.version, self.known = workflow, None, []
        UserError.__init__(self, f"there is no public form for {workflow!r}; expected the address of a public form "
                                 f"a workflow offers")


def new_reference() -> str:
    """Return a fresh reference: 60 random bits, in letters and digits a person can read out (XXXX-XXXX-XXXX)."""
    code = b32encode(secrets.token_bytes(8)).decode()[:12]
    return f"{code[:4]}-{code[4:8]}-{code[8:]}"


def public_form_of(web: WebServices, workflow: str) -> tuple[RunningVersion, PublicIntake]:
    """Return the running version of a workflow that offers a public form now, and its opt-in.

    Raises:
        NoPublicForm: 404, for every reason alike (an outsider learns nothing of the workflows inside).
    """
    try:
        running = active_version(web, workflow)
    except UnknownWorkflow:
        raise NoPublicForm(workflow[:200]) from None
    public = running.definition.public_intake
    if public is None:
        raise NoPublicForm(workflow)
    try:
        web.engine.identify(public.service_account, workflow=workflow, now=web.clock())
    except IdentityError:
        # The administrator has not added its service account, or deactivated it: the form is closed.
        raise NoPublicForm(workflow) from None
    return running, public


def public_schema(running: RunningVersion, public: PublicIntake) -> dict[str, Any]:
    """The data contract's JSON Schema cut to the fields the public form offers.

    What is not offered is not read from what the outsider sends, so a crafted field (a resolution
    note, a priority) never reaches the case; the whole contract still checks the payload.
    """
    schema = running.inputs.json_schema()
    if public.fields is None or not isinstance(schema.get("properties"), dict):
        return schema
    offered = [name for name in public.fields if name in schema["properties"]]
    return {**schema, "properties": {name: schema["properties"][name] for name in offered},
            "required": [name for name in schema.get("required", []) if name in offered]}


def _page(request: Request, web: WebServices, running: RunningVersion, public: PublicIntake, *,
          posted: dict[str, str], rows: dict[str, int], errors: dict[str, str], reference: str, status: int = 200,
          problem: str | None = None, upload_errors: dict[str, str] | None = None):
    nodes = IntakeForm(public_schema(running, public)).nodes(rows, posted, errors)
    return render(request, "public_intake.html", {
        "definition": running.definition, "nodes": nodes, "errors": errors, "labels": labels_of(nodes),
        "action": f"/public/{running.definition.id}", "idempotency_key": reference,
        "documents": documents_of(running), "problem": problem, "upload_errors": upload_errors or {},
        "honeypot": HONEYPOT, "max_upload": f"{web.settings.max_upload_bytes // (1024 * 1024)} MB"}, status=status)


@router.get("/public/{workflow}")
def public_form(workflow: str, request: Request, web: Web):
    running, public = public_form_of(web, workflow)
    return _page(request, web, running, public, posted={}, rows={}, errors={}, reference=new_reference())


@router.post("/public/{workflow}")
async def submit_public_form(workflow: str, request: Request, web: Web):
    form = await request.form(max_files=MAX_FORM_FILES, max_fields=MAX_FORM_FIELDS)
    posted = posted_fields(form)
    action = form.get("form_action") if isinstance(form.get("form_action"), str) else "submit"
    reference = form.get("idempotency_key")
    reference = reference if isinstance(reference, str) and REFERENCE.match(reference) else new_reference()
    trapped = bool(form.get(HONEYPOT))
    uploads = {name[len(ATTACHMENT):]: value for name, value in form.multi_items()
               if name.startswith(ATTACHMENT) and isinstance(value, UploadFile) and value.filename}
    contents = {name: await upload.read(web.settings.max_upload_bytes + 1) for name, upload in uploads.items()}
    address = request.client.host if request.client else "unknown"
    return await run_in_threadpool(_submit, request, web, workflow, posted, action, reference, contents, address,
                                   trapped)


def _submit(request: Request, web: WebServices, workflow: str, posted: dict[str, str], action: str, reference: str,
            contents: dict[str, bytes], address: str, trapped: bool):
    running, public = public_form_of(web, workflow)
    form = IntakeForm(public_schema(running, public))
    posted, rows = form.act(posted, None if action == "submit" else action)
    if action != "submit":
        return _page(request, web, running, public, posted=posted, rows=rows, errors={}, reference=reference)
    if trapped:
        return _page(request, web, running, public, posted=posted, rows=rows, errors={}, reference=reference, status=400,
                     problem="The form was refused: a field meant to stay empty was filled in. Leave it empty "
                             "and send the form again.")
    payload = form.read(posted, rows)
    kept, upload_errors = keep_uploads(web, documents_of(running), contents)
    violations = running.violations(payload)
    if violations or upload_errors:
        return _page(request, web, running, public, posted=posted, rows=rows, reference=reference, status=422,
                     errors=form.errors(violations, rows, posted), upload_errors=upload_errors)
    now = web.clock()
    # The service account of the opt-in, as the directory knows it: never a name the form carries.
    actor = web.engine.identify(public.service_account, workflow=workflow, now=now)
    key = KEY_PREFIX + reference
    if web.engine.store.case_by_key(workflow, key) is None:
        try:
            web.public.admit(workflow, address, per_address_per_hour=public.per_address_per_hour,
                             daily_cap=public.daily_cap, now=now)
        except TooManyRequests as refused:
            return _page(request, web, running, public, posted=posted, rows=rows, errors={}, reference=reference,
                         status=429, problem=f"This form takes no more requests now ({refused}); try again in "
                                             f"{_wait(refused.retry_after)}.")
    try:
        case = web.engine.start_case(workflow, payload, actor=actor, now=now, idempotency_key=key)
    except ContractViolation as refused:
        return _page(request, web, running, public, posted=posted, rows=rows, reference=reference, status=422,
                     errors=form.errors(refused.violations, rows, posted))
    except IdempotencyKeyReused:
        # The form was sent before and then changed (the browser's Back): a new reference makes it a new request.
        return _page(request, web, running, public, posted=posted, rows=rows, errors={}, reference=new_reference(),
                     status=409, problem=f"This form was sent already, as request {reference}, with other values. "
                                         f"Send it again to make a new request.")
    for name, stored in kept.items():
        web.engine.attach_evidence(case.id, name, actor=actor, now=now, reference=stored.reference)
    return redirect(request, f"/public/{workflow}/received/{reference}")


@router.get("/public/{workflow}/received/{reference}")
def received(workflow: str, reference: str, request: Request, web: Web):
    running, public = public_form_of(web, workflow)
    found = web.engine.store.case_by_key(workflow, KEY_PREFIX + reference) if REFERENCE.match(reference) else None
    if found is None or found[0].requester != public.service_account:
        raise _NoSuchReference(reference)
    return render(request, "public_received.html", {"definition": running.definition, "reference": reference,
                                                    "received_at": found[0].created_at})


class _NoSuchReference(UnknownWorkflow):
    """A confirmation asked for with a reference no public request was given: 404, like a form not offered."""

    def __init__(self, reference: str) -> None:
        self.workflow, self.version, self.known = reference, None, []
        UserError.__init__(self, f"no request was received with the reference {reference[:20]!r}; expected the "
                                 f"reference shown when the form was sent")


def _wait(seconds: int) -> str:
    return f"{seconds} s" if seconds < 120 else f"{seconds // 60} min" if seconds < 7200 else f"{seconds // 3600} h"
