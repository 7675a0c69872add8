"""What the work pages' tests start from: purchase cases in each state, moved through the engine as people would."""

from __future__ import annotations

from pathlib import Path

from backoffice.engine import Actor, Engine

from ..api.live_server import ADMIN, PURCHASE, T0
from ..engine.service_request import TEMPLATE as SERVICE_REQUEST

PAYLOAD = {"item": "laptop", "amount": 1800}


def started(engine: Engine, requester: str = "alice", **payload: object):
    return engine.start_case("purchase-approval", {**PAYLOAD, **payload}, actor=Actor(requester), now=T0)


def prepared(engine: Engine, requester: str = "alice", **payload: object):
    """A purchase in `prepare`: its task waits in the purchasing queue."""
    case = started(engine, requester, **payload)
    return engine.transition(case.id, "prepare", actor=Actor("bea"), expected_version=case.version, now=T0)


def at_approval(engine: Engine, requester: str = "alice", *, quote: bool = True, **payload: object):
    """A purchase waiting for hana, ivan and jade's votes (prepared by bob, the quote attached unless told)."""
    case = prepared(engine, requester, **payload)
    case = engine.transition(case.id, "approve", actor=Actor("bob"), expected_version=case.version, now=T0,
                             data={"supplier": "Acme"})
    if quote:
        engine.attach_evidence(case.id, "quote", actor=Actor("bob"), now=T0, reference="dms://quotes/77")
    return case


def weaker_purchase(folder: Path) -> Path:
    """Version 2 of the purchase approval with one vote instead of two: a weakened control."""
    text = PURCHASE.read_text().replace("version: 1", "version: 2", 1).replace("quorum: 2", "quorum: 1")
    path = folder / "purchase-approval-v2.yaml"
    path.write_text(text)
    return path


def with_service_requests(engine: Engine) -> Engine:
    """Deploy the service-request template too, with dave working its service desk (for its exceptions)."""
    engine.deploy(SERVICE_REQUEST, actor=ADMIN, now=T0)
    engine.grant("service-desk", to="dave", actor=ADMIN, now=T0)
    return engine
