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
from backoffice.services.statuses import STATUS_BY_ERROR, status_of_error  # noqa: F401 (the table, named here too)

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


# Raised by the shared layer (visibility); named here too, where the API's routes import them.
Forbidden = e.Forbidden
NotVisible = e.NotVisible


_TITLE_WORDS = re.compile(r"(?<!^)(?=[A-Z])")


def status_of(error: BaseException) -> int:
    """Return the HTTP status of an error, by the nearest of its classes the table lists (500 for a bug)."""
    if isinstance(error, ApiError):
        return error.status
    return status_of_error(error)


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
    if isinstance(error, e.StepNotInDoubt):
        return (f"outbox entry {error.entry_id} is {error.status}, not in doubt; expected a step listed by "
                f"GET /v1/steps/in-doubt")
    return str(error)


def field_problems(error: BaseException) -> list[FieldProblem]:
    """Return the fields an engine error names (contract violations, definition problems)."""
    if isinstance(error, e.StaleVersion):
        return [FieldProblem(pointer="/header/If-Match", detail=f"the case is at version {error.actual}",
                             expected=f'"{error.actual}"')]
    if isinstance(error, e.EvidenceRefused):
        return [FieldProblem(pointer="/body/file", detail=str(error), expected=error.expected)]
    if isinstance(error, e.TooManyRequests):
        return [FieldProblem(pointer="/header/Authorization", detail=str(error), expected=error.expected)]
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
    headers = getattr(error, "headers", None)
    if isinstance(error, e.TooManyRequests):
        headers = {"Retry-After": str(error.retry_after)}
    return problem_response(request, status=status, title=title, detail=detail_of(error),
                            errors=field_problems(error), headers=headers)


async def validation_error_handler(request: Request, error: RequestValidationError) -> JSONResponse:
    items = error.errors()
    if items and items[0].get("type") == "json_invalid":
        # FastAPI puts the character offset where a field belongs (/body/11): say where in the text instead.
        return _body_not_json(request, 422, _json_syntax_error(items[0], error.body))
    problems = [FieldProblem(pointer="".join(f"/{part}" for part in item["loc"]),
                             detail=item["msg"], expected=_expected_from_pydantic(item))
                for item in items]
    where = ", ".join(p.pointer for p in problems[:5])
    return problem_response(request, status=422, title="Invalid request",
                            detail=f"the request does not match what this endpoint takes (at {where})",
                            errors=problems)


async def http_error_handler(request: Request, error: StarletteHTTPException) -> JSONResponse:
    titles = {404: "Not found", 405: "Method not allowed", 413: "Request body too large"}
    detail = error.detail if isinstance(error.detail, str) else str(error.detail)
    if error.status_code == 404 and detail == "Not Found":
        detail = f"no endpoint {request.url.path}; expected a path listed in /openapi.json"
    if error.status_code == 400 and detail == _FASTAPI_UNREADABLE_BODY:
        return _body_not_json(request, 400, _unreadable_json(error.__cause__))
    return problem_response(request, status=error.status_code, title=titles.get(error.status_code, "Error"),
                            detail=detail, headers=getattr(error, "headers", None))


_FASTAPI_UNREADABLE_BODY = "There was an error parsing the body"
"""FastAPI's whole answer to a JSON body its decoder fails on other than by syntax; the cause is the exception's."""


def _body_not_json(request: Request, status: int, why: str) -> JSONResponse:
    # 422 for a syntax error, as every endpoint documents; 400 where the decoder itself gave up, as FastAPI answers.
    return problem_response(request, status=status, title="Body is not JSON", detail=f"the body is not valid JSON: {why}",
                            errors=[FieldProblem(pointer="/body", detail=why, expected=_JSON_EXPECTED)])


_JSON_EXPECTED = "one JSON document in UTF-8 (RFC 8259)"
_INT_DIGITS = re.compile(r"limit \((\d+) digits\).*?has (\d+) digits")
"""Python's refusal of an integer too long to convert (CVE-2020-10735): its limit and the integer's length."""


def _json_syntax_error(item: Mapping[str, Any], body: object) -> str:
    position = item["loc"][-1] if isinstance(item["loc"][-1], int) else 0
    text = body if isinstance(body, str) else ""
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    reason = (item.get("ctx") or {}).get("error") or item.get("msg", "")
    return f"{reason} at line {line}, column {column} (character {position + 1})"


def _unreadable_json(cause: BaseException | None) -> str:
    if isinstance(cause, UnicodeDecodeError):
        return (f"byte 0x{cause.object[cause.start]:02x} at byte {cause.start + 1} is not UTF-8 "
                f"({cause.reason})")
    if isinstance(cause, RecursionError):
        return "it nests arrays or objects too deeply to read"
    if isinstance(cause, ValueError) and (digits := _INT_DIGITS.search(str(cause))):
        return f"it holds an integer of {digits[2]} digits, more than the {digits[1]} read"
    return f"it cannot be read ({type(cause).__name__ if cause is not None else 'no cause given'})"


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
                 422: "A field is invalid", 428: "If-Match is required", 503: "The database, the audit key or the checkpoint store is unavailable"}
