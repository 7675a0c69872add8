"""The board: a workflow version's cases as cards in a column per state; moving a card asks the engine.

Dragging a card (static/board.js) posts the same form as the card's keyboard alternative (a
"move to" select and a button), asking for a JSON answer; without JavaScript the form posts
and the board comes back. Either way the move is `Engine.transition` as the signed-in person
with the card's case version, and a refusal (a guard, a missing field, a role, an approval or
a control left other than by its decision, a card moved by someone else meanwhile) is shown on
the card in the engine's own words.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import JSONResponse

from backoffice.readmodels import viewer_of
from backoffice.readmodels.board import age_text, board, move, workflows
from backoffice.web.context import Web
from backoffice.web.render import redirect, render
from backoffice.web.sessions import CurrentUser

router = APIRouter()

JSON = "application/json"


@router.get("/board")
def boards(request: Request, user: CurrentUser, web: Web):
    """The workflows deployed, each with its versions' boards."""
    return render(request, "board_index.html", {"workflows": workflows(web.engine)})


def _board_page(request: Request, web, user, workflow: str, version: int | None, *,
                refusals: dict[int, str] | None = None, status: int = 200):
    now = web.clock()
    shown = board(web.engine, viewer_of(web.engine, user.id), workflow, version, now=now)
    return render(request, "board.html", {"board": shown, "age_text": age_text, "refusals": refusals or {}},
                  status=status)


@router.get("/board/{workflow}")
def workflow_board(workflow: str, request: Request, user: CurrentUser, web: Web,
                   version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None):
    """The board of one workflow version (the latest unless `version` says)."""
    return _board_page(request, web, user, workflow, version)


@router.post("/board/{workflow}/move")
def move_card(workflow: str, request: Request, user: CurrentUser, web: Web,
              case_id: Annotated[int, Form(ge=1, le=2**63 - 1)], to: Annotated[str, Form(min_length=1, max_length=200)],
              expected_version: Annotated[int, Form(ge=1, le=2**31)],
              version: Annotated[int | None, Form(ge=1, le=1_000_000)] = None):
    """Try to move a card's case to the state `to`; answer JSON to the board's script, else the board."""
    web.visibility.case(user, case_id)
    result = move(web.engine, case_id, to, viewer=viewer_of(web.engine, user.id), expected_version=expected_version,
                  now=web.clock())
    wants_json = JSON in request.headers.get("accept", "")
    if wants_json:
        body = {"case_id": case_id, "to": to, "moved": result.moved, "refusal": result.refusal,
                "state": result.case.state if result.case else None,
                "version": result.case.version if result.case else None}
        return JSONResponse(body, status_code=200 if result.moved else 409)
    back = f"/board/{workflow}" + (f"?version={version}" if version else "")
    if result.moved:
        return redirect(request, back, flash=f"Case {case_id} moved to {result.case.state}.")
    return _board_page(request, web, user, workflow, version, refusals={case_id: result.refusal}, status=409)
