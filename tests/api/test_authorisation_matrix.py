"""The authorisation matrix: every endpoint, for every role, on one's own case and on someone else's.

The case is alice's purchase, prepared by bea, waiting for the votes of hana, ivan and jade.
dave is another requester; otto an auditor; tilda a team lead (she reads every case, as her
dashboards count them, and takes part in none by that role: before, she saw none); ops an operator;
root the administrator; None calls without a token. Each cell is the status the server must answer; a cell that moves the
case gets a fresh case, so no cell depends on another. Steps in doubt are checked on alice's
budget-checked purchase (its in-doubt role: buyer), and the decision on a change on the weaker
version root deployed (cara holds the change-approver role).
"""

from __future__ import annotations

import pytest

from . import budget_check
from .governed import APPROVER, add_change_approver, deploy_weaker, version_text
from .live_server import move, start, to_approval

PEOPLE = ["alice", "dave", "bea", "hana", "otto", "tilda", "ops", "root", None]

# endpoint -> person -> status, on alice's case waiting for approval.
CASE_MATRIX = {
    "show": {"alice": 200, "dave": 404, "bea": 200, "hana": 200, "otto": 200, "tilda": 200, "ops": 404, "root": 200,
             None: 401},
    # Moving the case out of its approval by a transition: never (the approver too must vote).
    "skip approval": {"alice": 409, "dave": 404, "bea": 409, "otto": 409, "tilda": 409, "ops": 404, "root": 409,
                      None: 401},
    "vote": {"alice": 403, "dave": 404, "bea": 403, "hana": 200, "otto": 403, "tilda": 403, "ops": 404, "root": 403,
             None: 401},
    "raise exception": {"alice": 422, "dave": 404, "bea": 422, "hana": 422, "otto": 422, "tilda": 422, "ops": 404,
                        "root": 422, None: 401},
    "resolve exception": {"alice": 409, "dave": 404, "bea": 409, "hana": 409, "otto": 409, "tilda": 409, "ops": 404,
                          "root": 409, None: 401},
    # Evidence packs are for auditors and administrators, even of one's own case.
    "export evidence pack": {"alice": 403, "dave": 403, "bea": 403, "hana": 403, "otto": 200, "tilda": 403,
                             "ops": 403, "root": 200, None: 401},
    # Comments: whoever may see the case reads them.
    "read comments": {"alice": 200, "dave": 404, "bea": 200, "hana": 200, "otto": 200, "tilda": 200, "ops": 404,
                      "root": 200, None: 401},
    # Those who take part comment; an auditor or a team lead reads and does not.
    "add a comment": {"alice": 201, "dave": 404, "bea": 201, "hana": 201, "otto": 403, "tilda": 403, "ops": 404,
                      "root": 201, None: 401},
}
READS_ONLY = ("show", "export evidence pack", "read comments")

# On alice's case whose budget check is in doubt: endpoint -> person -> status.
STEP_MATRIX = {
    # Only the in-doubt role (buyer) confirms; those who see the step or the case but lack it get 403.
    "confirm a step": {"alice": 403, "dave": 404, "bea": 200, "hana": 404, "otto": 403, "ops": 403, "root": 403,
                       None: 401},
}
# Whether the step appears in /v1/steps/in-doubt for each person.
STEP_LISTED = {"alice": False, "dave": False, "bea": True, "hana": False, "otto": True, "ops": True, "root": True}

# On the weaker version of the purchase approval root deployed (it waits): person -> status.
CHANGE_DECISION = {"alice": 403, "dave": 403, "bea": 403, "hana": 403, "otto": 403, "ops": 403, "root": 403,
                   None: 401, APPROVER: 200}

