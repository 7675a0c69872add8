"""Intake past the rate limit, through a live server: 429 with Retry-After, and admitted again a minute later."""

from __future__ import annotations

import httpx

from backoffice.api import ApiSettings, create_app
from backoffice.engine import Engine
from backoffice.store import SqlStore

from .live_server import ADMIN, PAYLOAD, PURCHASE, T0, Clock, LiveServer, populate_directory


def test_a_caller_past_the_intake_limit_gets_429_and_others_do_not(database: str, tmp_path):
    clock = Clock()
    store = SqlStore.open(database)
    engine = Engine(store)
    populate_directory(engine, T0)
    engine.deploy(PURCHASE, actor=ADMIN, now=T0)
    settings = ApiSettings(database=database, access_log=False, evidence_dir=str(tmp_path / "evidence"),
                           intake_per_minute=2)
    tokens = {person: engine.create_token(person, actor=ADMIN, now=T0).secret for person in ("alice", "dave")}
    with LiveServer(create_app(settings, clock=clock, engine=engine)) as server:
        def start(person: str) -> httpx.Response:
            return httpx.post(f"{server.url}/v1/workflows/purchase-approval/cases", json=PAYLOAD,
                              headers={"Authorization": f"Bearer {tokens[person]}"})
        assert [start("alice").status_code for _ in range(3)] == [201, 201, 429]
        refused = start("alice")
        assert refused.headers["Retry-After"] == "61"
        assert refused.headers["content-type"] == "application/problem+json"
        assert start("dave").status_code == 201
        clock.advance(seconds=61)
        assert start("alice").status_code == 201
    assert len(engine.cases()) == 4
    store.close()
