"""A workflow with an automated step, for the HTTP tests of steps in doubt: the purchase approval, budget-checked.

new -> check-budget (automated: action `check_budget`, checked by a buyer when in doubt) -> prepare -> ...
A worker that died during the call leaves the step in doubt (`step_in_doubt`).
"""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

from backoffice.engine.actions import ActionRegistry
from backoffice.engine.worker import Worker

from .live_server import ADMIN, PAYLOAD, PURCHASE, Api, move

WORKFLOW = "budget-check"
ACTION = "check_budget"
WORKER = "svc-worker"


def definition_text() -> str:
    text = PURCHASE.read_text()
    for old, new in (
            ("id: purchase-approval\n", f"id: {WORKFLOW}\n"),
            ("  new: {kind: intake}\n",
             "  new: {kind: intake}\n  check-budget: {kind: automated, title: Check the budget}\n"),
            ("  - {from: new, to: prepare, name: accept}\n",
             "  - {from: new, to: check-budget, name: accept}\n"
             "  - {from: check-budget, to: prepare, name: budget checked, guard: \"has(result.budget_line)\"}\n")):
        assert old in text, old
        text = text.replace(old, new)
    return text + (f"automated_steps:\n  - {{state: check-budget, action: {ACTION}, retry: {{attempts: 2, backoff: 1m}},"
                   f" in_doubt_role: buyer}}\n")


def deploy(api: Api, folder: Path) -> None:
    """Deploy the workflow and add the worker's service account (granted the worker role)."""
    path = folder / f"{WORKFLOW}.yaml"
    path.write_text(definition_text())
    api.engine.deploy(path, actor=ADMIN, now=api.clock.now)
    if api.engine.store.principal(WORKER) is None:
        api.engine.add_service_account(WORKER, description="the tests' worker", actor=ADMIN, now=api.clock.now)
        api.engine.grant("worker", to=WORKER, actor=ADMIN, now=api.clock.now)


def worker(api: Api, action=lambda call: {"budget_line": "never"}) -> Worker:
    registry = ActionRegistry()
    registry.register(ACTION, action)
    return Worker(api.engine, registry, account=WORKER, name="w1", rng=random.Random(3))


def step_in_doubt(api: Api, person: str = "alice") -> tuple[dict, int]:
    """Start a case as `person`, enter its automated step, and let a worker die mid-call; return (case, entry id)."""
    case = _start(api, person)
    answer = move(api, person, case, "check-budget")
    assert answer.status_code == 200, answer.text
    with api.engine.store.transaction() as tx:
        [entry] = tx.claim_outbox(worker="died", now=api.clock.now, until=api.clock.now + timedelta(minutes=5),
                                  limit=1)
    api.clock.advance(minutes=10)
    assert worker(api).run_once(api.clock.now).in_doubt == 1
    return answer.json(), entry.id


def _start(api: Api, person: str) -> dict:
    answer = api.client(person).post(f"/v1/workflows/{WORKFLOW}/cases", json=PAYLOAD)
    assert answer.status_code == 201, answer.text
    return answer.json()
