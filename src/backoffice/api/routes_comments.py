"""Comments on a case over HTTP: read and add, for whoever may see the case (the same rule as the web app).

The engine's core writes a comment with its audit record in one transaction (`engine.comments`);
the author is the authenticated principal, never a field of the body.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field

from backoffice.api.principal import Caller
from backoffice.api.problems import documented
from backoffice.api.schemas import Strict
from backoffice.api.services import MAX_ID, Served
from backoffice.engine.comments import MAX_COMMENT, Comment

router = APIRouter(prefix="/v1", tags=["cases"], responses=documented(400, 401, 404, 413, 422))

CaseId = Annotated[int, Path(ge=1, le=MAX_ID, description="The case id.")]


class CommentRequest(Strict):
    body: str = Field(min_length=1, max_length=MAX_COMMENT, description="The comment's text.")


class CommentOut(BaseModel):
    id: int
    case_id: int
    author: str
    on_behalf_of: str | None
    body: str
    created_at: datetime

    @classmethod
    def of(cls, comment: Comment) -> CommentOut:
        return cls(id=comment.id, case_id=comment.case_id, author=comment.author, on_behalf_of=comment.on_behalf_of,
                   body=comment.body, created_at=comment.created_at)


@router.get("/cases/{case_id}/comments", response_model=list[CommentOut])
def list_comments(case_id: CaseId, served: Served, caller: Caller) -> list[CommentOut]:
    """List a case's comments, oldest first (whoever may see the case)."""
    served.visibility.case(caller, case_id)
    return [CommentOut.of(comment) for comment in served.engine.comments(case_id)]


@router.post("/cases/{case_id}/comments", response_model=CommentOut, status_code=201, responses=documented(403))
def add_comment(case_id: CaseId, body: CommentRequest, served: Served, caller: Caller,
                response: Response) -> CommentOut:
    """Add a comment to a case as the caller (whoever may see the case, as on the web app)."""
    served.visibility.case(caller, case_id)
    comment = served.engine.add_comment(case_id, body.body, actor=caller.actor(), now=served.clock())
    response.headers["Location"] = f"/v1/cases/{case_id}/comments"
    return CommentOut.of(comment)
