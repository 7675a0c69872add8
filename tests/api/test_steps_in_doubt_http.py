"""Steps in doubt over HTTP, against a live server on SQLite and PostgreSQL: listed to those who check, settled by them.

The budget check's in-doubt role is `buyer` (bea, bob); ops is an operator, otto an auditor.
"""

from __future__ import annotations

import pytest

from backoffice.engine.outbox import OutboxStatus

from . import budget_check
from .budget_check import step_in_doubt, worker


@pytest.fixture
def automated(api, tmp_path):
    budget_check.deploy(api, tmp_path)
    return api


def listed(api, person: str) -> list[int]:
    answer = api.client(person).get("/v1/steps/in-doubt")
    assert answer.status_code == 200, answer.text
    return [item["id"] for item in answer.json()["items"]]


def test_a_step_in_doubt_is_listed_to_its_checkers_and_operators_only(automated):
    case, entry_id = step_in_doubt(automated)
    assert {person: listed(automated, person) for person in ("bea", "ops", "otto", "root", "alice", "hana")} == {
        "bea": [entry_id], "ops": [entry_id], "otto": [entry_id], "root": [entry_id], "alice": [], "hana": []}
    [item] = automated.client("bea").get("/v1/steps/in-doubt").json()["items"]
    assert (item["case_id"], item["state"], item["action"], item["in_doubt_role"]) == \
        (case["id"], "check-budget", "check_budget", "buyer")
    assert "lease of died ran out" in item["why"]
    assert item["task_id"] == automated.engine.tasks(case_id=case["id"])[0].id
    assert automated.client("bea").get("/v1/steps/in-doubt", params={"workflow": "purchase-approval"}
                                       ).json()["items"] == []


def test_a_checker_confirms_the_step_happened_with_the_result_read_there_and_the_case_moves_on(automated):
    case, entry_id = step_in_doubt(automated)
    answer = automated.client("bea").post(f"/v1/steps/{entry_id}/confirmation",
                                          json={"happened": True, "result": {"budget_line": "IT-2024-07"}})
    assert answer.status_code == 200, answer.text
    assert (answer.json()["state"], answer.json()["data"]["budget_line"]) == ("prepare", "IT-2024-07")
    assert answer.headers["ETag"] == f'"{answer.json()["version"]}"'
    entry = automated.engine.outbox_entry(entry_id)
    assert entry.status is OutboxStatus.DONE and "confirmed done by bea" in entry.last_error
    assert automated.engine.history(case["id"])[-1].attributes["confirmed_by"] == "bea"
    again = automated.client("bea").post(f"/v1/steps/{entry_id}/confirmation", json={"happened": False})
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["detail"] == (f"outbox entry {entry_id} is done, not in doubt; expected a step listed by "
                                      f"GET /v1/steps/in-doubt")


def test_a_step_confirmed_not_done_runs_again_on_the_worker(automated):
    case, entry_id = step_in_doubt(automated)
    answer = automated.client("bob").post(f"/v1/steps/{entry_id}/confirmation",
                                          json={"happened": False, "then": "retry"})
    assert answer.status_code == 200, answer.text
    assert automated.engine.outbox_entry(entry_id).status is OutboxStatus.PENDING
    worker(automated, lambda call: {"budget_line": "IT-9"}).run_once(automated.clock.now)
    assert automated.engine.case(case["id"]).state == "prepare"


def test_confirmations_the_engine_refuses_are_problems_naming_why(automated):
    case, entry_id = step_in_doubt(automated)
    bea = automated.client("bea")
    # A result that does not take the case out by the step's way out: nothing is written.
    no_way_out = bea.post(f"/v1/steps/{entry_id}/confirmation", json={"happened": True, "result": {}})
    assert no_way_out.status_code == 409 and "budget_line" in no_way_out.json()["detail"]
    with_result = bea.post(f"/v1/steps/{entry_id}/confirmation", json={"happened": False, "result": {"x": 1}})
    assert with_result.status_code == 422 and "did not happen" in with_result.json()["detail"]
    nul = bea.post(f"/v1/steps/{entry_id}/confirmation", json={"happened": True, "result": {"budget_line": "a\u0000"}})
    assert nul.status_code == 422, nul.text
    unknown_field = bea.post(f"/v1/steps/{entry_id}/confirmation", json={"happened": True, "by": "hana"})
    assert unknown_field.status_code == 422 and unknown_field.json()["errors"][0]["pointer"] == "/body/by"
    assert bea.post("/v1/steps/999999/confirmation", json={"happened": False}).status_code == 404
    assert automated.engine.outbox_entry(entry_id).status is OutboxStatus.IN_DOUBT
    assert automated.engine.case(case["id"]).state == "check-budget"


def test_a_requester_and_an_operator_without_the_role_cannot_confirm(automated):
    case, entry_id = step_in_doubt(automated)
    # alice sees her own case, so the engine answers: she does not hold the buyer role.
    refused = automated.client("alice").post(f"/v1/steps/{entry_id}/confirmation", json={"happened": False})
    assert refused.status_code == 403, refused.text
    # ops sees the step (an operator), but checking it is the buyer's: the engine refuses.
    assert automated.client("ops").post(f"/v1/steps/{entry_id}/confirmation",
                                        json={"happened": False}).status_code == 403
    # dave may see neither the step nor the case: it does not exist for him.
    assert automated.client("dave").post(f"/v1/steps/{entry_id}/confirmation",
                                         json={"happened": False}).status_code == 404
    assert automated.engine.outbox_entry(entry_id).status is OutboxStatus.IN_DOUBT
