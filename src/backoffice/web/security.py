"""The browser's protections: signed cookies, the CSRF token of every form, and the security headers of every page.

- Cookies are HttpOnly, SameSite=Lax, and signed (HMAC-SHA256 with the database's cookie key),
  so a cookie a client made up or altered is ignored.
- Every POST must carry the CSRF token (form field `csrf_token`, or the `X-CSRF-Token` header
  for htmx requests): an HMAC of the browser's CSRF cookie, which another site can neither read
  nor compute. `check_csrf` refuses a POST without it (403) before the page's code runs.
- Every answer carries a Content-Security-Policy without inline scripts or styles, and the
  headers that keep the pages out of frames and content types from being guessed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from fastapi import Request, Response
from starlette.middleware.base import BaseHTTPMiddleware

from backoffice.errors import Forbidden

SESSION_COOKIE = "bo_session"
CSRF_COOKIE = "bo_csrf"
FLASH_COOKIE = "bo_flash"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class CsrfRefused(Forbidden):
    """A POST without the CSRF token of this browser: from another site, or from a page too old."""

    def __init__(self) -> None:
        super().__init__("the form was refused: its security token is missing or not this browser's; expected a "
                         "form sent from a page of this site (reload the page and send it again)")


def sign(key: bytes, value: str) -> str:
    """Return `value` with its signature, as a cookie carries it."""
    mac = hmac.new(key, value.encode("utf-8"), hashlib.sha256).digest()
    return f"{value}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"


def unsign(key: bytes, signed: str | None) -> str | None:
    """Return the value of a signed cookie, or None when it is absent, malformed or its signature is wrong."""
    if not signed or len(signed) > 512 or "." not in signed:
        return None
    value, _, _ = signed.rpartition(".")
    return value if hmac.compare_digest(sign(key, value), signed) else None


def csrf_token(request: Request) -> str:
    """Return the CSRF token forms of this page must carry (the cookie is set with the answer when new)."""
    key = request.app.state.web.cookie_key
    nonce = getattr(request.state, "csrf_nonce", None) or unsign(key, request.cookies.get(CSRF_COOKIE))
    if nonce is None:
        nonce = secrets.token_urlsafe(24)
        request.state.new_csrf_nonce = nonce
    request.state.csrf_nonce = nonce
    return _token_of(key, nonce)


def _token_of(key: bytes, nonce: str) -> str:
    return hmac.new(key, f"csrf:{nonce}".encode(), hashlib.sha256).hexdigest()


async def check_csrf(request: Request) -> None:
    """The dependency every web route has: a POST (or other unsafe method) without this browser's token is refused.

    Raises:
        CsrfRefused: 403.
    """
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    key = request.app.state.web.cookie_key
    nonce = unsign(key, request.cookies.get(CSRF_COOKIE))
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            # Starlette keeps the parsed form on the request: the page's own Form parameters reuse it.
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if nonce is None or not sent or not hmac.compare_digest(_token_of(key, nonce), sent):
        raise CsrfRefused()


def set_cookie(response: Response, request: Request, name: str, value: str | None) -> None:
    """Set (or, with None, delete) one of the app's signed cookies: HttpOnly, SameSite=Lax, Secure behind TLS."""
    web = request.app.state.web
    if value is None:
        response.delete_cookie(name, path="/", httponly=True, samesite="lax", secure=web.settings.secure_cookies)
        return
    response.set_cookie(name, sign(web.cookie_key, value), path="/", httponly=True, samesite="lax",
                        secure=web.settings.secure_cookies)


class SecurityHeaders(BaseHTTPMiddleware):
    """Add the security headers to every answer, and the CSRF cookie where a page made a new token."""

    async def dispatch(self, request: Request, call_next):
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        response.headers.setdefault("Cache-Control", "no-store")
        nonce = getattr(request.state, "new_csrf_nonce", None)
        if nonce is not None:
            set_cookie(response, request, CSRF_COOKIE, nonce)
        return response
