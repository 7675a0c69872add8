"""Who is calling: the authenticated principal, established from credentials and never from what a client names.

The one way a request becomes a person is `current_principal`: it reads the bearer token of
the Authorization header and asks the app's `Authenticator` (the directory's token check)
who holds it. Roles and queues come from the directory with the answer. No body field, no
query parameter and no other header can change who acts: every endpoint takes its actor from
here, and the engine's core checks decide what that actor may do.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Protocol

from fastapi import Depends, Request

from backoffice.api.problems import NotAuthenticated
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
