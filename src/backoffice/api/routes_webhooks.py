"""Signed webhooks: another system starts cases by POSTing JSON signed with a secret it shares with us.

    Webhook-Timestamp: 1796570000
    Webhook-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>

The signature covers the timestamp and the exact body bytes; a timestamp outside the replay
window (five minutes either way by default) is refused, and an exact replay inside it returns
the case the first delivery started (its idempotency key is derived from the signature). A
delivery is used once: sent again to another workflow or with another Idempotency-Key, neither
of which the signature covers, it is refused (409).
The acting principal is the source's service account in the directory: the secret proves who
sends, the directory says what they may do, and the payload is checked against the workflow's
data contract by the engine like any intake.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request, Response

from backoffice.api.problems import ApiError, NotAuthenticated, documented
from backoffice.api.schemas import CaseOut
from backoffice.api.services import Served, etag
from backoffice.engine.cases import Actor
from backoffice.services.settings import WEBHOOK_WINDOW_MOST_SECONDS

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], responses=documented(400, 401, 413, 422))

SIGNATURE_PREFIX = "sha256="


async def raw_body(request: Request) -> bytes:
    """The exact bytes the signature covers (read before any JSON parsing)."""
    return await request.body()


def signature_of(secret: str, timestamp: str, body: bytes) -> str:
    """Return the signature header value a sender computes: sha256=<hex HMAC over 'timestamp.' + body>."""
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


@router.post("/{source}/workflows/{workflow}/cases", response_model=CaseOut, status_code=201,
             responses={200: {"model": CaseOut, "description": "A replay: the case the first delivery started."},
                        **documented(403, 404, 409, 429)},
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
                 "type": "object", "description": "The case data, as the workflow's inputs say."}}}}})
def webhook_intake(source: Annotated[str, Path(min_length=1, max_length=100)],
                   workflow: Annotated[str, Path(min_length=1, max_length=200)],
                   served: Served, response: Response, body: Annotated[bytes, Depends(raw_body)],
                   timestamp: Annotated[str | None, Header(alias="Webhook-Timestamp", max_length=20)] = None,
                   signature: Annotated[str | None, Header(alias="Webhook-Signature", max_length=200)] = None,
                   idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", min_length=1,
                                                                 max_length=200, pattern=r"^[\x21-\x7e]+$")] = None,
                   ) -> CaseOut:
    """Start a case from another system's signed webhook."""
    settings = served.settings
    sender = settings.webhook_sources.get(source)
    if sender is None or not timestamp or not signature:
        # An unknown source answers as a bad signature does: the refusal says nothing about which sources exist.
        raise NotAuthenticated("the webhook is not signed by a known source (Webhook-Timestamp and "
                               "Webhook-Signature over the timestamp and the body)")
    now = served.clock()
    if not timestamp.isdigit() or abs(now.timestamp() - int(timestamp)) > settings.webhook_window_seconds:
        raise NotAuthenticated(f"the webhook's timestamp is outside the replay window of "
                               f"{settings.webhook_window_seconds} seconds")
    expected = signature_of(sender.secret.get_secret_value(), timestamp, body)
    if not hmac.compare_digest(expected.encode("ascii"), signature.strip().encode("utf-8", "replace")):
        raise NotAuthenticated("the webhook's signature does not match its timestamp and body")
    served.intake.admit(f"webhook:{source}", now)
    payload = _json_object(body)
    digest = hashlib.sha256(signature.strip().encode("utf-8", "replace")).hexdigest()
    key = idempotency_key or f"webhook:{source}:{digest[:32]}"
    # The signature covers the timestamp and the body, not the path nor the Idempotency-Key: a
    # delivery seen by someone else (a proxy's log) must not start a second case within the window,
    # in this workflow under another key or in another workflow whose inputs the body also fits.
    # A delivery's timestamp was within one window of its receipt, so two windows after it came it
    # cannot pass the check above again: its row is then forgotten, so the table stays small. The
    # widest window is used, so that widening the setting later lets no forgotten delivery back in.
    longest = timedelta(seconds=WEBHOOK_WINDOW_MOST_SECONDS)
    first = served.engine.store.claim_webhook_delivery(source, digest, workflow=workflow, idempotency_key=key,
                                                       at=now, forget_received_before=now - 2 * longest)
    if first != (workflow, key):
        raise ApiError(409, "this signed delivery was received already, for another workflow or idempotency key",
                       pointer="/header/Webhook-Signature", title="Delivery replayed",
                       expected="a new delivery, signed anew, for a new request")
    case = served.engine.start_case(workflow, payload, actor=Actor(sender.account), now=now, idempotency_key=key)
    if case.created_at != now:
        response.status_code = 200
    else:
        served.metrics.cases_started.labels(case.workflow, str(case.definition_version)).inc()
    response.headers["Location"] = f"/v1/cases/{case.id}"
    response.headers["ETag"] = etag(case.version)
    return CaseOut.of(case)


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise ApiError(422, f"the body is not JSON: {str(exc)[:200]}", pointer="/body",
                       expected="a JSON object of the case data", title="Invalid request") from exc
    if not isinstance(value, dict):
        raise ApiError(422, "the body is JSON but not an object", pointer="/body",
                       expected="a JSON object of the case data", title="Invalid request")
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")
