"""Who is calling: the authenticated principal, established from credentials and never from what a client names.

The one way a request becomes a person is `current_principal`: it reads the bearer token of
the Authorization header and asks the app's `Authenticator` (the directory's token check)
who holds it. Roles and queues come from the directory with the answer. No body field, no
query parameter and no other header can change who acts: every endpoint takes its actor from
here, and the engine's core checks decide what that actor may do.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Protocol, TypeVar

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from backoffice.api.problems import NotAuthenticated, backoffice_error_handler, validation_error_handler
from backoffice.services.principal import Principal

BEARER = "bearer"
MAX_TOKEN_LENGTH = 512


class Authenticator(Protocol):
    """The directory's check of a bearer token."""

    def authenticate(self, token: str, *, now: datetime) -> Principal:
        """Return who holds the token.

        Raises:
            NotAuthenticated: the token is unknown, expired, revoked, or its holder is inactive.
        """


def bearer_token(request: Request) -> str:
    """Return the bearer token of the request's Authorization header.

    Raises:
        NotAuthenticated: the header is missing or is not `Bearer <token>`.
    """
    header = request.headers.get("authorization")
    if not header:
        raise NotAuthenticated("the request has no Authorization header")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != BEARER or not token:
        raise NotAuthenticated("the Authorization header is not 'Bearer <token>'")
    if len(token) > MAX_TOKEN_LENGTH or not token.isascii() or not token.isprintable():
        raise NotAuthenticated("the bearer token is not one this server issues")
    return token


def current_principal(request: Request) -> Principal:
    """The FastAPI dependency every authenticated endpoint takes: the principal the token proves."""
    services = request.app.state.services
    principal = services.authenticator.authenticate(bearer_token(request), now=services.clock())
    request.state.principal = principal.id
    return principal


Caller = Annotated[Principal, Depends(current_principal)]


# --- the same check, made in the endpoint's own thread (the busiest endpoints) ---
#
# FastAPI runs each plain-function dependency in the thread pool, then the endpoint in it again: two
# hand-overs between the event loop and a worker thread per request, a tenth of a request's CPU at
# issue 9's load. The busiest endpoints take only the `Request` and check its token first thing in
# their own thread (`authenticated`): one hand-over. They take no dependency at all (not even an async
# one for the token or the services): FastAPI solves each dependency as a request of its own (its path,
# query, header and cookie parameters read again), 0.1 ms of CPU a request for two of them. What the
# check does and answers is `current_principal`'s. One order stays as it was: a request whose token
# proves nothing is answered 401 even when its parameters are wrong too (`authenticate_before_validation`).

Endpoint = TypeVar("Endpoint", bound=Callable)
_CHECKS_INSIDE = "_backoffice_authenticates_inside"


def authenticates_inside(endpoint: Endpoint) -> Endpoint:
    """Mark an endpoint that takes the `Request` and calls `authenticated` before anything else."""
    setattr(endpoint, _CHECKS_INSIDE, True)
    return endpoint


def checks_inside(endpoint: Callable) -> bool:
    """Whether the endpoint is marked by `authenticates_inside`."""
    return getattr(endpoint, _CHECKS_INSIDE, False)


def authenticated(request: Request) -> Principal:
    """Return the principal the request's bearer token proves, as `current_principal` does (in the caller's thread).

    Raises:
        NotAuthenticated: no bearer token, or one that is unknown, expired, revoked, or whose holder is inactive.
    """
    return current_principal(request)


async def authenticate_before_validation(request: Request, error: RequestValidationError) -> Response:
    """Answer a request whose parameters are wrong: 401 first when its endpoint checks the token inside and the
    token proves nothing (as a `Caller` endpoint answers), else the validation problem (422)."""
    route = request.scope.get("route")
    if checks_inside(getattr(route, "endpoint", None)):
        try:
            await run_in_threadpool(authenticated, request)
        except NotAuthenticated as refused:
            return await backoffice_error_handler(request, refused)
    return await validation_error_handler(request, error)
