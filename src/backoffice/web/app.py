"""The web app: `create_web_app(settings, engine=..., clock=...)` builds it; `PAGES` lists its page modules.

A page module defines `router = APIRouter()` with its routes, renders with `render.render`,
takes the signed-in person with `sessions.CurrentUser` and the services with `context.Web`,
and is added to `PAGES` below (one line). Every route of every page gets the CSRF check
(`security.check_csrf`): a POST without this browser's token is refused before it runs.

Errors: a `BackofficeError` becomes the error page with the status the API would give
(`services.statuses`), its sentence shown; a page for signed-in people asked for without a
session redirects to sign-in (an htmx request, such as My work's poll, gets 401 with
`HX-Redirect`, so the whole window goes to sign-in rather than the sign-in page into the list).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from backoffice.engine import Engine
from backoffice.errors import BackofficeError
from backoffice.services.accounts import LocalAccounts
from backoffice.services.evidence_files import EvidenceFiles
from backoffice.services.intake_limits import IntakeLimiter
from backoffice.services.settings import ServerSettings
from backoffice.services.statuses import status_of_error
from backoffice.services.visibility import Visibility
from backoffice.store.account_store import AccountStore
from backoffice.store.read_scope import SharedReads
from backoffice.web import pages_case, pages_dashboards, pages_front_door, pages_home, pages_oidc, pages_sign_in
from backoffice.web import pages_admin, pages_approvals, pages_board, pages_calendars, pages_exceptions, pages_public_intake
from backoffice.web import pages_work
from backoffice.web.context import WebServices
from backoffice.web.render import local_path, render
from backoffice.web.request_limits import WebRequests
from backoffice.web.security import SecurityHeaders, check_csrf
from backoffice.web.sessions import SignInRequired, sign_in_path

STATIC = Path(__file__).resolve().parent / "static"
COOKIE_KEY = "cookies"
# Sign-in attempts one client address may make a minute (per process), beside each account's lock-out.
SIGN_INS_PER_MINUTE = 20

# The page modules, in the order their routes are tried. Add yours here (one line).
PAGES = [
    pages_sign_in,
    pages_oidc,
    pages_home,
    pages_front_door,
    pages_public_intake,
    pages_case,
    pages_work, pages_approvals, pages_exceptions, pages_board, pages_admin, pages_calendars,
    pages_dashboards,
]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def create_web_app(settings: ServerSettings | None = None, *, engine: Engine,
                   clock: Callable[[], datetime] = utc_now) -> FastAPI:
    """Build the web app over `engine` (whose store it shares with the API), stamping every act with `clock`."""
    settings = settings or ServerSettings()
    app = FastAPI(title="Backoffice", docs_url=None, redoc_url=None, openapi_url=None)
    accounts = LocalAccounts(engine, attempts=settings.sign_in_attempts,
                             lock_for=timedelta(minutes=settings.sign_in_lock_minutes))
    app.state.web = WebServices(settings=settings, engine=engine, clock=clock, visibility=Visibility(engine),
                                evidence=EvidenceFiles(Path(settings.evidence_dir)),
                                intake=IntakeLimiter(settings.intake_per_minute),
                                sign_ins=IntakeLimiter(SIGN_INS_PER_MINUTE), accounts=accounts,
                                sessions=accounts.store, cookie_key=accounts.store.key(COOKIE_KEY, now=clock()))
    app.add_middleware(SecurityHeaders)
    pages_oidc.install(app, settings, cookie_key=app.state.web.cookie_key, secure_cookies=settings.secure_cookies)
    app.add_middleware(WebRequests, max_body_bytes=settings.max_body_bytes, max_upload_bytes=settings.max_upload_bytes,
                       access_log=settings.access_log)
    # Outermost: a request's reads share one database connection (store.read_scope).
    app.add_middleware(SharedReads)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for page in PAGES:
        app.include_router(page.router, dependencies=[Depends(check_csrf)])
    app.add_exception_handler(SignInRequired, _to_sign_in)
    app.add_exception_handler(BackofficeError, _error_page)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    return app


async def _to_sign_in(request: Request, error: SignInRequired) -> Response:
    if request.headers.get("HX-Request") == "true":
        # An htmx request (My work's poll) would follow a 303 and swap the sign-in page into the list:
        # htmx sends the whole window to sign-in instead, and back to the page it was on after.
        return Response(status_code=401, headers={"HX-Redirect": sign_in_path(_page_of(request))})
    return RedirectResponse(sign_in_path(error.next_path), status_code=303)


def _page_of(request: Request) -> str:
    """Return the path (and query) of the page an htmx request came from, when it is this site's; else "/"."""
    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    if current.netloc and current.netloc != request.url.netloc:
        return "/"
    return local_path(current.path + (f"?{current.query}" if current.query else "")) if current.path else "/"


async def _error_page(request: Request, error: BackofficeError):
    status = status_of_error(error)
    title = getattr(error, "title", None) or {403: "Not allowed", 404: "Not found", 409: "Not now",
                                               429: "Too many requests"}.get(status, "Something is not right")
    headers = {"Retry-After": str(error.retry_after)} if hasattr(error, "retry_after") else {}
    response = render(request, "error.html", {"title": title, "message": str(error) if status < 500 else
                                              "the server failed; the error is logged"}, status=status)
    response.headers.update(headers)
    return response


async def _invalid_request(request: Request, error: RequestValidationError):
    fields = ", ".join(".".join(str(part) for part in item["loc"][1:]) or str(item["loc"][0])
                       for item in error.errors()[:5])
    return render(request, "error.html", {"title": "Not a request this page takes",
                                          "message": f"the request does not match what this page takes (at {fields})"},
                  status=422)


async def _http_error(request: Request, error: StarletteHTTPException):
    titles = {404: "Not found", 405: "Not allowed here"}
    message = "there is no page at this address" if error.status_code == 404 else str(error.detail)
    return render(request, "error.html", {"title": titles.get(error.status_code, "Error"), "message": message},
                  status=error.status_code)
