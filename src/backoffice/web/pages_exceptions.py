"""Exceptions: a queue per reason code, the oldest first, and resolving one (the engine checks the resolver)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request

from backoffice.engine import Actor
from backoffice.readmodels import viewer_of
from backoffice.readmodels.board import age_text
from backoffice.readmodels.exception_queues import exception_queues, resolve
from backoffice.web.context import Web
from backoffice.web.render import redirect, render
from backoffice.web.sessions import CurrentUser

router = APIRouter()


@router.get("/exceptions")
def exceptions(request: Request, user: CurrentUser, web: Web):
    """The signed-in person's open exceptions (all of them for those who read everything), by reason code."""
    now = web.clock()
    viewer = viewer_of(web.engine, user.id)
    queues = exception_queues(web.engine, viewer)
    # The form only where the core would accept it: an auditor reads every exception and resolves none.
    resolvable = {item.case_id for queue in queues for item in queue.items
                  if web.engine.resolution_refusal(item.case_id, actor=Actor(viewer.person), now=now) is None}
    return render(request, "exceptions.html", {"queues": queues, "now": now, "age_text": age_text,
                                               "resolvable": resolvable})


@router.post("/exceptions/{case_id}/resolve")
def resolve_one(case_id: int, request: Request, user: CurrentUser, web: Web,
                note: Annotated[str, Form(max_length=2000)] = ""):
    """Resolve the case's open exception as the signed-in person; the engine refuses anyone but its resolver."""
    case = resolve(web.engine, case_id, viewer=viewer_of(web.engine, user.id), now=web.clock(), note=note.strip())
    return redirect(request, "/exceptions", flash=f"Case {case_id}'s exception is resolved; it is in {case.state}.")
