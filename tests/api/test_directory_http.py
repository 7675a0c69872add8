"""The directory through a live server: people, grants, tokens shown once, revocation, delegation."""

from __future__ import annotations

from datetime import timedelta

from .live_server import ADMIN, to_approval


def test_an_administrator_adds_a_person_grants_a_role_and_makes_their_token(api):
    root = api.client(ADMIN)
    added = root.post("/v1/people", json={"id": " Kim ", "name": "Kim Lee", "email": "kim@example.com"})
    assert added.status_code == 201, added.text
    assert added.json()["id"] == "kim"
    assert root.post("/v1/people/kim/roles", json={"role": "buyer"}).status_code == 204
    made = root.post("/v1/tokens", json={"principal": "kim", "label": "laptop", "days": 7})
    assert made.status_code == 201, made.text
    secret = made.json()["secret"]
    me = api.client(token=secret).get("/v1/me").json()
    assert (me["id"], me["roles"]) == ("kim", ["buyer"])
    listed = api.client(token=secret).get("/v1/tokens").json()
    assert [t["principal"] for t in listed] == ["kim"] and "secret" not in listed[0]
    assert root.post(f"/v1/tokens/{made.json()['id']}/revoke").status_code == 204
    assert api.client(token=secret).get("/v1/me").status_code == 401


def test_a_person_who_is_no_administrator_changes_nothing_in_the_directory(api):
    alice = api.client("alice")
    assert alice.post("/v1/people", json={"id": "mallory", "name": "M"}).status_code == 403
    assert alice.post("/v1/people/alice/roles", json={"role": "budget-holder"}).status_code == 403
    assert alice.post("/v1/tokens", json={"principal": "hana"}).status_code == 403
    assert alice.get("/v1/people").status_code == 403
    assert "budget-holder" not in api.client("alice").get("/v1/me").json()["roles"]


def test_an_approver_delegates_to_an_eligible_colleague_and_never_to_someone_ineligible(api):
    case = to_approval(api)
    now = api.clock.now
    made = api.client("hana").post("/v1/delegations", json={
        "delegator": "hana", "delegate": "jade", "starts": now.isoformat(),
        "ends": (now + timedelta(days=5)).isoformat(), "workflow": "purchase-approval"})
    assert made.status_code == 201, made.text
    refused = api.client("hana").post("/v1/delegations", json={
        "delegator": "hana", "delegate": "alice", "starts": now.isoformat(),
        "ends": (now + timedelta(days=5)).isoformat()})
    assert refused.status_code in (403, 409)
    assert case["id"]


def test_revoking_a_role_and_deactivating_a_person_take_effect_on_their_next_request(api):
    root, hana = api.client(ADMIN), api.client("hana")
    assert hana.get("/v1/me").json()["roles"] == ["budget-holder"]
    assert root.post("/v1/people/hana/roles/revoke", json={"role": "budget-holder"}).status_code == 204
    assert hana.get("/v1/me").json()["roles"] == []
    assert api.client("alice").post("/v1/people/hana/deactivate").status_code == 403
    assert root.post("/v1/people/hana/deactivate").status_code == 204
    assert hana.get("/v1/me").status_code == 401
    people = {person["id"]: person for person in root.get("/v1/people").json()}
    assert people["hana"]["active"] is False and people["ivan"]["active"] is True


def test_nobody_but_the_delegator_or_an_administrator_delegates_their_approvals(api):
    now = api.clock.now
    window = {"starts": now.isoformat(), "ends": (now + timedelta(days=5)).isoformat()}
    refused = api.client("ivan").post("/v1/delegations", json={"delegator": "hana", "delegate": "ivan", **window})
    assert refused.status_code == 403, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert api.engine.store.delegations() == []
