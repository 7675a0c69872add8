"""Signing in with the organisation's OpenID Connect provider: the way out to it, and the way back.

    GET /sign-in/oidc?next=/work        the "Sign in with <provider>" button: off to the provider
    GET /sign-in/oidc/callback          the provider sends the person back here, with a code

Between the two, this browser keeps the sign-in's state, nonce and PKCE verifier in a signed
cookie of its own (`bo_oidc`, sent only to /sign-in/oidc, good for ten minutes, used once). On
the way back the relying party verifies the provider's answer (`oidc.RelyingParty`), the engine
finds the person and keeps the roles their groups map to in line, audited
(`Engine.sign_in_from_provider`), and only then is the web session opened. Any refusal is a
4xx page that says why, and writes nothing.

Starting a sign-in is a link, not a form: the page's Content-Security-Policy (`form-action
'self'`) would stop a form whose answer redirects to the provider. A link that starts a sign-in
changes nothing but this browser's sign-in cookie, so it needs no CSRF token; the callback is
bound to that cookie by its state.
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import APIRouter, FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.middleware.sessions import SessionMiddleware

from backoffice.errors import IdentityError, InputRefused, TooManyRequests
from backoffice.services.oidc_settings import OidcSettings
from backoffice.web.context import Web
from backoffice.web.oidc import ProviderAnswerRefused, RelyingParty
from backoffice.web.render import local_path, redirect, render
from backoffice.web.sessions import open_session

router = APIRouter()

SIGN_IN_PATH = "/sign-in/oidc"
STATE_COOKIE = "bo_oidc"
STATE_SECONDS = 600
"""How long a person has on the provider's pages before the sign-in must start again."""
NEXT_KEY = "next"


def install(app: FastAPI, settings: OidcSettings, *, cookie_key: bytes, secure_cookies: bool = False) -> None:
    """Make sign-in with the provider work on `app` when it is configured: its relying party and its state cookie."""
    if not settings.oidc_enabled:
        return
    app.state.oidc = RelyingParty(settings)
    # A key of its own for this cookie, derived from the app's cookie key (one secret to keep, two uses apart).
    state_key = hmac.new(cookie_key, b"oidc sign-in state", hashlib.sha256).hexdigest()
    app.add_middleware(SessionMiddleware, secret_key=state_key, session_cookie=STATE_COOKIE, max_age=STATE_SECONDS,
                       path=SIGN_IN_PATH, same_site="lax", https_only=secure_cookies)


def _relying_party(request: Request) -> RelyingParty | None:
    return getattr(request.app.state, "oidc", None)


@router.get(SIGN_IN_PATH)
async def start_sign_in(request: Request, web: Web, next: str = "/"):
    relying_party = _relying_party(request)
    if relying_party is None:
        return render(request, "error.html", {"title": "Not found", "message": "sign-in with an identity provider "
                                              "is not set up on this server; sign in with a local account"},
                      status=404)
    client = request.client.host if request.client else "unknown"
    try:
        web.sign_ins.admit(f"sign-in:{client}", web.clock())
        # A fresh sign-in forgets any earlier one of this browser: one state at a time.
        request.session.clear()
        request.session[NEXT_KEY] = local_path(next)
        return await relying_party.redirect(request, str(request.url_for("finish_sign_in")))
    except TooManyRequests as refused:
        return _refusal(request, str(refused), 429)
    except ProviderAnswerRefused as refused:
        return _refusal(request, str(refused), refused.status)


@router.get(SIGN_IN_PATH + "/callback", name="finish_sign_in")
async def finish_sign_in(request: Request, web: Web):
    relying_party = _relying_party(request)
    if relying_party is None:
        return _refusal(request, "sign-in with an identity provider is not set up on this server", 404)
    next_path = local_path(request.session.get(NEXT_KEY))
    settings = relying_party.settings
    try:
        identity = await relying_party.identity(request)
        signed = await run_in_threadpool(web.engine.sign_in_from_provider, identity,
                                         group_roles=settings.oidc_group_roles, provision=settings.oidc_provision,
                                         now=web.clock())
    except ProviderAnswerRefused as refused:
        return _refusal(request, str(refused), refused.status)
    except InputRefused as refused:
        # An id the directory cannot hold (control characters, too long): the provider's claim, refused.
        return _refusal(request, str(refused), 400)
    except IdentityError as refused:
        return _refusal(request, str(refused), 403)
    request.session.clear()
    response = redirect(request, next_path)
    open_session(request, response, signed.person.id, now=web.clock())
    return response


def _refusal(request: Request, message: str, status: int):
    # The sign-in's state goes with its refusal: a second try starts afresh from the sign-in page.
    if "session" in request.scope:
        request.session.clear()
    return render(request, "error.html", {"title": "Sign-in not completed", "message": message}, status=status)
