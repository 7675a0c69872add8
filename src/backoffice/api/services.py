"""What every endpoint reaches: the engine, the authenticator, the clock, the metrics and the visibility rule.

Built once by `create_app` and kept on `app.state.services`. Also the small readers of the
HTTP-only parts of a request: page cursors and the If-Match header.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from backoffice.api.metrics import ApiMetrics
from backoffice.api.principal import Authenticator
from backoffice.api.problems import ApiError
from backoffice.engine import Engine
from backoffice.services.evidence_files import EvidenceFiles
from backoffice.services.intake_limits import IntakeLimiter
from backoffice.services.settings import ApiSettings
from backoffice.services.visibility import Visibility

_CURSOR_PREFIX = "after:"
MAX_ID = 2**63 - 1


@dataclass
class Services:
    settings: ApiSettings
    engine: Engine
    authenticator: Authenticator
    clock: Callable[[], datetime]
    metrics: ApiMetrics
    visibility: Visibility
    evidence: EvidenceFiles
    intake: IntakeLimiter


def served_by(request: Request) -> Services:
    """The app's services, for an endpoint that takes no dependency (`principal.authenticates_inside`)."""
    return request.app.state.services


async def services(request: Request) -> Services:
    # Async on purpose: FastAPI runs a plain function dependency in the thread pool, a hop per request
    # (a wake-up and a hand-back across threads) for reading an attribute.
    return served_by(request)


Served = Annotated[Services, Depends(services)]


def encode_cursor(after_id: int | None) -> str | None:
    """Return the opaque cursor of the page after `after_id` (None: there is no next page)."""
    if after_id is None:
        return None
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{after_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    """Return the id a cursor continues after (0 for the first page).

    Raises:
        ApiError: 400, the cursor is not one this server gave.
    """
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    number = text[len(_CURSOR_PREFIX):] if text.startswith(_CURSOR_PREFIX) else ""
    if not number.isdigit() or int(number) > MAX_ID:
        raise ApiError(400, f"the cursor {cursor[:80]!r} is not one this server gave", pointer="/query/cursor",
                       expected="the next_cursor of the previous page", title="Invalid cursor")
    return int(number)


def expected_version(if_match: str | None) -> int:
    """Return the case version an If-Match header names: `"3"` (an ETag this server gave) or `3`.

    Raises:
        ApiError: 428 when the header is missing, 400 when it names no version.
    """
    if if_match is None or not if_match.strip():
        raise ApiError(428, "moving a case needs the If-Match header with the case version you read, so a "
                            "change made since is never overwritten", pointer="/header/If-Match",
                       expected='If-Match: "N", the ETag (version) of the case you read', title="Precondition required")
    text = if_match.strip()
    if text.startswith("W/"):
        text = text[2:]
    text = text.strip('"')
    if not text.isdigit() or len(text) > 18:
        raise ApiError(400, f"If-Match {if_match[:80]!r} names no case version", pointer="/header/If-Match",
                       expected='a case version such as "3" (the ETag of GET /v1/cases/{id})', title="Invalid If-Match")
    return int(text)


def etag(version: int) -> str:
    return f'"{version}"'
