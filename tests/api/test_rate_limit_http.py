"""Intake past the rate limit, through `backoffice serve` on SQLite and PostgreSQL: 429 with Retry-After, and
admitted again a minute later."""

from __future__ import annotations

from .live_server import PAYLOAD, served


def test_a_caller_past_the_intake_limit_gets_429_and_others_do_not(database: str, tmp_path):
    with served(database, tmp_path, settings={"INTAKE_PER_MINUTE": "2"}) as api:
        def start(person: str):
            return api.client(person).post("/v1/workflows/purchase-approval/cases", json=PAYLOAD)
        assert [start("alice").status_code for _ in range(3)] == [201, 201, 429]
        refused = start("alice")
        assert refused.headers["Retry-After"] == "61"
        assert refused.headers["content-type"] == "application/problem+json"
        assert start("dave").status_code == 201
        api.clock.advance(seconds=61)
        assert start("alice").status_code == 201
        assert len(api.engine.cases()) == 4
