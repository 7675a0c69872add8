"""Comments on a case over HTTP: read by whoever may see the case, added by those who take part in it.

Who takes part is decided once, in `Visibility.takes_part`, for the API and the web app alike:
an auditor reads everything and comments on nothing.

The engine's core writes a comment with its audit record in one transaction (`engine.comments`);
the author is the authenticated principal, never a field of the body.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from backoffice.api.principal import Caller
from backoffice.api.problems import Forbidden, documented
from backoffice.api.schemas import CommentOut, CommentRequest
from backoffice.api.services import MAX_ID, Served

router = APIRouter(prefix="/v1", tags=["cases"], responses=documented(400, 401, 404, 413, 422))

CaseId = Annotated[int, Path(ge=1, le=MAX_ID, description="The case id.")]


@router.get("/cases/{case_id}/comments", response_model=list[CommentOut])
def list_comments(case_id: CaseId, served: Served, caller: Caller) -> list[CommentOut]:
    """List a case's comments, oldest first (whoever may see the case)."""
    served.visibility.case(caller, case_id)
    return [CommentOut.of(comment) for comment in served.engine.comments(case_id)]


@router.post("/cases/{case_id}/comments", response_model=CommentOut, status_code=201, responses=documented(403))
def add_comment(case_id: CaseId, body: CommentRequest, served: Served, caller: Caller,
                response: Response) -> CommentOut:
    """Add a comment to a case as the caller, who takes part in it (auditors, who only read, do not comment)."""
    case = served.visibility.case(caller, case_id)
    if not served.visibility.takes_part(caller, case):
        raise Forbidden(f"{caller.id} reads case {case_id} but takes no part in it; expected its requester, a worker "
                        f"of its queue, someone with a task on it, or an administrator")
    comment = served.engine.add_comment(case_id, body.body, actor=caller.actor(), now=served.clock())
    response.headers["Location"] = f"/v1/cases/{case_id}/comments"
    return CommentOut.of(comment)
