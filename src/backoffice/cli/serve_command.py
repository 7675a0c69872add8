"""`backoffice serve`: the HTTP API (at /v1) and the web app (at /) on Uvicorn, over SQLite or PostgreSQL.

The command line never imports the API or the web app (DESIGN.md: the interfaces do not import each other):
it hands Uvicorn the server's app factory by name, with its options as BACKOFFICE_ settings in
the environment, where the factory reads them with the settings file and the defaults.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

APP_FACTORY = "backoffice.server:server_from_environment"


def serve_command(
    db: Annotated[Optional[str], typer.Option("--db", help="SQLite file or PostgreSQL URL "
                                                           "(default: BACKOFFICE_DATABASE, else backoffice.db).")]
    = None,
    host: Annotated[Optional[str], typer.Option("--host", help="Address to listen on (default 127.0.0.1).")] = None,
    port: Annotated[Optional[int], typer.Option("--port", min=1, max=65535, help="TCP port (default 8000).")] = None,
    settings: Annotated[Optional[Path], typer.Option("--settings", envvar="BACKOFFICE_SETTINGS",
                                                     help="A settings file: BACKOFFICE_NAME=value lines.")] = None,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="Server processes.")] = 1,
) -> None:
    """Serve the HTTP API at /v1 and the web app at / (FastAPI on Uvicorn); stop with Ctrl-C."""
    import uvicorn

    from backoffice.errors import BadOption
    overrides = {"BACKOFFICE_DATABASE": db, "BACKOFFICE_HOST": host,
                 "BACKOFFICE_PORT": str(port) if port is not None else None}
    for name, value in overrides.items():
        if value is not None:
            os.environ[name] = value
    if settings is not None:
        if not settings.is_file():
            raise BadOption("--settings", str(settings), "a readable settings file (BACKOFFICE_NAME=value lines)")
        os.environ["BACKOFFICE_SETTINGS"] = str(settings)
    # The same precedence as the app's settings (command line, environment, file, defaults), read
    # here only for where to listen: the app reads the rest itself.
    listen_host = os.environ.get("BACKOFFICE_HOST") or _from_file(settings, "BACKOFFICE_HOST") or "127.0.0.1"
    listen_port = os.environ.get("BACKOFFICE_PORT") or _from_file(settings, "BACKOFFICE_PORT") or "8000"
    if not listen_port.isdigit() or not 1 <= int(listen_port) <= 65535:
        raise BadOption("BACKOFFICE_PORT", listen_port, "a TCP port from 1 to 65535")
    uvicorn.run(APP_FACTORY, factory=True, host=listen_host, port=int(listen_port), workers=workers,
                access_log=False, log_config=None, proxy_headers=False, server_header=False)


def _from_file(settings: Path | None, name: str) -> str | None:
    if settings is None:
        return None
    for line in settings.read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition("=")
        if key.strip() == name:
            return value.strip().strip('"').strip("'")
    return None
