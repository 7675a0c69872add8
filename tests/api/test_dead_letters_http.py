"""Dead letters through `backoffice serve` on SQLite and PostgreSQL: an automated step the other system refused
is listed to operators, and replayed by one onto the worker, who then completes it."""

from __future__ import annotations

import pytest

from backoffice.engine.actions import ActionFailed

from . import budget_check
from .live_server import PAYLOAD, move


def refused(call):
    raise ActionFailed("the budget system refused the request", retryable=False, delivered=False)


@pytest.fixture
def dead_letter(api, tmp_path):
    """A budget-checked case whose automated step the budget system refused for good: (api, case)."""
    budget_check.deploy(api, tmp_path)
    case = api.client("alice").post(f"/v1/workflows/{budget_check.WORKFLOW}/cases", json=PAYLOAD).json()
    assert move(api, "alice", case, "check-budget").status_code == 200
    budget_check.worker(api, refused).run_once(api.clock.now)
    return api, case


def test_an_operator_lists_a_dead_letter_and_replays_it_onto_the_worker(dead_letter):
    api, case = dead_letter
    listed = api.client("ops").get("/v1/dead-letters")
    assert listed.status_code == 200, listed.text
    [letter] = listed.json()["items"]
    assert (letter["case_id"], letter["status"], letter["action"]) == (case["id"], "dead", budget_check.ACTION)
    assert "refused the request" in letter["last_error"]
    replayed = api.client("ops").post(f"/v1/dead-letters/{letter['id']}/replay")
    assert replayed.status_code == 200, replayed.text
    assert (replayed.json()["status"], replayed.json()["attempts"]) == ("pending", 0)
    assert replayed.json()["idempotency_key"] == letter["idempotency_key"]
    assert api.client("ops").get("/v1/dead-letters").json()["items"] == []
    # Replayed twice is refused: it is no dead letter any more.
    again = api.client("ops").post(f"/v1/dead-letters/{letter['id']}/replay")
    assert again.status_code == 409 and again.headers["content-type"] == "application/problem+json"
    budget_check.worker(api, lambda call: {"budget_line": "IT-9"}).run_once(api.clock.now)
    assert api.engine.case(case["id"]).state == "prepare"


def test_only_operators_replay_dead_letters_and_the_trail_names_who_did(dead_letter):
    api, _ = dead_letter
    letter = api.client("ops").get("/v1/dead-letters").json()["items"][0]
    for person in ("alice", "bea", "otto", "hana"):
        assert api.client(person).post(f"/v1/dead-letters/{letter['id']}/replay").status_code in (403, 404), person
    assert api.client("ops").get("/v1/dead-letters").json()["items"][0]["status"] == "dead"
    assert api.client("ops").post(f"/v1/dead-letters/{letter['id']}/replay").status_code == 200
    records = api.engine.store.audit_records(limit=10_000)
    assert any(record.actor == "ops" and "replay" in record.action for record in records)
