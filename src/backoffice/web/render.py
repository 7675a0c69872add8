"""Render a page: a Jinja2 template (autoescaped) with what every page needs, as an HTML response.

    return render(request, "case.html", {"case": case}, status=200)

Every template extends `base.html` (blocks `title` and `content`) and gets, besides its own
values: `user` (the signed-in Principal or None), `nav` (their navigation entries),
`csrf_token` (for `{{ csrf_field() }}` from `_forms.html`), `path` (the page's path, to mark
the current entry) and `flash` (a one-line message left by a redirect, see `redirect`; kept in
a signed cookie, so a link from elsewhere cannot put words on a page).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from backoffice.services.display import when
from backoffice.web.navigation import navigation_for
from backoffice.web.security import FLASH_COOKIE, csrf_token, set_cookie, unsign
from backoffice.web.sessions import signed_in

TEMPLATES = Path(__file__).resolve().parent / "templates"
MAX_FLASH = 300


environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                                 trim_blocks=True, lstrip_blocks=True)
environment.filters["when"] = when  # as the case data's times: one helper for every page


def render(request: Request, template: str, context: Mapping[str, Any] | None = None, *,
           status: int = 200) -> HTMLResponse:
    """Return the page `template` rendered with `context` and the values every page has."""
    user = signed_in(request)
    flash = _unpack(unsign(request.app.state.web.cookie_key, request.cookies.get(FLASH_COOKIE)))
    values = {"request": request, "user": user, "nav": navigation_for(user), "csrf_token": csrf_token(request),
              "path": request.url.path, "flash": flash, **(context or {})}
    response = HTMLResponse(environment.get_template(template).render(values), status_code=status)
    if flash is not None:
        set_cookie(response, request, FLASH_COOKIE, None)
    return response


def redirect(request: Request, path: str, *, flash: str | None = None) -> RedirectResponse:
    """Return a 303 redirect to a path of this app (after a POST), with an optional one-line message to show there."""
    response = RedirectResponse(local_path(path), status_code=303)
    if flash:
        set_cookie(response, request, FLASH_COOKIE, base64.urlsafe_b64encode(flash[:MAX_FLASH].encode()).decode())
    return response


def local_path(path: str | None) -> str:
    """Return `path` when it is a path of this site, else "/": a redirect never leads to another site."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path or any(
            ord(character) < 32 for character in path):
        return "/"
    return path


def _unpack(packed: str | None) -> str | None:
    # A cookie's value holds any text only as base64 (no spaces, quotes or semicolons to escape).
    if packed is None:
        return None
    try:
        return base64.urlsafe_b64decode(packed.encode()).decode("utf-8")[:MAX_FLASH]
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
