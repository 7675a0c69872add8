"""The approvals inbox: what waits for my vote, with the request, its evidence and why it is mine, and the vote.

Before the click, each approval shows the core's answer to "would my vote count?"
(`Engine.vote_refusal`, the checks `approve` runs): a separation-of-duties refusal is shown,
and its button disabled. Posting the vote anyway changes nothing: `Engine.approve` refuses it
with the same sentence, as it refuses it from the command line and the API.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request

from backoffice.errors import InputRefused
from backoffice.readmodels import viewer_of
from backoffice.readmodels.inbox import inbox
from backoffice.web.context import Web
from backoffice.web.render import redirect, render
from backoffice.web.sessions import CurrentUser

router = APIRouter()

DECISIONS = ("approve", "reject")


PAGE = 25
"""Approvals a page shows: each is the request, its evidence, the rules, the core's answer and a form."""


@router.get("/approvals")
def approvals(request: Request, user: CurrentUser, web: Web,
              start: Annotated[int, Query(ge=0, le=10_000, description="Approvals of the order to skip")] = 0):
    """What waits for the signed-in person's vote, soonest due first, a page at a time."""
    now = web.clock()
    items = inbox(web.engine, viewer_of(web.engine, user.id), now=now, limit=PAGE, skip=start)
    return render(request, "approvals.html", {
        "items": items, "now": now, "start": start, "page": PAGE,
        "next_start": start + PAGE if len(items) == PAGE else None,
        "previous_start": max(0, start - PAGE) if start else None})


@router.post("/approvals/{case_id}/vote")
def vote(case_id: int, request: Request, user: CurrentUser, web: Web,
         decision: Annotated[str, Form(max_length=20)] = "",
         note: Annotated[str, Form(max_length=2000)] = "",
         evidence_name: Annotated[str, Form(max_length=200)] = "",
         evidence_reference: Annotated[str, Form(max_length=1000)] = ""):
    """Cast the signed-in person's vote, after attaching the evidence they name; the engine decides."""
    if decision not in DECISIONS:
        raise InputRefused("the decision", f"{decision!r} is not a vote", "approve or reject")
    now = web.clock()
    engine = web.engine
    actor = user.actor()
    if evidence_name.strip():
        engine.attach_evidence(case_id, evidence_name.strip(), actor=actor, now=now,
                               reference=evidence_reference.strip() or None)
    case = engine.approve(case_id, actor=actor, now=now, reject=decision == "reject", note=note.strip() or None)
    verb = "rejected" if decision == "reject" else "approved"
    return redirect(request, "/approvals", flash=f"You {verb} case {case_id}; it is in {case.state}.")
