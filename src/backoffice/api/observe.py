"""What surrounds every request: a request id, one JSON log line, the metrics, and a body size limit.

The request id is the client's `X-Request-ID` when it is a sane token (so a caller can follow
its own id through our logs), a new one otherwise; it is echoed in the response header, in
every problem body and in the log line. The body limit is enforced before any endpoint reads
the body: a larger declared or streamed body gets 413 and is never parsed.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from datetime import datetime, timezone

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backoffice.api.problems import problem_response

LOGGER = "backoffice.api"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_SECURITY_HEADERS = ((b"x-content-type-options", b"nosniff"), (b"cache-control", b"no-store"),
                     (b"x-frame-options", b"DENY"), (b"referrer-policy", b"no-referrer"))
_UPLOAD = re.compile(r"^/v1/cases/[0-9]+/evidence$")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the record's `fields`."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(level: str) -> None:
    """Send the server's logs (and Uvicorn's) to standard error as JSON lines."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    for name in (LOGGER, "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False


class RequestContext:
    """ASGI middleware: request id, body limit, access log and request metrics."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, access_log: bool, max_upload_bytes: int = 0) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max(max_upload_bytes, max_body_bytes)
        self.access_log = access_log
        self.logger = logging.getLogger(LOGGER)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        given = headers.get("x-request-id", "")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status_holder = {"status": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                message.setdefault("headers", [])
                # No answer of this API is a page: a browser must neither sniff one into HTML nor cache
                # someone's case data.
                present = {key.lower() for key, _ in message["headers"]}
                extra = [(b"x-request-id", request_id.encode("ascii"))]
                extra += [(key, value) for key, value in _SECURITY_HEADERS if key not in present]
                message["headers"] = [*message["headers"], *extra]
            await send(message)

        # An evidence upload may be larger than any other body; nothing else may.
        limit = self.max_upload_bytes if _UPLOAD.match(scope["path"]) else self.max_body_bytes
        try:
            body = await self._read_body(receive, headers, limit)
            if body is None:
                response = problem_response(Request(scope), status=413, title="Request body too large",
                                            detail=f"the request body is over {limit} bytes; "
                                                   f"expected at most {limit} bytes")
                await response(scope, receive, send_with_id)
                return
            await self.app(scope, _replay(body, receive), send_with_id)
        finally:
            self._record(scope, status_holder["status"], time.perf_counter() - started, request_id)

    @staticmethod
    async def _read_body(receive: Receive, headers: dict[str, str], limit: int) -> bytes | None:
        """Read the whole body, or return None as soon as it is over the limit (declared or streamed)."""
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    def _record(self, scope: Scope, status: int, seconds: float, request_id: str) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        app = scope.get("app")
        metrics = getattr(getattr(getattr(app, "state", None), "services", None), "metrics", None)
        if metrics is not None:
            metrics.observe(scope["method"], template, status, seconds)
        if self.access_log:
            state = scope.get("state", {})
            self.logger.info("request", extra={"fields": {
                "request_id": request_id, "method": scope["method"], "path": scope["path"], "route": template,
                "status": status, "duration_ms": round(seconds * 1000, 2), "principal": state.get("principal")}})


def _replay(body: bytes, original: Receive) -> Receive:
    """Hand the endpoint the body read already, then whatever the client sends next (its disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await original()
    return receive
