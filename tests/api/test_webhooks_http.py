"""Signed webhooks through `backoffice serve`, on SQLite and PostgreSQL: a valid signature starts a case as the source's service account."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from backoffice.api.routes_webhooks import signature_of
from backoffice.engine import Engine

from .live_server import ADMIN, PAYLOAD, T0, served
from .server_process import SharedClock

SECRET = "s3cret-shared-with-the-erp"
PATH = "/v1/webhooks/erp/workflows/purchase-approval/cases"


@pytest.fixture
def hooked(database: str, tmp_path) -> Iterator[tuple[str, Engine, SharedClock]]:
    """`backoffice serve` with the ERP as a webhook source acting as the service account svc-erp."""
    def arrange(engine: Engine) -> None:
        engine.add_service_account("svc-erp", description="the ERP", actor=ADMIN, now=T0)
    sources = json.dumps({"erp": {"secret": SECRET, "account": "svc-erp"}})
    with served(database, tmp_path, settings={"WEBHOOK_SOURCES": sources}, arrange=arrange) as running:
        yield running.url, running.engine, running.clock


def send(url: str, body: bytes, *, timestamp: int, secret: str = SECRET, path: str = PATH) -> httpx.Response:
    stamp = str(timestamp)
    return httpx.post(url + path, content=body, headers={
        "Content-Type": "application/json", "Webhook-Timestamp": stamp,
        "Webhook-Signature": signature_of(secret, stamp, body)})


def test_a_signed_webhook_starts_a_case_as_the_service_account_and_a_replay_returns_it(hooked):
    url, engine, clock = hooked
    body = json.dumps(PAYLOAD).encode()
    first = send(url, body, timestamp=int(clock.now.timestamp()))
    assert first.status_code == 201, first.text
    assert first.json()["requester"] == "svc-erp"
    clock.advance(seconds=30)
    replay = send(url, body, timestamp=int(clock.now.timestamp()) - 30)
    assert (replay.status_code, replay.json()["id"]) == (200, first.json()["id"])
    assert len(engine.cases()) == 1


def test_a_wrong_secret_an_edited_body_an_old_timestamp_or_an_unknown_source_is_refused(hooked):
    url, engine, clock = hooked
    now = int(clock.now.timestamp())
    body = json.dumps(PAYLOAD).encode()
    assert send(url, body, timestamp=now, secret="not-the-secret-at-all").status_code == 401
    stamp = str(now)
    edited = httpx.post(url + PATH, content=body.replace(b"1800", b"18"), headers={
        "Content-Type": "application/json", "Webhook-Timestamp": stamp,
        "Webhook-Signature": signature_of(SECRET, stamp, body)})
    assert edited.status_code == 401
    assert send(url, body, timestamp=now - 3600).status_code == 401
    unknown = send(url, body, timestamp=now, path="/v1/webhooks/crm/workflows/purchase-approval/cases")
    assert unknown.status_code == 401
    assert httpx.post(url + PATH, content=body, headers={"Content-Type": "application/json"}).status_code == 401
    assert engine.cases() == []


def test_a_signed_payload_that_breaks_the_contract_is_a_422_naming_the_field(hooked):
    url, engine, clock = hooked
    answer = send(url, json.dumps({"item": "chair"}).encode(), timestamp=int(clock.now.timestamp()))
    assert answer.status_code == 422
    assert "/body/amount" in {problem["pointer"] for problem in answer.json()["errors"]}
    assert send(url, b"[1, 2]", timestamp=int(clock.now.timestamp())).status_code == 422
    assert send(url, b'{"amount": NaN}', timestamp=int(clock.now.timestamp())).status_code == 422


def test_a_captured_delivery_is_used_once_not_under_another_key_nor_for_another_workflow(hooked):
    url, engine, clock = hooked
    body = json.dumps(PAYLOAD).encode()
    stamp = str(int(clock.now.timestamp()))
    headers = {"Content-Type": "application/json", "Webhook-Timestamp": stamp,
               "Webhook-Signature": signature_of(SECRET, stamp, body)}
    first = httpx.post(url + PATH, content=body, headers=headers)
    assert first.status_code == 201, first.text
    # Neither the Idempotency-Key nor the path is signed: someone who saw the delivery changes them.
    again = httpx.post(url + PATH, content=body, headers={**headers, "Idempotency-Key": "fresh-1"})
    elsewhere = httpx.post(url + "/v1/webhooks/erp/workflows/other-workflow/cases", content=body, headers=headers)
    assert (again.status_code, elsewhere.status_code) == (409, 409), (again.text, elsewhere.text)
    assert again.json()["errors"][0]["pointer"] == "/header/Webhook-Signature"
    assert httpx.post(url + PATH, content=body, headers=headers).json()["id"] == first.json()["id"]
    assert len(engine.cases()) == 1


def test_deliveries_that_can_no_longer_be_replayed_are_forgotten(hooked):
    import sqlalchemy as sa

    from backoffice.store.tables import webhook_deliveries

    url, engine, clock = hooked
    assert send(url, json.dumps(PAYLOAD).encode(), timestamp=int(clock.now.timestamp())).status_code == 201
    # Two of the widest replay windows (an hour each) later, the first delivery could not pass the
    # timestamp check again: the next delivery's claim forgets it.
    clock.advance(seconds=2 * 3600 + 120)
    later = json.dumps({**PAYLOAD, "item": "a second chair"}).encode()
    assert send(url, later, timestamp=int(clock.now.timestamp())).status_code == 201
    with engine.store.engine.connect() as connection:
        kept = connection.execute(sa.select(sa.func.count()).select_from(webhook_deliveries)).scalar_one()
    assert kept == 1
    assert len(engine.cases()) == 2
