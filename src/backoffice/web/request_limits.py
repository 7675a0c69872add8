"""What surrounds every request of the web app: a body size limit and one JSON log line.

A form is small; a form with attachments at most the upload limit (and a little for its other
fields). A larger body, declared or streamed, gets 413 before any page parses it. Each request
is logged (method, path, route, status, time, who) to the `backoffice.web` logger, which
`backoffice serve` writes as JSON lines like the API's.
"""

from __future__ import annotations

import logging
import time

from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backoffice.web.security import SECURITY_HEADERS

LOGGER = "backoffice.web"
# Room for the other fields of a form that carries files.
FORM_MARGIN = 1024 * 1024
_TOO_LARGE = ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Too large · Backoffice</title>"
              "<link rel=\"stylesheet\" href=\"/static/app.css\"></head><body><main id=\"main\"><h1>Too large</h1>"
              "<p class=\"error-message\">the form sent is over {limit} bytes; expected at most {limit} bytes "
              "(a smaller attachment)</p><p><a href=\"/\">Back to the start page</a></p></main></body></html>")


class WebRequests:
    """ASGI middleware: refuse bodies over the limit (413), and log each request."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_upload_bytes: int, access_log: bool) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_form_bytes = max(max_upload_bytes, max_body_bytes) + FORM_MARGIN
        self.access_log = access_log
        self.logger = logging.getLogger(LOGGER)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        multipart = headers.get("content-type", "").startswith("multipart/form-data")
        limit = self.max_form_bytes if multipart else self.max_body_bytes
        try:
            declared = headers.get("content-length")
            if declared is not None and (not declared.isdigit() or int(declared) > limit):
                await HTMLResponse(_TOO_LARGE.format(limit=limit), status_code=413, headers=SECURITY_HEADERS)(scope, receive, sending)
                return
            await self.app(scope, _counted(receive, limit), sending)
        except BodyTooLarge:
            await HTMLResponse(_TOO_LARGE.format(limit=limit), status_code=413, headers=SECURITY_HEADERS)(scope, receive, sending)
        finally:
            if self.access_log:
                route = getattr(scope.get("route"), "path", None) or "unmatched"
                user = (scope.get("state") or {}).get("user")
                self.logger.info("request", extra={"fields": {
                    "method": scope["method"], "path": scope["path"], "route": route, "status": status["code"],
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "principal": getattr(user, "id", None)}})


class BodyTooLarge(Exception):
    """A streamed body went over the limit (no Content-Length said so first)."""


def _counted(receive: Receive, limit: int) -> Receive:
    size = 0

    async def counting() -> Message:
        nonlocal size
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                raise BodyTooLarge()
        return message
    return counting