# Not about one case: endpoint -> person -> status.
GLOBAL_MATRIX = {
    "list purchasing queue": {"alice": 403, "dave": 403, "bea": 200, "hana": 403, "otto": 200, "tilda": 200,
                              "ops": 403, "root": 200, None: 401},
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
    "list steps in doubt": {"alice": 200, "dave": 200, "bea": 200, "hana": 200, "otto": 200, "ops": 200,
                            "root": 200, None: 401},
    "list changes": {"alice": 403, "dave": 403, "bea": 403, "hana": 403, "otto": 200, "ops": 403, "root": 200,
                     None: 401},
    "control diff": {"alice": 403, "dave": 403, "bea": 403, "hana": 403, "otto": 200, "ops": 403, "root": 200,
                     None: 401},
    "map live work": {"alice": 403, "dave": 403, "bea": 403, "hana": 403, "otto": 200, "ops": 403, "root": 200,
                      None: 401},
    "map report": {"alice": 403, "dave": 403, "bea": 403, "hana": 403, "otto": 200, "ops": 403, "root": 200,
                   None: 401},
    "conformance": {"alice": 403, "dave": 403, "bea": 403, "hana": 403, "otto": 200, "ops": 403, "root": 200,
                    None: 401},
    # Prometheus scrapes without a token: figures only, no case data.
    "metrics": {"alice": 200, "dave": 200, "bea": 200, "hana": 200, "otto": 200, "ops": 200, "root": 200,
                None: 200},
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
    if endpoint == "export evidence pack":
        return client.get(f"{path}/evidence-pack")
    if endpoint == "read comments":
        return client.get(f"{path}/comments")
    if endpoint == "add a comment":
        return client.post(f"{path}/comments", json={"body": "a question about the quote"})
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
    if endpoint == "list steps in doubt":
        return client.get("/v1/steps/in-doubt")
    if endpoint == "list changes":
        return client.get("/v1/changes")
    if endpoint == "control diff":
        return client.post("/v1/workflows/control-diff", json={"definition": version_text()})
    if endpoint == "map live work":
        return client.get("/v1/workflows/purchase-approval/map")
    if endpoint == "map report":
        return client.get("/v1/workflows/purchase-approval/map/report")
    if endpoint == "conformance":
        return client.get("/v1/workflows/purchase-approval/conformance")
    if endpoint == "metrics":
        return client.get("/metrics")
    raise AssertionError(endpoint)


@pytest.mark.parametrize("endpoint", list(CASE_MATRIX))
def test_each_role_gets_its_status_on_alices_case(api, endpoint):
    case = to_approval(api, "alice")
    answers = {}
    for person, expected in CASE_MATRIX[endpoint].items():
        answer = call_on_case(api, endpoint, person, case)
        answers[person] = answer.status_code
        if answer.status_code < 300 and endpoint not in READS_ONLY:
            case = to_approval(api, "alice")   # the cell changed the case: the next one gets a fresh one
    assert answers == CASE_MATRIX[endpoint]
    for person, status in answers.items():
        assert status < 500


def test_each_role_sees_only_its_cases_in_lists(api):
    case = to_approval(api, "alice")
    expected = {"alice": [case["id"]], "dave": [], "bea": [case["id"]], "hana": [case["id"]], "otto": [case["id"]],
                "tilda": [case["id"]], "ops": [], "root": [case["id"]]}
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
    start(api, "alice")   # live work to map
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


def test_each_role_gets_its_status_on_a_step_in_doubt_of_alices_case(api, tmp_path):
    budget_check.deploy(api, tmp_path)
    _, entry_id = budget_check.step_in_doubt(api, "alice")
    listed = {person: entry_id in [item["id"] for item in api.client(person).get("/v1/steps/in-doubt").json()["items"]]
              for person in STEP_LISTED}
    assert listed == STEP_LISTED
    answers = {}
    for person, expected in STEP_MATRIX["confirm a step"].items():
        answer = _client(api, person).post(f"/v1/steps/{entry_id}/confirmation", json={"happened": False})
        answers[person] = answer.status_code
        if answer.status_code < 300:
            _, entry_id = budget_check.step_in_doubt(api, "alice")   # settled: the next cell gets a fresh one
    assert answers == STEP_MATRIX["confirm a step"]


def test_each_role_gets_its_status_on_deciding_a_change_root_deployed(api):
    add_change_approver(api)
    change = deploy_weaker(api, "root")
    answers = {person: _client(api, person).post("/v1/workflows/purchase-approval/changes/2/decision",
                                                 json={"decision": "approve", "content_hash": change["content_hash"]}
                                                 ).status_code
               for person in CHANGE_DECISION}   # cara, who approves it, last
    assert answers == CHANGE_DECISION
