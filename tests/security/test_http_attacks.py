"""Attacks on the controls through HTTP, against a live server on SQLite and PostgreSQL; each is refused.

- acting as someone else: a body field, a query parameter or a header naming another person
  changes nothing; the token's holder acts;
- skipping an approval: by a transition, by completing an approval task, by the requester;
- forged, tampered, expired and revoked tokens, and the token of someone deactivated since.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest

from ..api.live_server import ADMIN, PAYLOAD, move, start, to_approval

IMPERSONATING_HEADERS = {"X-Actor": "hana", "X-User": "hana", "X-Remote-User": "hana", "Remote-User": "hana",
                         "X-Forwarded-User": "hana", "X-Auth-Request-User": "hana", "X-On-Behalf-Of": "hana",
                         "X-Backoffice-Actor": "hana", "X-Role": "budget-holder"}


# --- acting as someone else ---


def test_headers_naming_another_person_leave_the_token_holder_acting(api):
    case = to_approval(api)
    answer = api.client("alice").post(f"/v1/cases/{case['id']}/votes", json={"decision": "approve"},
                                      headers=IMPERSONATING_HEADERS)
    assert answer.status_code == 403
    assert "separation of duties: alice" in answer.json()["detail"]
    assert api.engine.case(case["id"]).state == "approve"
    assert all(event.resource != "hana" for event in api.engine.history(case["id"]))
    me = api.client("alice").get("/v1/me", headers=IMPERSONATING_HEADERS).json()
    assert (me["id"], me["roles"]) == ("alice", [])


def test_a_body_field_naming_another_person_is_refused_not_obeyed(api):
    case = to_approval(api)
    for field in ("actor", "approver", "as", "on_behalf_of", "user"):
        answer = api.client("alice").post(f"/v1/cases/{case['id']}/votes",
                                          json={"decision": "approve", field: "hana"})
        assert answer.status_code == 422, field
        assert answer.json()["errors"][0]["pointer"] == f"/body/{field}"
    assert api.engine.case(case["id"]).state == "approve"


def test_query_parameters_naming_another_person_change_nothing(api):
    case = to_approval(api)
    answer = api.client("alice").post(f"/v1/cases/{case['id']}/votes", json={"decision": "approve"},
                                      params={"actor": "hana", "as": "hana", "role": "budget-holder"})
    assert answer.status_code == 403
    assert api.engine.case(case["id"]).state == "approve"


def test_the_requester_of_a_started_case_is_the_token_holder_whatever_the_payload_says(api):
    headers = {"X-Actor": "dave", "X-Remote-User": "dave"}
    answer = api.client("alice").post("/v1/workflows/purchase-approval/cases", json=PAYLOAD, headers=headers)
    assert answer.status_code == 201
    assert answer.json()["requester"] == "alice"
    assert api.engine.history(answer.json()["id"])[0].resource == "alice"


def test_a_person_cannot_read_or_move_someone_elses_case_by_its_id(api):
    case = start(api, "alice")
    dave = api.client("dave")
    assert dave.get(f"/v1/cases/{case['id']}").status_code == 404
    assert move(api, "dave", case, "prepare").status_code == 404
    assert api.engine.case(case["id"]).version == 1


# --- skipping an approval ---

def test_an_approver_cannot_skip_the_vote_by_a_transition(api):
    case = to_approval(api)
    answer = move(api, "hana", case, "ordered")
    assert answer.status_code == 409, answer.text
    assert api.engine.case(case["id"]).state == "approve"


def test_the_requester_cannot_skip_the_approval_by_a_transition(api):
    case = to_approval(api)
    answer = move(api, "alice", case, "ordered")
    assert answer.status_code == 409
    assert api.engine.case(case["id"]).state == "approve"


def test_completing_an_approval_task_does_not_move_the_case_past_the_approval(api):
    case = to_approval(api)
    hana = api.client("hana")
    task = next(t for t in hana.get("/v1/tasks", params={"assignee": "me"}).json()["items"]
                if t["case_id"] == case["id"])
    assert hana.post(f"/v1/tasks/{task['id']}/claim").status_code == 200
    answer = hana.post(f"/v1/tasks/{task['id']}/complete", json={"to": "ordered"})
    assert answer.status_code in (403, 409), answer.text
    assert api.engine.case(case["id"]).state == "approve"


def test_one_vote_short_of_the_quorum_leaves_the_case_waiting(api):
    case = to_approval(api)
    assert api.client("hana").post(f"/v1/cases/{case['id']}/votes", json={"decision": "approve"}).status_code == 200
    again = api.client("hana").post(f"/v1/cases/{case['id']}/votes", json={"decision": "approve"})
    assert again.status_code == 403
    assert api.engine.case(case["id"]).state == "approve"


# --- tokens ---


@pytest.mark.parametrize("header", [
    "Bearer bo_" + secrets.token_urlsafe(32),           # the right shape, never issued
    "Bearer " + "A" * 600,                              # longer than any token
    "Bearer bo_\u00e9t\u00e9",                          # not ASCII
    "Basic YWxpY2U6c2VjcmV0",                           # another scheme
    "Bearer",                                           # no token
    "alice",                                            # a name, not a credential
])
def test_a_forged_or_malformed_token_is_a_401_problem(api, header):
    import httpx
    answer = httpx.get(f"{api.url}/v1/me", headers={"Authorization": header.encode("utf-8")})
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["www-authenticate"].startswith("Bearer")


def test_a_token_changed_by_one_character_is_refused(api):
    token = api.token("alice")
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert api.client(token=token).get("/v1/me").json()["id"] == "alice"
    assert api.client(token=tampered).get("/v1/me").status_code == 401


def test_an_expired_token_is_refused_and_says_so(api):
    token = api.token("alice", valid_for=timedelta(minutes=5))
    assert api.client(token=token).get("/v1/me").status_code == 200
    api.clock.advance(minutes=6)
    answer = api.client(token=token).get("/v1/me")
    assert answer.status_code == 401
    assert "expired" in answer.json()["detail"]


def test_a_revoked_token_and_the_token_of_someone_deactivated_are_refused(api):
    revoked = api.token("alice")
    token_id = api.engine.store.tokens("alice")[-1].id
    api.engine.revoke_token(token_id, actor=ADMIN, now=api.clock.now)
    assert api.client(token=revoked).get("/v1/me").status_code == 401
    dave = api.token("dave")
    api.engine.set_active("dave", False, actor=ADMIN, now=api.clock.now)
    answer = api.client(token=dave).get("/v1/me")
    assert answer.status_code == 401
    assert "dave" in answer.json()["detail"]


def test_a_token_scoped_to_one_role_acts_in_that_role_only(api):
    api.engine.grant("budget-holder", to="bob", actor=ADMIN, now=api.clock.now)   # bob: buyer and budget-holder
    case = move(api, "alice", start(api, "alice"), "prepare").json()
    scoped = api.client(token=api.token("bob", roles=("budget-holder",)))
    refused = scoped.post(f"/v1/cases/{case['id']}/transitions", json={"to": "approve", "data": {"supplier": "A"}},
                          headers={"If-Match": f'"{case["version"]}"'})
    assert refused.status_code in (403, 409), refused.text
    assert api.engine.case(case["id"]).state == "prepare"
    assert move(api, "bob", case, "approve", {"supplier": "A"}).status_code == 200


def test_nobody_takes_over_an_approvers_vote_by_reassigning_the_task(api):
    case = to_approval(api)
    vote_task = next(t for t in api.client(ADMIN).get("/v1/tasks", params={"assignee": "hana"}).json()["items"]
                     if t["case_id"] == case["id"])
    # Alice may not see hana's task at all: it is answered as absent before the engine's reassign rule.
    assert api.client("alice").post(f"/v1/tasks/{vote_task['id']}/reassign",
                                    json={"person": "alice"}).status_code == 404
    assert api.client(ADMIN).post(f"/v1/tasks/{vote_task['id']}/reassign",
                                  json={"person": ADMIN}).status_code == 409
    bulk = api.client(ADMIN).post("/v1/tasks/bulk", json={"action": "reassign", "task_ids": [vote_task["id"]],
                                                          "reassign": {"person": ADMIN}})
    assert bulk.json()["results"][0]["status"] == 409
    assert api.engine.task(vote_task["id"]).assignee == "hana"
