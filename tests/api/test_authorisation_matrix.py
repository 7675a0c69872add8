"""The authorisation matrix: every endpoint, for every role, on one's own case and on someone else's.

The case is alice's purchase, prepared by bea, waiting for the votes of hana, ivan and jade.
dave is another requester; otto an auditor; ops an operator; root the administrator; None
calls without a token. Each cell is the status the server must answer; a cell that moves the
case gets a fresh case, so no cell depends on another.
"""

from __future__ import annotations

import pytest

from .live_server import move, start, to_approval

PEOPLE = ["alice", "dave", "bea", "hana", "otto", "ops", "root", None]

# endpoint -> person -> status, on alice's case waiting for approval.
CASE_MATRIX = {
    "show": {"alice": 200, "dave": 404, "bea": 200, "hana": 200, "otto": 200, "ops": 404, "root": 200, None: 401},
    # Moving the case out of its approval by a transition: never (the approver too must vote).
    "skip approval": {"alice": 409, "dave": 404, "bea": 409, "otto": 409, "ops": 404, "root": 409, None: 401},
    "vote": {"alice": 403, "dave": 404, "bea": 403, "hana": 200, "otto": 403, "ops": 404, "root": 403, None: 401},
    "raise exception": {"alice": 422, "dave": 404, "bea": 422, "hana": 422, "otto": 422, "ops": 404, "root": 422,
                        None: 401},
    "resolve exception": {"alice": 409, "dave": 404, "bea": 409, "hana": 409, "otto": 409, "ops": 404,
                          "root": 409, None: 401},
}

# Not about one case: endpoint -> person -> status.
GLOBAL_MATRIX = {
    "list purchasing queue": {"alice": 403, "dave": 403, "bea": 200, "hana": 403, "otto": 200, "ops": 403,
                              "root": 200, None: 401},
    "list dead letters": {"alice": 403, "dave": 403, "bea": 403, "hana": 403, "otto": 200, "ops": 200,
                          "root": 200, None: 401},
    "replay a dead letter": {"alice": 403, "dave": 403, "bea": 403, "hana": 403, "otto": 403, "ops": 404,
                             "root": 403, None: 401},
    "verify the audit trail": {"alice": 403, "dave": 403, "bea": 403, "hana": 403, "otto": 200, "ops": 403,
                               "root": 200, None: 401},
    "deploy": {"alice": 403, "dave": 403, "bea": 403, "hana": 403, "otto": 403, "ops": 403, "root": 200,
               None: 401},
    "who am I": {"alice": 200, "dave": 200, "bea": 200, "hana": 200, "otto": 200, "ops": 200, "root": 200,
                 None: 401},
}


def _client(api, person):
    return api.client(person) if person is not None else api.client()


def call_on_case(api, endpoint: str, person: str | None, case: dict):
    client = _client(api, person)
    path = f"/v1/cases/{case['id']}"
    if endpoint == "show":
        return client.get(path)
    if endpoint == "skip approval":
        return client.post(f"{path}/transitions", json={"to": "ordered"}, headers={"If-Match": f'"{case["version"]}"'})
    if endpoint == "vote":
        return client.post(f"{path}/votes", json={"decision": "approve"})
    if endpoint == "raise exception":
        return client.post(f"{path}/exceptions", json={"reason": "no-such-reason"})
    if endpoint == "resolve exception":
        return client.post(f"{path}/exceptions/resolve", json={})
    raise AssertionError(endpoint)


def call_global(api, endpoint: str, person: str | None):
    client = _client(api, person)
    if endpoint == "list purchasing queue":
        return client.get("/v1/tasks", params={"queue": "purchasing"})
    if endpoint == "list dead letters":
        return client.get("/v1/dead-letters")
    if endpoint == "replay a dead letter":
        return client.post("/v1/dead-letters/12345/replay")
    if endpoint == "verify the audit trail":
        return client.get("/v1/audit/verify")
    if endpoint == "deploy":
        # The deployed content again: allowed to a deployer (200, nothing new), refused to others.
        return client.post("/v1/workflows", json={"definition": api.engine.store.version("purchase-approval").source})
    if endpoint == "who am I":
        return client.get("/v1/me")
    raise AssertionError(endpoint)


@pytest.mark.parametrize("endpoint", list(CASE_MATRIX))
def test_each_role_gets_its_status_on_alices_case(api, endpoint):
    case = to_approval(api, "alice")
    answers = {}
    for person, expected in CASE_MATRIX[endpoint].items():
        answer = call_on_case(api, endpoint, person, case)
        answers[person] = answer.status_code
        if answer.status_code < 300 and endpoint != "show":
            case = to_approval(api, "alice")   # the cell changed the case: the next one gets a fresh one
    assert answers == CASE_MATRIX[endpoint]
    for person, status in answers.items():
        assert status < 500


def test_each_role_sees_only_its_cases_in_lists(api):
    case = to_approval(api, "alice")
    expected = {"alice": [case["id"]], "dave": [], "bea": [case["id"]], "hana": [case["id"]], "otto": [case["id"]],
                "ops": [], "root": [case["id"]]}
    seen = {person: [c["id"] for c in api.client(person).get("/v1/cases").json()["items"]] for person in expected}
    assert seen == expected


def test_a_case_of_ones_own_and_of_someone_else_differ_for_a_requester(api):
    mine = to_approval(api, "dave")
    theirs = to_approval(api, "alice")
    assert api.client("dave").get(f"/v1/cases/{mine['id']}").status_code == 200
    assert api.client("dave").get(f"/v1/cases/{theirs['id']}").status_code == 404
    assert move(api, "dave", theirs, "rejected").status_code == 404


@pytest.mark.parametrize("endpoint", list(GLOBAL_MATRIX))
def test_each_role_gets_its_status_on_shared_endpoints(api, endpoint):
    answers = {person: call_global(api, endpoint, person).status_code for person in GLOBAL_MATRIX[endpoint]}
    assert answers == GLOBAL_MATRIX[endpoint]



def test_a_member_of_a_queue_sees_its_tasks_and_cases_without_holding_its_role(api):
    case = move(api, "alice", start(api, "alice"), "prepare").json()        # a buyer's task in purchasing
    assert api.client("dave").get("/v1/tasks", params={"queue": "purchasing"}).status_code == 403
    assert api.client("dave").get(f"/v1/cases/{case['id']}").status_code == 404
    api.engine.add_to_queue("purchasing", "dave", actor="root", now=api.clock.now)
    member = api.client(token=api.token("dave"))
    assert member.get("/v1/me").json()["queues"] == ["purchasing"]
    listed = member.get("/v1/tasks", params={"queue": "purchasing"}).json()["items"]
    assert [task["case_id"] for task in listed] == [case["id"]]
    assert member.get(f"/v1/cases/{case['id']}").status_code == 200
    # Seeing is not doing: the buyer's step still needs the buyer role, which the engine checks.
    assert move(api, "dave", case, "approve", {"supplier": "Acme"}).status_code in (403, 409)
