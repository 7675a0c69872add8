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
    # Those who only read it (an auditor, a team lead) move nothing: 403 before the engine is asked.
    "skip approval": {"alice": 409, "dave": 404, "bea": 409, "otto": 403, "tilda": 403, "ops": 404, "root": 409,
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


# --- the rest of the API: tasks, one's own case, evidence, the directory, workflows, probes ---

# On the buyer's task of alice's case waiting in prepare (queue purchasing): endpoint -> person -> status.
# A task is its workers' (their role or queue) and the readers of every case's; its case's requester
# follows it on the case, not in the task lists (404 here).
TASK_MATRIX = {
    "show a task": {"alice": 404, "dave": 404, "bea": 200, "hana": 404, "otto": 200, "tilda": 200, "ops": 404,
                    "root": 200, None: 401},
    "claim": {"alice": 404, "dave": 404, "bea": 200, "hana": 404, "otto": 403, "tilda": 403, "ops": 404, "root": 403,
              None: 401},
    # bea holds it: she lets it go; for anyone else who sees it, it is held by bea (409); a lead reassigns it.
    "release bea's claim": {"alice": 404, "dave": 404, "bea": 200, "hana": 404, "otto": 409, "tilda": 409,
                            "ops": 404, "root": 409, None: 401},
    "reassign": {"alice": 404, "dave": 404, "bea": 403, "hana": 404, "otto": 403, "tilda": 200, "ops": 404,
                 "root": 200, None: 401},
    # Completing bea's claimed task: hers alone.
    "complete bea's task": {"alice": 404, "dave": 404, "bea": 200, "hana": 404, "otto": 409, "tilda": 409,
                            "ops": 404, "root": 409, None: 401},
    # Claiming the next task of a queue one may not read: refused; those who read it but may not work
    # it find nothing to claim (204); the buyer gets it.
    "claim next": {"alice": 403, "dave": 403, "bea": 200, "hana": 403, "otto": 204, "tilda": 204, "ops": 403,
                   "root": 204, None: 401},
    # A bulk claim answers 200 with a result per task; what each person may do is in the results.
    "bulk claim": {"alice": 200, "dave": 200, "bea": 200, "hana": 200, "otto": 200, "tilda": 200, "ops": 200,
                   "root": 200, None: 401},
}
TASK_READS_ONLY = ("show a task",)
# Who the bulk claim actually gave the task to (the rest get a refusal in their result).
BULK_CLAIMED = {"bea"}

# On alice's case just started (new), with alice's quote attached: endpoint -> person -> status.
OWN_CASE_MATRIX = {
    # Anyone of the directory requests a purchase for themselves (the requester is the token's holder).
    "start a case": {"alice": 201, "dave": 201, "bea": 201, "hana": 201, "otto": 201, "tilda": 201, "ops": 201,
                     "root": 201, None: 401},
    "list cases": {"alice": 200, "dave": 200, "bea": 200, "hana": 200, "otto": 200, "tilda": 200, "ops": 200,
                   "root": 200, None: 401},
    # An open transition (no role): its requester and an administrator fire it; who only reads it does not.
    "submit one's request": {"alice": 200, "dave": 404, "bea": 404, "hana": 404, "otto": 403, "tilda": 403,
                             "ops": 404, "root": 200, None: 401},
    "upload evidence": {"alice": 201, "dave": 404, "bea": 404, "hana": 404, "otto": 403, "tilda": 403, "ops": 404,
                        "root": 201, None: 401},
    "download evidence": {"alice": 200, "dave": 404, "bea": 200, "hana": 404, "otto": 200, "tilda": 200,
                          "ops": 404, "root": 200, None: 401},
}
OWN_CASE_READS_ONLY = ("list cases", "download evidence")

# The directory: administrators change it, auditors read it, each person reads and revokes their own tokens.
DIRECTORY_MATRIX = {
    "list people": {"alice": 403, "dave": 403, "bea": 403, "hana": 403, "otto": 200, "tilda": 403, "ops": 403,
                    "root": 200, None: 401},
    "add a person": {"alice": 403, "dave": 403, "bea": 403, "hana": 403, "otto": 403, "tilda": 403, "ops": 403,
                     "root": 201, None: 401},
    "grant a role": {"alice": 403, "dave": 403, "bea": 403, "hana": 403, "otto": 403, "tilda": 403, "ops": 403,
                     "root": 204, None: 401},
    "revoke a role": {"alice": 403, "dave": 403, "bea": 403, "hana": 403, "otto": 403, "tilda": 403, "ops": 403,
                      "root": 204, None: 401},
    "deactivate a person": {"alice": 403, "dave": 403, "bea": 403, "hana": 403, "otto": 403, "tilda": 403,
                            "ops": 403, "root": 204, None: 401},
    "list tokens": {"alice": 200, "dave": 200, "bea": 200, "hana": 200, "otto": 200, "tilda": 200, "ops": 200,
                    "root": 200, None: 401},
    "make a token for jade": {"alice": 403, "dave": 403, "bea": 403, "hana": 403, "otto": 403, "tilda": 403,
                              "ops": 403, "root": 201, None: 401},
    "revoke jade's token": {"alice": 403, "dave": 403, "bea": 403, "hana": 403, "otto": 403, "tilda": 403,
                            "ops": 403, "root": 204, None: 401},
    "delegate jade's approvals": {"alice": 403, "dave": 403, "bea": 403, "hana": 403, "otto": 403, "tilda": 403,
                                  "ops": 403, "root": 201, None: 401},
}
DIRECTORY_READS_ONLY = ("list people", "list tokens")

# Workflows and the server's probes.
WORKFLOW_MATRIX = {
    "list workflows": {"alice": 200, "dave": 200, "bea": 200, "hana": 200, "otto": 200, "tilda": 200, "ops": 200,
                       "root": 200, None: 401},
    "list versions": {"alice": 200, "dave": 200, "bea": 200, "hana": 200, "otto": 200, "tilda": 200, "ops": 200,
                      "root": 200, None: 401},
    "switch manual mode": {"alice": 403, "dave": 403, "bea": 403, "hana": 403, "otto": 403, "tilda": 403,
                           "ops": 200, "root": 403, None: 401},
    "migrate cases": {"alice": 403, "dave": 403, "bea": 403, "hana": 403, "otto": 403, "tilda": 403, "ops": 200,
                      "root": 403, None: 401},
    # A webhook proves itself by its signature; a token, whoever's, is no signature.
    "webhook without a signature": {"alice": 401, "root": 401, None: 401},
    "health": {"alice": 200, "root": 200, None: 200},
    "ready": {"alice": 200, "root": 200, None: 200},
    "openapi": {"alice": 200, "root": 200, None: 200},
    # An administrator's, refused by the core to anyone else (an operator, an auditor too).
    "change the calendar": {"alice": 403, "dave": 403, "bea": 403, "hana": 403, "otto": 403, "tilda": 403,
                            "ops": 403, "root": 200, None: 401},
}

# Every operation of the API, and the matrix cell that judges it (the completeness test below).
OPERATIONS = {
    ("GET", "/v1/cases/{case_id}"): "show", ("POST", "/v1/cases/{case_id}/transitions"): "skip approval",
    ("POST", "/v1/cases/{case_id}/votes"): "vote", ("POST", "/v1/cases/{case_id}/exceptions"): "raise exception",
    ("POST", "/v1/cases/{case_id}/exceptions/resolve"): "resolve exception",
    ("GET", "/v1/cases/{case_id}/evidence-pack"): "export evidence pack",
    ("GET", "/v1/cases/{case_id}/comments"): "read comments", ("POST", "/v1/cases/{case_id}/comments"): "add a comment",
    ("GET", "/v1/tasks"): "list purchasing queue", ("GET", "/v1/dead-letters"): "list dead letters",
    ("POST", "/v1/dead-letters/{entry_id}/replay"): "replay a dead letter",
    ("GET", "/v1/audit/verify"): "verify the audit trail", ("POST", "/v1/workflows"): "deploy",
    ("GET", "/v1/me"): "who am I", ("GET", "/v1/steps/in-doubt"): "list steps in doubt",
    ("GET", "/v1/changes"): "list changes", ("POST", "/v1/workflows/control-diff"): "control diff",
    ("GET", "/v1/workflows/{workflow}/map"): "map live work", ("GET", "/v1/workflows/{workflow}/map/report"): "map report",
    ("GET", "/v1/workflows/{workflow}/conformance"): "conformance", ("GET", "/metrics"): "metrics",
    ("POST", "/v1/steps/{entry_id}/confirmation"): "confirm a step",
    ("POST", "/v1/workflows/{workflow}/changes/{version}/decision"): "decide a change",
    ("GET", "/v1/tasks/{task_id}"): "show a task", ("POST", "/v1/tasks/{task_id}/claim"): "claim",
    ("POST", "/v1/tasks/{task_id}/release"): "release bea's claim", ("POST", "/v1/tasks/{task_id}/reassign"): "reassign",
    ("POST", "/v1/tasks/{task_id}/complete"): "complete bea's task", ("POST", "/v1/tasks/next"): "claim next",
    ("POST", "/v1/tasks/bulk"): "bulk claim", ("POST", "/v1/workflows/{workflow}/cases"): "start a case",
    ("GET", "/v1/cases"): "list cases", ("POST", "/v1/cases/{case_id}/evidence"): "upload evidence",
    ("GET", "/v1/cases/{case_id}/evidence/{name}"): "download evidence", ("GET", "/v1/people"): "list people",
    ("POST", "/v1/people"): "add a person", ("POST", "/v1/people/{person_id}/roles"): "grant a role",
    ("POST", "/v1/people/{person_id}/roles/revoke"): "revoke a role",
    ("POST", "/v1/people/{person_id}/deactivate"): "deactivate a person", ("GET", "/v1/tokens"): "list tokens",
    ("POST", "/v1/tokens"): "make a token for jade", ("POST", "/v1/tokens/{token_id}/revoke"): "revoke jade's token",
    ("POST", "/v1/delegations"): "delegate jade's approvals", ("GET", "/v1/workflows"): "list workflows",
    ("GET", "/v1/workflows/{workflow}/versions"): "list versions",
    ("POST", "/v1/workflows/{workflow}/mode"): "switch manual mode",
    ("POST", "/v1/workflows/{workflow}/migrations"): "migrate cases",
    ("POST", "/v1/webhooks/{source}/workflows/{workflow}/cases"): "webhook without a signature",
    ("GET", "/health"): "health", ("GET", "/ready"): "ready",
    ("PUT", "/v1/workflows/{workflow}/calendar"): "change the calendar",
}
CELLS = {*CASE_MATRIX, *STEP_MATRIX, "decide a change", *GLOBAL_MATRIX, *TASK_MATRIX, *OWN_CASE_MATRIX,
         *DIRECTORY_MATRIX, *WORKFLOW_MATRIX}


def test_the_matrix_judges_every_operation_of_the_api(api):
    document = api.client().get("/openapi.json").json()
    operations = {(method.upper(), path) for path, methods in document["paths"].items() for method in methods}
    assert operations - set(OPERATIONS) == set(), "an endpoint nobody put in the authorisation matrix"
    assert set(OPERATIONS) - operations == set()
    assert set(OPERATIONS.values()) <= CELLS


def _task_of_a_prepared_case(api, claimed_by: str | None = None) -> int:
    case = move(api, "alice", start(api, "alice"), "prepare").json()
    [task] = [task for task in api.engine.tasks(case_id=case["id"]) if task.status.value == "open"]
    if claimed_by is not None:
        assert api.client(claimed_by).post(f"/v1/tasks/{task.id}/claim").status_code == 200
    return task.id


def call_on_task(api, endpoint: str, person: str | None, task_id: int):
    client = _client(api, person)
    if endpoint == "show a task":
        return client.get(f"/v1/tasks/{task_id}")
    if endpoint == "claim":
        return client.post(f"/v1/tasks/{task_id}/claim")
    if endpoint == "release bea's claim":
        return client.post(f"/v1/tasks/{task_id}/release")
    if endpoint == "reassign":
        return client.post(f"/v1/tasks/{task_id}/reassign", json={"person": "bob"})
    if endpoint == "complete bea's task":
        return client.post(f"/v1/tasks/{task_id}/complete", json={"to": "approve", "data": {"supplier": "Acme"}})
    if endpoint == "claim next":
        return client.post("/v1/tasks/next", json={"queues": ["purchasing"]})
    if endpoint == "bulk claim":
        return client.post("/v1/tasks/bulk", json={"action": "claim", "task_ids": [task_id]})
    raise AssertionError(endpoint)


@pytest.mark.parametrize("endpoint", list(TASK_MATRIX))
def test_each_role_gets_its_status_on_the_task_of_alices_case(api, endpoint):
    holder = "bea" if endpoint in ("release bea's claim", "complete bea's task") else None
    task_id = _task_of_a_prepared_case(api, holder)
    answers, claimed = {}, set()
    for person in TASK_MATRIX[endpoint]:
        answer = call_on_task(api, endpoint, person, task_id)
        answers[person] = answer.status_code
        if endpoint == "bulk claim" and answer.status_code == 200:
            if answer.json()["results"][0]["status"] == 200:
                claimed.add(person)
                task_id = _task_of_a_prepared_case(api, holder)
        elif answer.status_code < 300 and endpoint not in TASK_READS_ONLY:
            task_id = _task_of_a_prepared_case(api, holder)   # the cell changed the task: a fresh one next
    assert answers == TASK_MATRIX[endpoint]
    if endpoint == "bulk claim":
        assert claimed == BULK_CLAIMED


def _new_case_with_a_quote(api) -> dict:
    case = start(api, "alice")
    api.engine.attach_evidence(case["id"], "quote", actor="alice", now=api.clock.now)
    return case


def call_on_own_case(api, endpoint: str, person: str | None, case: dict):
    client = _client(api, person)
    if endpoint == "start a case":
        return client.post("/v1/workflows/purchase-approval/cases", json={"item": "chair", "amount": 90})
    if endpoint == "list cases":
        return client.get("/v1/cases")
    if endpoint == "submit one's request":
        return client.post(f"/v1/cases/{case['id']}/transitions", json={"to": "prepare"},
                           headers={"If-Match": f'"{case["version"]}"'})
    if endpoint == "upload evidence":
        return client.post(f"/v1/cases/{case['id']}/evidence", data={"name": "receipt"},
                           files={"file": ("receipt.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")})
    if endpoint == "download evidence":
        return client.get(f"/v1/cases/{case['id']}/evidence/quote")
    raise AssertionError(endpoint)


@pytest.mark.parametrize("endpoint", list(OWN_CASE_MATRIX))
def test_each_role_gets_its_status_on_alices_own_new_case(api, endpoint):
    case = _new_case_with_a_quote(api)
    if endpoint == "download evidence":
        # The quote, uploaded by alice over HTTP, on her case in prepare (the buyers' queue).
        uploaded = api.client("alice").post(f"/v1/cases/{case['id']}/evidence", data={"name": "quote"},
                                            files={"file": ("q.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")})
        assert uploaded.status_code == 201, uploaded.text
        case = move(api, "alice", api.client("alice").get(f"/v1/cases/{case['id']}").json(), "prepare").json()
    answers = {}
    for person in OWN_CASE_MATRIX[endpoint]:
        answer = call_on_own_case(api, endpoint, person, case)
        answers[person] = answer.status_code
        if answer.status_code < 300 and endpoint not in OWN_CASE_READS_ONLY:
            case = _new_case_with_a_quote(api)
    assert answers == OWN_CASE_MATRIX[endpoint]


def call_on_directory(api, endpoint: str, person: str | None, serial: int):
    client = _client(api, person)
    now = api.clock.now
    if endpoint == "list people":
        return client.get("/v1/people")
    if endpoint == "add a person":
        return client.post("/v1/people", json={"id": f"newcomer-{serial}", "name": "Newcomer"})
    if endpoint == "grant a role":
        return client.post("/v1/people/dave/roles", json={"role": "buyer"})
    if endpoint == "revoke a role":
        return client.post("/v1/people/bob/roles/revoke", json={"role": "buyer"})
    if endpoint == "deactivate a person":
        return client.post("/v1/people/jade/deactivate")
    if endpoint == "list tokens":
        return client.get("/v1/tokens")
    if endpoint == "make a token for jade":
        return client.post("/v1/tokens", json={"principal": "jade"})
    if endpoint == "revoke jade's token":
        token = api.engine.create_token("jade", actor="root", now=now)
        return client.post(f"/v1/tokens/{token.token.id}/revoke")
    if endpoint == "delegate jade's approvals":
        return client.post("/v1/delegations", json={"delegator": "jade", "delegate": "ivan",
                                                    "starts": now.isoformat(), "ends": (now.replace(year=now.year + 1)).isoformat()})
    raise AssertionError(endpoint)


def _undo_directory_change(api, endpoint: str) -> None:
    """Put back what a cell changed, through the core, so the next person meets the same directory."""
    now = api.clock.now
    if endpoint == "grant a role":
        api.engine.grant("buyer", to="dave", actor="root", now=now, revoke=True)
    elif endpoint == "revoke a role":
        api.engine.grant("buyer", to="bob", actor="root", now=now)
    elif endpoint == "deactivate a person":
        api.engine.set_active("jade", True, actor="root", now=now)


@pytest.mark.parametrize("endpoint", list(DIRECTORY_MATRIX))
def test_each_role_gets_its_status_on_the_directory(api, endpoint):
    answers = {}
    for serial, person in enumerate(DIRECTORY_MATRIX[endpoint]):
        answer = call_on_directory(api, endpoint, person, serial)
        answers[person] = answer.status_code
        if answer.status_code < 300 and endpoint not in DIRECTORY_READS_ONLY:
            _undo_directory_change(api, endpoint)
    assert answers == DIRECTORY_MATRIX[endpoint]


def call_on_workflows(api, endpoint: str, person: str | None):
    client = _client(api, person)
    if endpoint == "list workflows":
        return client.get("/v1/workflows")
    if endpoint == "list versions":
        return client.get("/v1/workflows/purchase-approval/versions")
    if endpoint == "switch manual mode":
        return client.post("/v1/workflows/purchase-approval/mode", json={"manual": True})
    if endpoint == "migrate cases":
        return client.post("/v1/workflows/purchase-approval/migrations", json={"dry_run": True})
    if endpoint == "webhook without a signature":
        return client.post("/v1/webhooks/erp/workflows/purchase-approval/cases", json={"item": "pen", "amount": 2})
    if endpoint == "health":
        return client.get("/health")
    if endpoint == "ready":
        return client.get("/ready")
    if endpoint == "openapi":
        return client.get("/openapi.json")
    if endpoint == "change the calendar":
        return client.put("/v1/workflows/purchase-approval/calendar",
                          json={"timezone": "Europe/Amsterdam", "working_hours": "08:00-16:00"})
    raise AssertionError(endpoint)


def test_each_role_gets_its_status_on_workflows_webhooks_and_probes(api):
    answers = {endpoint: {person: call_on_workflows(api, endpoint, person).status_code for person in cells}
               for endpoint, cells in WORKFLOW_MATRIX.items()}
    assert answers == WORKFLOW_MATRIX
    assert api.engine.cases() == []   # the webhook started nothing
