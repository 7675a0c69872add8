"""Administration (administrators only): people, groups, role grants, delegations; workflows and versions
with their control diffs and pending change approvals; calendars; service accounts and tokens; dead letters.

The page is shown to administrators only; every change it posts is the engine's own operation,
which checks its role in the core (`grant`, `add_person`, `add_delegation`, `create_token`,
`revoke_token` the administrator; `approve_change` a change-approver who did not deploy it;
`replay` an operator), so a form posted by someone else is refused there, as from the CLI.
A new token's secret is shown once, on the answer to its POST, and never again.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Annotated

from fastapi import APIRouter, Form, Request

from backoffice.engine.roles import PlatformRole
from backoffice.errors import InputRefused
from backoffice.readmodels.administration import overview
from backoffice.services.visibility import require
from backoffice.web.context import Web
from backoffice.web.render import redirect, render
from backoffice.web.sessions import CurrentUser

router = APIRouter()

ADMINISTRATOR = str(PlatformRole.ADMINISTRATOR)
Text = Annotated[str, Form(max_length=200)]
MAX_TOKEN_DAYS = 366


def _page(request: Request, web, user, *, new_token=None, status: int = 200):
    require(user, (ADMINISTRATOR,), "open the administration pages")
    response = render(request, "admin.html", {"o": overview(web.engine), "now": web.clock(), "new_token": new_token},
                      status=status)
    if new_token is not None:
        # The secret is on this answer only: no cache keeps it.
        response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/admin")
def administration(request: Request, user: CurrentUser, web: Web):
    return _page(request, web, user)


@router.post("/admin/people")
def add_person(request: Request, user: CurrentUser, web: Web, person_id: Text = "", name: Text = "",
               email: Text = ""):
    person = web.engine.add_person(person_id, name=name or person_id, email=email or None, actor=user.actor(),
                                   now=web.clock())
    return redirect(request, "/admin#people", flash=f"{person.id} is in the directory.")


@router.post("/admin/grants")
def grant(request: Request, user: CurrentUser, web: Web, role: Text = "", to: Text = "", workflow: Text = "",
          revoke: Text = ""):
    changed = web.engine.grant(role, to=to, actor=user.actor(), now=web.clock(), workflow=workflow or None,
                               revoke=bool(revoke))
    verb = "revoked from" if revoke else "granted to"
    said = f"{role} {verb} {to}" if changed else f"nothing changed: {role} was {'not ' if revoke else ''}held by {to}"
    return redirect(request, "/admin#grants", flash=said)


@router.post("/admin/delegations")
def delegate(request: Request, user: CurrentUser, web: Web, delegator: Text = "", delegate_to: Text = "",
             starts: Text = "", ends: Text = "", workflow: Text = "", role: Text = ""):
    first, last = _day(starts, "the first day"), _day(ends, "the last day")
    made = web.engine.add_delegation(delegator, delegate_to, starts=datetime.combine(first, time.min, timezone.utc),
                                     ends=datetime.combine(last + timedelta(days=1), time.min, timezone.utc),
                                     actor=user.actor(), now=web.clock(), workflow=workflow or None, role=role or None)
    return redirect(request, "/admin#delegations", flash=f"{made.delegate} acts for {made.delegator} "
                                                         f"until {last.isoformat()}.")


@router.post("/admin/tokens")
def make_token(request: Request, user: CurrentUser, web: Web, principal: Text = "", label: Text = "",
               roles: Text = "", days: Annotated[int, Form(ge=1, le=MAX_TOKEN_DAYS)] = 90):
    made = web.engine.create_token(principal, actor=user.actor(), now=web.clock(), label=label,
                                   roles=tuple(r.strip() for r in roles.split(",") if r.strip()),
                                   valid_for=timedelta(days=days))
    return _page(request, web, user, new_token=made)


@router.post("/admin/tokens/{token_id}/revoke")
def revoke_token(token_id: int, request: Request, user: CurrentUser, web: Web):
    web.engine.revoke_token(token_id, actor=user.actor(), now=web.clock())
    return redirect(request, "/admin#tokens", flash=f"Token {token_id} is revoked.")


@router.post("/admin/changes/{decision}")
def decide_change(decision: str, request: Request, user: CurrentUser, web: Web, workflow: Text = "",
                  version: Annotated[int, Form(ge=1, le=1_000_000)] = 1,
                  content_hash: Annotated[str, Form(max_length=64)] = "",
                  note: Annotated[str, Form(max_length=2000)] = ""):
    """Approve (deploy) or reject a version waiting for a second person, by its exact content."""
    if decision not in ("approve", "reject"):
        raise InputRefused("the decision", f"{decision!r} is not a decision on a change", "approve or reject")
    decide = web.engine.approve_change if decision == "approve" else web.engine.reject_change
    decide(workflow, version, content_hash=content_hash, actor=user.actor(), now=web.clock(), note=note or None)
    verb = "approved and deployed" if decision == "approve" else "rejected"
    return redirect(request, "/admin#changes", flash=f"{workflow} version {version} is {verb}.")


@router.post("/admin/dead-letters/{entry_id}/replay")
def replay(entry_id: int, request: Request, user: CurrentUser, web: Web):
    entry = web.engine.replay(entry_id, actor=user.actor(), now=web.clock())
    return redirect(request, "/admin#dead-letters", flash=f"Outbox entry {entry.id} ({entry.action}) is due again.")


def _day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InputRefused(what, f"{text!r} is not a date", "a date such as 2024-03-04") from None
