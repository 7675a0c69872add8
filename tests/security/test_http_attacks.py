"""Attacks on the controls through HTTP, against a live server on SQLite and PostgreSQL; each is refused.

- acting as someone else: a body field, a query parameter or a header naming another person
  changes nothing; the token's holder acts; who only reads every case (an auditor, a team lead)
  moves none and attaches nothing;
- skipping an approval: by a transition, by completing an approval task, by the requester;
- forged, tampered, expired and revoked tokens, and the token of someone deactivated since;
- settling a step in doubt without its role, approving one's own weakening change, taking an
  evidence pack without being an auditor, a map report that could reach the API.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

import pytest

from ..api import budget_check
from ..api.governed import APPROVER, add_change_approver, deploy_weaker, version_text
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


def test_a_reader_of_every_case_moves_none_and_attaches_nothing_to_one(api):
    # The auditor and the team lead see alice's new request; its first transition is open to
    # anyone (no role), and still neither may fire it or slip a document into it.
    case = start(api, "alice")
    for reader in ("otto", "tilda"):
        assert api.client(reader).get(f"/v1/cases/{case['id']}").status_code == 200
        moved = move(api, reader, case, "prepare")
        assert moved.status_code == 403 and "takes no part" in moved.json()["detail"], reader
        attached = api.client(reader).post(f"/v1/cases/{case['id']}/evidence", data={"name": "quote"},
                                           files={"file": ("q.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")})
        assert attached.status_code == 403, reader
    assert api.engine.case(case["id"]).version == 1
    assert all(event.resource == "alice" for event in api.engine.history(case["id"]))
    assert move(api, "alice", case, "prepare").status_code == 200


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
    # 404: scoped to budget-holder, the token does not even see the buyers' queue (test_token_scope.py).
    assert refused.status_code in (403, 404, 409), refused.text
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


# --- steps in doubt, governed change, evidence packs ---


def test_a_requester_cannot_settle_the_step_in_doubt_of_her_own_case(api, tmp_path):
    budget_check.deploy(api, tmp_path)
    case, entry_id = budget_check.step_in_doubt(api, "alice")
    for attempt in ({"happened": True, "result": {"budget_line": "FAKE"}},
                    {"happened": False, "then": "manual"}):
        answer = api.client("alice").post(f"/v1/steps/{entry_id}/confirmation", json=attempt,
                                          headers={**IMPERSONATING_HEADERS, "X-Actor": "bea", "X-Role": "buyer"},
                                          params={"as": "bea", "role": "buyer"})
        assert answer.status_code == 403, answer.text
    # Naming the checker in the body is refused, not obeyed.
    named = api.client("alice").post(f"/v1/steps/{entry_id}/confirmation",
                                     json={"happened": True, "result": {"budget_line": "X"}, "confirmed_by": "bea"})
    assert named.status_code == 422 and named.json()["errors"][0]["pointer"] == "/body/confirmed_by"
    assert api.engine.outbox_entry(entry_id).status.value == "in_doubt"
    assert api.engine.case(case["id"]).state == "check-budget"
    assert "budget_line" not in api.engine.case(case["id"]).data


def test_someone_elses_step_in_doubt_does_not_exist_for_a_requester(api, tmp_path):
    budget_check.deploy(api, tmp_path)
    _, entry_id = budget_check.step_in_doubt(api, "alice")
    answer = api.client("dave").post(f"/v1/steps/{entry_id}/confirmation", json={"happened": False})
    assert answer.status_code == 404
    assert api.client("dave").get("/v1/steps/in-doubt").json()["items"] == []
    assert api.engine.outbox_entry(entry_id).status.value == "in_doubt"


def test_the_deployer_cannot_approve_his_own_weakening_change(api):
    add_change_approver(api)
    change = deploy_weaker(api, ADMIN)
    path = "/v1/workflows/purchase-approval/changes/2/decision"
    body = {"decision": "approve", "content_hash": change["content_hash"]}
    own = api.client(ADMIN).post(path, json=body, headers={**IMPERSONATING_HEADERS, "X-Actor": APPROVER})
    assert own.status_code == 403 and "second person" in own.json()["detail"]
    named = api.client(ADMIN).post(path, json={**body, "approved_by": APPROVER})
    assert named.status_code == 422 and named.json()["errors"][0]["pointer"] == "/body/approved_by"
    assert api.engine.store.version("purchase-approval").version == 1
    assert [c.status for c in api.engine.changes()] == ["pending"]


def test_a_change_approver_cannot_approve_a_change_she_deployed_herself(api):
    add_change_approver(api)
    change = deploy_weaker(api, APPROVER)   # change approvers may deploy: never approve their own
    answer = api.client(APPROVER).post("/v1/workflows/purchase-approval/changes/2/decision",
                                       json={"decision": "approve", "content_hash": change["content_hash"]})
    assert answer.status_code == 403, answer.text
    assert api.engine.store.version("purchase-approval").version == 1


def test_other_content_cannot_slip_in_under_a_reviewed_change(api):
    add_change_approver(api)
    reviewed = deploy_weaker(api, ADMIN)
    other = version_text().replace("title: Purchase approval", "title: Purchase OK")
    swapped = api.client(ADMIN).post("/v1/workflows", json={"definition": other})
    assert swapped.status_code == 409 and reviewed["content_hash"][:12] in swapped.json()["detail"], swapped.text
    approved = api.client(APPROVER).post("/v1/workflows/purchase-approval/changes/2/decision",
                                         json={"decision": "approve", "content_hash": reviewed["content_hash"]})
    assert approved.status_code == 200
    assert api.engine.store.version("purchase-approval").content_hash == reviewed["content_hash"]


def test_a_requester_cannot_fetch_an_evidence_pack_of_her_case_or_anothers(api):
    mine = to_approval(api, "alice")
    theirs = to_approval(api, "dave")
    for case in (mine, theirs):
        answer = api.client("alice").get(f"/v1/cases/{case['id']}/evidence-pack", headers=IMPERSONATING_HEADERS,
                                         params={"as": "otto"})
        assert answer.status_code == 403
        assert answer.headers["content-type"] == "application/problem+json"
        assert "records" not in answer.text


def test_the_map_report_cannot_reach_the_api_from_the_browser(api):
    start(api, "alice")
    answer = api.client("otto").get("/v1/workflows/purchase-approval/map/report")
    policy = {part.split()[0]: part.split()[1:] for part in answer.headers["content-security-policy"].split("; ")}
    assert policy["sandbox"] == ["allow-scripts"]           # an opaque origin: no cookies, no storage of ours
    assert policy["connect-src"] == ["'none'"] and policy["form-action"] == ["'none'"]
    assert policy["default-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    # A workflow name that is a path or holds NUL reads no file: an unknown workflow, or refused input.
    assert api.client("otto").get("/v1/workflows/..%2F..%2Fetc%2Fpasswd/map/report").status_code == 404
    assert api.client("otto").get("/v1/workflows/purchase-approval%00/map/report").status_code == 422
