"""Governed change over HTTP, against a live server on SQLite and PostgreSQL: the control diff, the changes
waiting, and their approval by a second person holding the change-approver role."""

from __future__ import annotations

import pytest

from .governed import APPROVER, add_change_approver, deploy_weaker, version_text


@pytest.fixture
def governed(api):
    add_change_approver(api)
    return api


def test_the_control_diff_of_a_weaker_version_says_it_weakens_and_would_wait(governed):
    answer = governed.client("root").post("/v1/workflows/control-diff", json={"definition": version_text()})
    assert answer.status_code == 200, answer.text
    diff = answer.json()
    assert (diff["workflow"], diff["version"], diff["deployed_version"]) == ("purchase-approval", 2, 1)
    assert diff["weakens"] and diff["waits"] and not diff["already_deployed"]
    assert [(c["kind"], c["weakens"], c["old"], c["new"]) for c in diff["changes"]] == [("quorum", True, "2", "1")]
    assert diff["lines"][0].startswith("purchase-approval version 2 against version 1: 1 change weakens a control")
    # Nothing was deployed or stored by asking.
    assert governed.engine.store.version("purchase-approval").version == 1
    assert governed.engine.changes() == []


def test_the_control_diff_of_a_stricter_version_does_not_wait(governed):
    answer = governed.client(APPROVER).post("/v1/workflows/control-diff",
                                            json={"definition": version_text(quorum=3)})
    assert answer.status_code == 200, answer.text
    assert (answer.json()["weakens"], answer.json()["waits"]) == (False, False)


def test_the_control_diff_of_a_broken_definition_names_the_line(governed):
    answer = governed.client("root").post("/v1/workflows/control-diff", json={"definition": "id: x\nstates: [\n"})
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["pointer"].startswith("/body/definition#line=")


def test_a_waiting_change_is_listed_with_its_diff_and_approved_by_a_second_person(governed):
    deployed = deploy_weaker(governed)
    waiting = governed.client(APPROVER).get("/v1/changes")
    assert waiting.status_code == 200, waiting.text
    [change] = waiting.json()
    assert (change["workflow"], change["version"], change["status"], change["requested_by"]) == \
        ("purchase-approval", 2, "pending", "root")
    assert change["content_hash"] == deployed["content_hash"]
    assert change["control_diff"]["weakens"] is True
    # The deployer may not approve it; a second person with the role does.
    own = governed.client("root").post("/v1/workflows/purchase-approval/changes/2/decision",
                                       json={"decision": "approve", "content_hash": change["content_hash"]})
    assert own.status_code == 403 and "second person" in own.json()["detail"]
    approved = governed.client(APPROVER).post("/v1/workflows/purchase-approval/changes/2/decision",
                                              json={"decision": "approve", "content_hash": change["content_hash"],
                                                    "note": "one budget holder is enough under 2000"})
    assert approved.status_code == 200, approved.text
    assert (approved.json()["status"], approved.json()["decided_by"]) == ("approved", APPROVER)
    assert governed.engine.store.version("purchase-approval").version == 2
    assert governed.client(APPROVER).get("/v1/changes").json() == []
    decided = governed.client("otto").get("/v1/changes", params={"status": "approved"}).json()
    assert [(c["version"], c["note"]) for c in decided] == [(2, "one budget holder is enough under 2000")]


def test_a_change_approved_with_other_content_or_twice_is_refused(governed):
    deployed = deploy_weaker(governed)
    path = "/v1/workflows/purchase-approval/changes/2/decision"
    other = governed.client(APPROVER).post(path, json={"decision": "approve", "content_hash": "0" * 64})
    assert other.status_code == 409 and deployed["content_hash"] in other.json()["detail"]
    assert governed.client(APPROVER).post(path, json={"decision": "approve", "content_hash": "zz"}).status_code == 422
    assert governed.client(APPROVER).post(path, json={"decision": "approve",
                                                      "content_hash": deployed["content_hash"]}).status_code == 200
    again = governed.client(APPROVER).post(path, json={"decision": "reject", "content_hash": deployed["content_hash"]})
    assert again.status_code == 409


def test_the_deployer_withdraws_their_change_and_a_reader_cannot_decide(governed):
    deployed = deploy_weaker(governed)
    path = "/v1/workflows/purchase-approval/changes/2/decision"
    for person in ("otto", "alice", "hana"):   # an auditor reads changes; nobody of these decides one
        refused = governed.client(person).post(path, json={"decision": "reject",
                                                           "content_hash": deployed["content_hash"]})
        assert refused.status_code == 403, (person, refused.text)
    withdrawn = governed.client("root").post(path, json={"decision": "reject",
                                                         "content_hash": deployed["content_hash"]})
    assert withdrawn.status_code == 200, withdrawn.text
    assert (withdrawn.json()["status"], withdrawn.json()["decided_by"]) == ("rejected", "root")
    assert governed.engine.store.version("purchase-approval").version == 1


def test_only_deployers_approvers_and_readers_of_everything_read_changes_and_diffs(governed):
    deploy_weaker(governed)
    statuses = {person: governed.client(person).get("/v1/changes").status_code
                for person in ("alice", "bea", "hana", "ops", "otto", "root", APPROVER)}
    assert statuses == {"alice": 403, "bea": 403, "hana": 403, "ops": 403, "otto": 200, "root": 200, APPROVER: 200}
    assert governed.client("alice").post("/v1/workflows/control-diff",
                                         json={"definition": version_text()}).status_code == 403
