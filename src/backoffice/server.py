"""What `backoffice serve` runs: the HTTP API at /v1 (with its probes, metrics and schema) and the web app at /.

    from backoffice.server import create_server
    app = create_server(settings)           # an ASGI app; Uvicorn serves it

Both apps run over one engine and one database, and share its services; neither imports the
other (DESIGN.md, Layers): this module, above both, hands each request to the one whose paths
it is.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from backoffice.api.app import create_app, limit_request_threads, utc_now
from backoffice.engine import Engine
from backoffice.services.settings import ServerSettings
from backoffice.store import SqlStore
from backoffice.web.app import create_web_app

# Paths the API answers; every other path is the web app's.
API_PATHS = ("/v1/", "/v1")
API_EXACT = ("/health", "/ready", "/metrics", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc")


class Server:
    """An ASGI app handing each request to the API or the web app, by its path; closes the store at shutdown."""

    def __init__(self, api, web, engine: Engine, *, owns_store: bool, request_threads: int) -> None:
        self.api = api
        self.web = web
        self.engine = engine
        self.owns_store = owns_store
        self.request_threads = request_threads

    def is_api(self, path: str) -> bool:
        return path in API_EXACT or path.startswith(API_PATHS)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        target = self.api if self.is_api(scope.get("path", "")) else self.web
        await target(scope, receive, send)

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                limit_request_threads(self.request_threads)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.owns_store:
                    self.engine.store.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def create_server(settings: ServerSettings | None = None, *, clock: Callable[[], datetime] = utc_now,
                  engine: Engine | None = None) -> Server:
    """Build the API and the web app over one engine (default: over `settings.database`, migrated).

    Raises:
        DatabaseUnavailable: the database cannot be opened.
    """
    settings = settings or ServerSettings()
    owns_store = engine is None
    engine = engine or Engine(SqlStore.open(settings.database))
    return Server(create_app(settings, clock=clock, engine=engine), create_web_app(settings, engine=engine, clock=clock),
                  engine, owns_store=owns_store, request_threads=settings.request_threads)


def server_from_environment() -> Server:
    """The factory `backoffice serve` hands Uvicorn: settings from the environment (and BACKOFFICE_SETTINGS)."""
    import logging
    import os
    import sys

    from backoffice.api.observe import configure_logging
    from backoffice.errors import UserError
    from backoffice.services.settings import SETTINGS_FILE_VARIABLE, load_settings
    try:
        settings = load_settings(os.environ.get(SETTINGS_FILE_VARIABLE))
        configure_logging(settings.log_level)
        # The web app's request lines go where the API's go, as JSON lines.
        api_logger = logging.getLogger("backoffice.api")
        web_logger = logging.getLogger("backoffice.web")
        web_logger.handlers[:] = api_logger.handlers
        web_logger.setLevel(api_logger.level)
        web_logger.propagate = False
        return create_server(settings)
    except UserError as exc:
        # A wrong setting or an unreachable database is the operator's mistake: one line, status 2.
        print(f"error: {exc.message}", file=sys.stderr)
        sys.exit(exc.exit_code)
