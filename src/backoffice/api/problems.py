"""Mistakes as RFC 9457 problem details: one status table for every BackofficeError, one body shape.

Every refusal the server gives is `application/problem+json`:

    {"type": "https://backoffice.dev/problems/stale-version", "title": "Stale version", "status": 412,
     "detail": "case 7 is at version 3, not 2: ...", "instance": "/v1/cases/7/transitions",
     "request_id": "...", "errors": [{"pointer": "/amount", "detail": "...", "expected": "a number"}]}

`errors` names each field at fault as a JSON pointer into the request (body, query, header or
path) and says what was expected. A user's mistake is a 4xx, never a 5xx: the engine's errors
map to statuses in `STATUS_BY_ERROR`, by class (the nearest listed ancestor wins).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from backoffice import errors as e

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://backoffice.dev/problems/"


class FieldProblem(BaseModel):
    """One field at fault: where (a JSON pointer, prefixed by where in the request), what, what was expected."""

    pointer: str = Field(description="JSON pointer to the field, e.g. /body/amount or /header/If-Match.")
    detail: str
    expected: str | None = None


class Problem(BaseModel):
    """An RFC 9457 problem detail."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldProblem] = Field(default_factory=list)


class ApiError(e.UserError):
    """A mistake found by the HTTP layer itself (a header, a cursor, a body): status and field on it."""

    def __init__(self, status: int, message: str, *, pointer: str | None = None, expected: str | None = None,
                 title: str | None = None, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.pointer = pointer
        self.expected = expected
        self.title = title
        self.headers = dict(headers or {})


class NotAuthenticated(ApiError):
    """No credentials, or credentials that prove nothing: a missing, malformed, unknown, expired or revoked token."""

    def __init__(self, reason: str) -> None:
        super().__init__(401, f"not authenticated: {reason}", pointer="/header/Authorization",
                         expected="Authorization: Bearer <a live API token of the directory>",
                         title="Not authenticated", headers={"WWW-Authenticate": 'Bearer realm="backoffice"'})


class Forbidden(ApiError):
    """An authenticated person asking for something their roles do not allow."""

    def __init__(self, message: str) -> None:
        super().__init__(403, message, title="Forbidden")


class NotVisible(ApiError):
    """Something that exists but is not the caller's to see: answered as absent, so ids leak nothing."""

    def __init__(self, what: str) -> None:
        super().__init__(404, f"no {what} you may see; expected the id of one of your cases, your queues' "
                              f"tasks, or a role that reads it", title="Not found")


# The nearest listed ancestor of an error's class decides its status.
STATUS_BY_ERROR: dict[type[BaseException], int] = {
    e.UnknownCase: 404,
    e.UnknownTask: 404,
    e.UnknownWorkflow: 404,
    e.UnknownOutboxEntry: 404,
    e.UnknownState: 422,
    e.StaleVersion: 412,
    e.SeparationOfDuties: 403,
    e.NotEligibleForTask: 403,
    e.NotAnApprover: 403,
    e.DelegationNotAllowed: 403,
    e.TransitionNotAllowed: 409,
    e.TaskAlreadyClaimed: 409,
    e.TaskClosed: 409,
    e.ApprovalNotReassigned: 409,
    e.TaskNotClaimed: 409,
    e.NoApprovalHere: 409,
    e.EvidenceMissing: 409,
    e.NoOpenException: 409,
    e.ExceptionNotAllowed: 409,
    e.NotDeadLettered: 409,
    e.WorkflowNotActive: 409,
    e.VersionAlreadyDeployed: 409,
    e.VersionOutOfOrder: 409,
    e.IdempotencyKeyReused: 422,
    e.ContractViolation: 422,
    e.DefinitionError: 422,
    e.ContractFileError: 422,
    e.UnknownExceptionReason: 422,
    e.UnknownAction: 422,
    e.ExpressionFailed: 422,
    e.BadToken: 401,
    e.UnknownActor: 422,
    e.InactiveActor: 403,
    e.BadActorId: 422,
    e.RoleNotHeld: 403,
    e.NotAuthorizedOnBehalf: 403,
    e.NotAdministrator: 403,
    e.DelegationRefused: 409,
    e.DirectoryConflict: 409,
    e.DatabaseUnavailable: 503,
    e.RoleRequired: 403,
    e.ChangeApprovalRefused: 403,
    e.AlreadyVoted: 409,
    e.FieldImmutable: 409,
    e.RouteFieldLocked: 409,
    e.ChangeNotPending: 409,
    e.ChangeAlreadyPending: 409,
    e.UserError: 400,
}

_TITLE_WORDS = re.compile(r"(?<!^)(?=[A-Z])")


def status_of(error: BaseException) -> int:
    """Return the HTTP status of an error, by the nearest of its classes the table lists (500 for a bug)."""
    if isinstance(error, ApiError):
        return error.status
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500


def problem_response(request: Request, *, status: int, title: str, detail: str,
                     errors: Sequence[FieldProblem] = (), kind: str | None = None,
                     headers: Mapping[str, str] | None = None) -> JSONResponse:
    """Return a problem+json response for the request."""
    slug = kind or re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    body = Problem(type=PROBLEM_BASE + slug, title=title, status=status, detail=detail,
                   instance=request.url.path, request_id=getattr(request.state, "request_id", None),
                   errors=list(errors))
    return JSONResponse(body.model_dump(mode="json"), status_code=status, media_type=PROBLEM_JSON,
                        headers=dict(headers or {}))


def detail_of(error: BaseException) -> str:
    """Return the error's sentence, said as over HTTP where the engine's says it for the command line."""
    if isinstance(error, e.StaleVersion):
        return (f"case {error.case_id} is at version {error.actual}, not {error.expected}: someone changed it "
                f"since you read it; expected If-Match: \"{error.actual}\" after reading the case again")
    return str(error)


def field_problems(error: BaseException) -> list[FieldProblem]:
    """Return the fields an engine error names (contract violations, definition problems)."""
    if isinstance(error, e.StaleVersion):
        return [FieldProblem(pointer="/header/If-Match", detail=f"the case is at version {error.actual}",
                             expected=f'"{error.actual}"')]
    if isinstance(error, ApiError) and error.pointer:
        return [FieldProblem(pointer=error.pointer, detail=str(error), expected=error.expected)]
    if isinstance(error, e.ContractViolation):
        return [FieldProblem(pointer="/body" + json_pointer(getattr(v, "path", "")),
                             detail=str(getattr(v, "message", v)), expected=_expected_of(v))
                for v in error.violations]
    if isinstance(error, e.DefinitionError):
        return [FieldProblem(pointer=f"/body/definition#line={p.line},column={p.column}", detail=p.message,
                             expected=p.expected) for p in error.problems if p.severity == "error"]
    return []


def json_pointer(path: str) -> str:
    """Turn a contract's JSON path ($.lines[0].amount, or amount) into a JSON pointer (/lines/0/amount)."""
    text = path[1:] if path.startswith("$") else path
    parts = [part for part in re.split(r"\.|\[(\d+)\]", text) if part]
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


def _expected_of(violation: object) -> str | None:
    message = str(getattr(violation, "message", ""))
    return message.split("expected ", 1)[1] if "expected " in message else None


async def backoffice_error_handler(request: Request, error: Exception) -> JSONResponse:
    status = status_of(error)
    title = getattr(error, "title", None) or _TITLE_WORDS.sub(" ", type(error).__name__).capitalize()
    return problem_response(request, status=status, title=title, detail=detail_of(error),
                            errors=field_problems(error), headers=getattr(error, "headers", None))


async def validation_error_handler(request: Request, error: RequestValidationError) -> JSONResponse:
    problems = [FieldProblem(pointer="".join(f"/{part}" for part in item["loc"]),
                             detail=item["msg"], expected=_expected_from_pydantic(item))
                for item in error.errors()]
    where = ", ".join(p.pointer for p in problems[:5])
    return problem_response(request, status=422, title="Invalid request",
                            detail=f"the request does not match what this endpoint takes (at {where})",
                            errors=problems)


async def http_error_handler(request: Request, error: StarletteHTTPException) -> JSONResponse:
    titles = {404: "Not found", 405: "Method not allowed", 413: "Request body too large"}
    detail = error.detail if isinstance(error.detail, str) else str(error.detail)
    if error.status_code == 404 and detail == "Not Found":
        detail = f"no endpoint {request.url.path}; expected a path listed in /openapi.json"
    return problem_response(request, status=error.status_code, title=titles.get(error.status_code, "Error"),
                            detail=detail, headers=getattr(error, "headers", None))


def _expected_from_pydantic(item: Mapping[str, Any]) -> str | None:
    kind = str(item.get("type", ""))
    context = item.get("ctx") or {}
    simple = {"missing": "a value", "int_parsing": "an integer", "int_type": "an integer",
              "string_type": "a string", "dict_type": "a JSON object", "list_type": "a JSON array",
              "bool_type": "true or false", "bool_parsing": "true or false", "json_invalid": "valid JSON",
              "model_attributes_type": "a JSON object", "extra_forbidden": "no such field",
              "float_type": "a number", "float_parsing": "a number"}
    if kind in simple:
        return simple[kind]
    if "expected" in context:
        return str(context["expected"])
    if "le" in context or "ge" in context or "lt" in context or "gt" in context:
        return ", ".join(f"{k} {v}" for k, v in context.items() if k in ("ge", "gt", "le", "lt"))
    if "max_length" in context:
        return f"at most {context['max_length']} characters"
    if "min_length" in context:
        return f"at least {context['min_length']} characters"
    return None


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Return the `responses` entry documenting problem+json answers with these statuses."""
    return {status: {"model": Problem, "content": {PROBLEM_JSON: {}}, "description": _DESCRIPTIONS.get(status, "")}
            for status in statuses}


_DESCRIPTIONS = {400: "A malformed request", 401: "Not authenticated", 403: "Not allowed for the caller",
                 404: "No such thing the caller may see", 409: "Refused in the current state",
                 412: "The case changed since it was read (If-Match is stale)", 413: "Request body too large",
                 415: "A file of a kind not accepted", 429: "Too many requests; see Retry-After",
                 422: "A field is invalid", 428: "If-Match is required", 503: "The database is unreachable"}
