"""The built-in HTTP webhook action: POST a CloudEvents 1.0 JSON event to a URL, with httpx.

    registry.register("notify_erp", webhook_action("https://erp.internal/hooks/backoffice"))

The event's `id` is the step's idempotency key, and so is the `Idempotency-Key` header: the
receiver drops a second delivery of the same key (delivery is at least once). A 2xx answer is
success; 408, 429 and 5xx and transport errors are retried; any other 4xx is not (sending the
same request again cannot help), and goes to the dead-letter queue at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from backoffice.engine.actions import Action, ActionCall, ActionFailed

EVENT_TYPE = "org.backoffice.step"
RETRYABLE_STATUS = frozenset({408, 425, 429})


def cloud_event(call: ActionCall, *, source: str) -> dict[str, Any]:
    """Return the CloudEvents 1.0 structured-mode JSON of one step's call."""
    return {"specversion": "1.0", "id": call.idempotency_key, "source": source,
            "type": f"{EVENT_TYPE}.{call.action}", "subject": f"case/{call.case_id}",
            **({"time": call.at.isoformat()} if call.at else {}), "datacontenttype": "application/json",
            "data": {"case_id": call.case_id, "workflow": call.workflow, "state": call.state,
                     "action": call.action, "attempt": call.attempt, "case": dict(call.data)}}


def webhook_action(url: str, *, source: str = "backoffice", timeout: float = 10.0,
                   client: httpx.Client | None = None, headers: Mapping[str, str] | None = None) -> Action:
    """Return an action that POSTs each call as a CloudEvent to `url`.

    Returns, for the case data: the JSON object the receiver answered with, if any.
    A `client` may be given (tests pass one with a mock transport); without one, the action
    makes its own on its first call and keeps it for the next ones.
    """
    client_of_action = (lambda: client) if client is not None else _kept_client(timeout)

    def post(call: ActionCall) -> Mapping[str, Any] | None:
        body = cloud_event(call, source=source)
        sent_headers = {"content-type": "application/cloudevents+json", "idempotency-key": call.idempotency_key,
                        **(headers or {})}
        try:
            response = client_of_action().post(url, json=body, headers=sent_headers, timeout=timeout)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            # No connection, no request: the receiver certainly did not get this one.
            raise ActionFailed(f"POST {url} failed: {exc}", delivered=False) from exc
        except httpx.HTTPError as exc:
            raise ActionFailed(f"POST {url} failed: {exc}") from exc
        if response.is_success:
            try:
                answer = response.json() if response.content else None
            except ValueError:
                return None
            return answer if isinstance(answer, dict) else None
        retryable = response.status_code >= 500 or response.status_code in RETRYABLE_STATUS
        # A 4xx says the receiver refused the request; after a 5xx it may have applied it before failing.
        raise ActionFailed(f"POST {url} answered {response.status_code}", retryable=retryable,
                           delivered=False if response.status_code < 500 else None)
    return post


def _kept_client(timeout: float) -> Callable[[], httpx.Client]:
    """Return a function that gives one client, made on the first call, to every call after it.

    A client made per delivery pays for its TLS setup (loading the certificate store) every time,
    even for plain HTTP: some 20 ms of CPU per delivery when measured, where the rest of a step
    took 6 ms, so a worker ran steps at a third of its speed. One client also reuses its
    connections. It is made on first use, not before: a webhook registered but never called costs
    nothing, and a process forked before its first delivery shares no connection with its parent.
    """
    kept: list[httpx.Client] = []
    lock = threading.Lock()

    def get() -> httpx.Client:
        with lock:  # httpx.Client is safe to share between threads, but two must not make one each
            if not kept:
                kept.append(httpx.Client(timeout=timeout))
            return kept[0]
    return get
