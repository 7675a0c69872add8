"""Who is signed in: the browser's session, checked on every request, and the `CurrentUser` dependency.

A session is a random secret and its person in a signed cookie; the database keeps only a digest
of both keyed by the audit key (`token_hash`), with its person, expiry and end, so a session row
written in SQL proves nothing. A request proves a person only while the session is live (not signed
out, not expired) and the person is active in the directory: deactivating someone signs them
out at their next click, in every browser. Roles and queues come from the directory each time.

    @router.get("/mine")
    def mine(user: CurrentUser): ...        # the signed-in Principal, or a redirect to sign-in
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated
from urllib.parse import quote

from fastapi import Depends, Request, Response

from backoffice.errors import IdentityError, UserError
from backoffice.services.principal import Principal, principal_of
from backoffice.store.account_store import WebSession
from backoffice.web.security import SESSION_COOKIE, set_cookie, unsign

if TYPE_CHECKING:
    from backoffice.engine import Engine

# A session's expiry moves forward as it is used, at most once per this while (one write, not one per click).
TOUCH_EVERY = timedelta(minutes=5)


class SignInRequired(UserError):
    """A page for signed-in people, asked for without a live session: answered by a redirect to sign-in."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path
        super().__init__("sign in to see this page")


def token_hash(engine: Engine, secret: str, person_id: str) -> str:
    """The digest the database keeps of a session: keyed by the audit key, over the secret and its person.

    A plain sha256 let whoever writes the database sign in as anyone: the cookie's signing key is a
    row of the database too, so they inserted a session of a secret of their own for another
    person, or moved their own session to them. Neither matches a digest under a key they cannot read.
    """
    return engine.audit_key.secret_digest("web session", f"{person_id}\x00{secret}")


def _session_of(request: Request) -> tuple[str, str] | None:
    """Return the (secret, person id) the request's cookie carries, or None (absent, malformed, forged)."""
    value = unsign(request.app.state.web.cookie_key, request.cookies.get(SESSION_COOKIE))
    secret, separator, person_id = (value or "").partition(":")
    return (secret, person_id) if separator and secret and person_id else None


def open_session(request: Request, response: Response, person_id: str, *, now: datetime) -> None:
    """Sign `person_id` in: a new session in the database, its secret and person in the signed cookie of `response`."""
    web = request.app.state.web
    secret = secrets.token_urlsafe(32)   # letters, digits, - and _: never the separator
    web.sessions.open_session(token_hash(web.engine, secret, person_id), person_id, now=now,
                              expires_at=now + timedelta(hours=web.settings.session_hours))
    set_cookie(response, request, SESSION_COOKIE, f"{secret}:{person_id}")


def _stored_session(request: Request) -> WebSession | None:
    """Return the database's session the request's cookie proves, or None: its digest and its person must match."""
    carried = _session_of(request)
    if carried is None:
        return None
    secret, person_id = carried
    web = request.app.state.web
    found = web.sessions.session(token_hash(web.engine, secret, person_id))
    return found if found is not None and found.person_id == person_id else None


def close_session(request: Request, response: Response, *, now: datetime) -> None:
    """Sign out: end the request's session in the database and delete its cookie."""
    web = request.app.state.web
    found = _stored_session(request)
    if found is not None:
        web.sessions.end_session(found.id, now=now)
    set_cookie(response, request, SESSION_COOKIE, None)


def signed_in(request: Request) -> Principal | None:
    """Return the person the request's session proves, or None (no cookie, bad signature, ended, expired, inactive)."""
    if hasattr(request.state, "user"):
        return request.state.user
    request.state.user = None
    web = request.app.state.web
    session = _stored_session(request)
    now = web.clock()
    if session is None or not session.live(now):
        return None
    try:
        web.engine.identify(session.person_id, workflow=None, now=now)
    except IdentityError:
        # Deactivated (or removed) since: the session ends with them.
        web.sessions.end_session(session.id, now=now)
        return None
    if now - session.seen_at >= TOUCH_EVERY:
        web.sessions.touch_session(session.id, now=now, expires_at=now + timedelta(hours=web.settings.session_hours))
    request.state.user = principal_of(web.engine, session.person_id)
    return request.state.user


def current_user(request: Request) -> Principal:
    """The dependency of every page for signed-in people: the signed-in person, with their roles and queues.

    Raises:
        SignInRequired: nobody is signed in (the app answers with a redirect to the sign-in page).
    """
    user = signed_in(request)
    if user is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(path if request.method == "GET" else "/")
    return user


CurrentUser = Annotated[Principal, Depends(current_user)]
OptionalUser = Annotated[Principal | None, Depends(signed_in)]


def sign_in_path(next_path: str) -> str:
    return "/sign-in" + (f"?next={quote(next_path, safe='/')}" if next_path and next_path != "/" else "")
