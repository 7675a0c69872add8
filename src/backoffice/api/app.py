"""The HTTP API: `create_app(settings)` builds the FastAPI app over one engine and its database.

    from backoffice.api import ApiSettings, create_app
    app = create_app(ApiSettings(database="backoffice.db"))

The app authenticates (bearer tokens checked by the directory), then calls the engine; the
engine's core checks decide. Every refusal is RFC 9457 problem+json (see `problems`).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from backoffice.api import (routes_cases, routes_changes, routes_comments, routes_directory, routes_evidence,
                            routes_live_work, routes_operations, routes_steps, routes_tasks, routes_webhooks,
                            routes_workflows)
from backoffice.api.metrics import ApiMetrics
from backoffice.api.observe import RequestContext, configure_logging
from backoffice.api.principal import Authenticator, authenticate_before_validation
from backoffice.api.problems import backoffice_error_handler, http_error_handler
from backoffice.api.services import Services
from backoffice.api.tokens import DirectoryTokens
from backoffice.engine import Engine
from backoffice.errors import BackofficeError
from backoffice.services.evidence_files import EvidenceFiles
from backoffice.services.intake_limits import IntakeLimiter
from backoffice.services.settings import ApiSettings
from backoffice.services.visibility import Visibility
from backoffice.store import SqlStore
from backoffice.store.read_scope import SharedReads

API_VERSION = "1"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def create_app(settings: ApiSettings | None = None, *, authenticator: Authenticator | None = None,
               clock: Callable[[], datetime] = utc_now, engine: Engine | None = None) -> FastAPI:
    """Build the app: open (and migrate) the database, wire authentication, routes, errors and metrics.

    Args:
        settings: the server's settings (default: from the environment).
        authenticator: who holds a bearer token (default: the directory's API tokens in the database).
        clock: the time every change is stamped with (tests pass a fixed one).
        engine: an engine to serve (default: one over `settings.database`).

    Raises:
        DatabaseUnavailable: the database cannot be opened.
    """
    settings = settings or ApiSettings()
    owns_store = engine is None
    engine = engine or Engine(SqlStore.open(settings.database))

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        limit_request_threads(settings.request_threads)
        yield
        if owns_store:
            engine.store.close()

    app = FastAPI(title="Backoffice API", version=API_VERSION, lifespan=lifespan,
                  description="Every capability of Backoffice over HTTP. Authenticate with "
                              "`Authorization: Bearer <token>`; the acting person is the token's holder. "
                              "Mistakes are RFC 9457 problem+json.")
    app.state.services = Services(settings=settings, engine=engine,
                                  authenticator=authenticator or DirectoryTokens(engine), clock=clock,
                                  metrics=ApiMetrics(engine, clock), visibility=Visibility(engine),
                                  evidence=EvidenceFiles(Path(settings.evidence_dir)),
                                  intake=IntakeLimiter(settings.intake_per_minute))
    app.add_exception_handler(BackofficeError, backoffice_error_handler)
    app.add_exception_handler(RequestValidationError, authenticate_before_validation)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_middleware(RequestContext, max_body_bytes=settings.max_body_bytes, access_log=settings.access_log,
                       max_upload_bytes=settings.max_upload_bytes)
    # Outermost: a request's reads share one database connection (store.read_scope).
    app.add_middleware(SharedReads)
    for router in (routes_operations.probes, routes_operations.router, routes_workflows.router, routes_changes.router,
                   routes_live_work.router, routes_steps.router, routes_cases.router, routes_comments.router,
                   routes_tasks.router, routes_evidence.router, routes_directory.router, routes_webhooks.router):
        # The routers' routes go straight into the app's, in the same order, instead of each router being
        # included: FastAPI matches a request against an included router by asking each of its routes, then
        # again inside the router it chose, and counts every router's routes version on each request (60 us
        # of CPU a request over these twelve). Each route carries its prefix, tags and answers already (the
        # router gave them when it made the route), so /openapi.json is the same.
        app.router.routes.extend(router.routes)
    return app


def limit_request_threads(threads: int) -> None:
    """Let this process's event loop run at most `threads` requests' work at once in its thread pool.

    The endpoints are plain functions, run in the thread pool; each holds Python's one lock
    while it computes. Forty threads (the default) at once spent their time handing that lock
    to each other: at issue 9's load, 6.9 ms of CPU per request with forty, 5.4 with eight.
    Requests beyond the limit wait on the event loop, costing nothing. Called at startup, in
    the event loop whose pool it sizes.
    """
    anyio.to_thread.current_default_thread_limiter().total_tokens = threads


def app_from_environment() -> FastAPI:
    """The factory `backoffice serve` hands Uvicorn: settings from the environment (and BACKOFFICE_SETTINGS)."""
    import os
    import sys

    from backoffice.services.settings import SETTINGS_FILE_VARIABLE, load_settings
    from backoffice.errors import UserError
    try:
        settings = load_settings(os.environ.get(SETTINGS_FILE_VARIABLE))
        configure_logging(settings.log_level)
        return create_app(settings)
    except UserError as exc:
        # A wrong setting or an unreachable database is the operator's mistake: one line, status 2.
        print(f"error: {exc.message}", file=sys.stderr)
        sys.exit(exc.exit_code)
