"""The home page, and "who am I": the signed-in person's roles, queues and delegations, and their out-of-office.

Out-of-office is a delegation made through the directory's core operation (`Engine.add_delegation`):
the person names their delegate and the dates; the core checks the delegate is eligible and
audits it. Ending it early revokes it (`Engine.revoke_delegation`).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Annotated

from fastapi import APIRouter, Form, Request

from backoffice.errors import DelegationRefused, UserError
from backoffice.web.context import Web
from backoffice.web.render import redirect, render
from backoffice.web.sessions import CurrentUser

router = APIRouter()


@router.get("/")
def home(request: Request, user: CurrentUser):
    return render(request, "home.html", {})


def _me(request: Request, web, user, *, errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
        status: int = 200):
    store = web.engine.store
    now = web.clock()
    delegations = store.delegations()
    given = [d for d in delegations if d.delegator == user.id and d.revoked_at is None and d.ends_at > now]
    received = [d for d in delegations if d.delegate == user.id and d.revoked_at is None and d.ends_at > now]
    people = [p for p in store.people(include_inactive=False) if p.id != user.id]
    grants = store.grants(user.id)
    today = now.date()
    return render(request, "me.html", {
        "grants": grants, "given": given, "received": received, "people": people, "now": now,
        "errors": errors or {}, "values": values or {"delegate": "", "starts": today.isoformat(),
                                                     "ends": (today + timedelta(days=7)).isoformat()}},
        status=status)


@router.get("/me")
def me(request: Request, user: CurrentUser, web: Web):
    return _me(request, web, user)


@router.post("/me/out-of-office")
def set_out_of_office(request: Request, user: CurrentUser, web: Web,
                      delegate: Annotated[str, Form(max_length=200)] = "",
                      starts: Annotated[str, Form(max_length=20)] = "",
                      ends: Annotated[str, Form(max_length=20)] = ""):
    """Let a delegate act for the signed-in person from the first day until the end of the last."""
    values = {"delegate": delegate, "starts": starts, "ends": ends}
    errors: dict[str, str] = {}
    if not delegate:
        errors["delegate"] = "Choose who acts for you."
    first, last = _day(starts), _day(ends)
    if first is None:
        errors["starts"] = "Give the first day as a date, such as 2024-03-04."
    if last is None:
        errors["ends"] = "Give the last day as a date, such as 2024-03-08."
    if first is not None and last is not None and last < first:
        errors["ends"] = "The last day must not be before the first."
    if errors:
        return _me(request, web, user, errors=errors, values=values, status=422)
    now = web.clock()
    start_at = max(now, datetime.combine(first, time.min, tzinfo=timezone.utc))
    end_at = datetime.combine(last + timedelta(days=1), time.min, tzinfo=timezone.utc)
    try:
        web.engine.add_delegation(user.id, delegate, starts=start_at, ends=end_at, actor=user.actor(), now=now)
    except (DelegationRefused, UserError) as refused:
        return _me(request, web, user, errors={"delegate": str(refused)}, values=values, status=409)
    return redirect(request, "/me", flash=f"{delegate} acts for you until the end of {last.isoformat()}.")


@router.post("/me/out-of-office/{delegation_id}/end")
def end_out_of_office(delegation_id: int, request: Request, user: CurrentUser, web: Web):
    """End one of the signed-in person's delegations now (the core refuses someone else's)."""
    web.engine.revoke_delegation(delegation_id, actor=user.actor(), now=web.clock())
    return redirect(request, "/me", flash="Your delegation is ended.")


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None
