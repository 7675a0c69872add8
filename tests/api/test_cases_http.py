"""Cases, tasks and approvals through a live server on SQLite and PostgreSQL."""

from __future__ import annotations

import json

import pytest

from .live_server import PAYLOAD, start, move, to_approval

PROBLEM = "application/problem+json"


def test_start_with_an_idempotency_key_returns_the_first_case_on_retry(api):
    first = api.client("alice").post("/v1/workflows/purchase-approval/cases", json=PAYLOAD,
                                     headers={"Idempotency-Key": "portal-42"})
    api.clock.advance(minutes=5)
    retry = api.client("alice").post("/v1/workflows/purchase-approval/cases", json=PAYLOAD,
                                     headers={"Idempotency-Key": "portal-42"})
    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json()["id"] == first.json()["id"]
    assert first.headers["Location"] == f"/v1/cases/{first.json()['id']}"
    assert first.headers["ETag"] == '"1"'
    assert len(api.engine.cases(workflow="purchase-approval")) == 1


def test_a_key_sent_again_with_another_payload_is_refused_naming_the_key(api):
    start(api, key="portal-7")
    answer = api.client("alice").post("/v1/workflows/purchase-approval/cases", json={**PAYLOAD, "amount": 99},
                                      headers={"Idempotency-Key": "portal-7"})
    assert answer.status_code == 422
    assert answer.headers["content-type"] == PROBLEM
    assert "portal-7" in answer.json()["detail"]


def test_someone_elses_idempotency_key_never_hands_over_their_case(api):
    start(api, "alice", key="shared-key")
    answer = api.client("dave").post("/v1/workflows/purchase-approval/cases", json=PAYLOAD,
                                     headers={"Idempotency-Key": "shared-key"})
    assert answer.status_code == 409
    assert answer.json()["errors"][0]["pointer"] == "/header/Idempotency-Key"
    assert "alice" not in answer.text


def test_a_payload_breaking_the_inputs_names_each_field_path(api):
    answer = api.client("alice").post("/v1/workflows/purchase-approval/cases", json={"item": 5})
    assert answer.status_code == 422
    pointers = {problem["pointer"] for problem in answer.json()["errors"]}
    assert {"/body/item", "/body/amount"} <= pointers


def test_list_pages_through_every_case_with_a_cursor(api):
    started = [start(api)["id"] for _ in range(5)]
    seen, cursor = [], None
    while True:
        page = api.client("alice").get("/v1/cases", params={"limit": 2, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        seen += [case["id"] for case in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == started


def test_a_cursor_not_given_by_the_server_is_a_400_naming_it(api):
    answer = api.client("alice").get("/v1/cases", params={"cursor": "not-a-cursor"})
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["pointer"] == "/query/cursor"


def test_transition_needs_if_match_and_refuses_a_stale_one(api):
    case = start(api)
    client = api.client("alice")
    missing = client.post(f"/v1/cases/{case['id']}/transitions", json={"to": "prepare"})
    assert missing.status_code == 428
    assert missing.json()["errors"][0]["pointer"] == "/header/If-Match"
    moved = move(api, "alice", case, "prepare")
    assert moved.status_code == 200 and moved.headers["ETag"] == '"2"'
    stale = move(api, "alice", case, "prepare")          # still If-Match "1"
    assert stale.status_code == 412
    assert "version 2" in stale.json()["detail"]
    garbage = client.post(f"/v1/cases/{case['id']}/transitions", json={"to": "prepare"},
                          headers={"If-Match": "yesterday"})
    assert garbage.status_code == 400


def test_show_gives_the_timeline_tasks_votes_and_exceptions(api):
    case = to_approval(api)
    assert api.client("hana").post(f"/v1/cases/{case['id']}/votes", json={"decision": "approve"}).status_code == 200
    shown = api.client("alice").get(f"/v1/cases/{case['id']}")
    assert shown.status_code == 200
    body = shown.json()
    assert [event["activity"] for event in body["timeline"]][:3] == ["new", "accept", "submit"]
    assert [vote["approver"] for vote in body["votes"]] == ["hana"]
    assert {task["kind"] for task in body["tasks"]} >= {"work", "approval"}
    assert shown.headers["ETag"] == f'"{body["version"]}"'
    assert body["exceptions"] == []
    assert body["evidence"] == ["quote"]
    assert body["sla"]["resolution_due_at"] is not None and body["sla"]["paused"] is False


def test_a_worker_claims_the_next_task_of_their_queue_and_completes_it(api):
    case = start(api)
    move(api, "alice", case, "prepare")
    bea = api.client("bea")
    listed = bea.get("/v1/tasks", params={"queue": "purchasing"})
    assert [task["case_id"] for task in listed.json()["items"]] == [case["id"]]
    claimed = bea.post("/v1/tasks/next", json={"queues": ["purchasing"]})
    assert claimed.status_code == 200 and claimed.json()["claimed_by"] == "bea"
    task_id = claimed.json()["id"]
    assert bea.post("/v1/tasks/next", json={"queues": ["purchasing"]}).status_code == 204
    assert bea.post(f"/v1/tasks/{task_id}/release").json()["claimed_by"] is None
    assert bea.post(f"/v1/tasks/{task_id}/claim").status_code == 200
    done = bea.post(f"/v1/tasks/{task_id}/complete", json={"to": "approve", "data": {"supplier": "Acme"}})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed"
    assert api.engine.case(case["id"]).state == "approve"


def test_a_page_of_tasks_is_what_each_task_answers_alone_by_queue_by_person_and_by_sight(api):
    # The page is built from the rows as read (one statement for a queue's or a person's page, the caller's
    # sight as a clause otherwise): each item must still be TaskOut.of the task the engine reads.
    from backoffice.api.schemas import TaskOut

    for _ in range(3):
        move(api, "alice", start(api), "prepare")
    bea = api.client("bea")
    claimed = bea.post("/v1/tasks/next", json={"queues": ["purchasing"]}).json()
    pages = {"queue": bea.get("/v1/tasks", params={"queue": "purchasing", "limit": 2}),
             "person": bea.get("/v1/tasks", params={"assignee": "me", "status": "any"}),
             "sight": bea.get("/v1/tasks", params={"status": "any"}),
             "everything": api.client("root").get("/v1/tasks", params={"status": "any"})}
    for how, page in pages.items():
        assert page.status_code == 200, (how, page.text)
        items = page.json()["items"]
        assert items, how
        assert items == [json.loads(TaskOut.of(api.engine.task(item["id"])).model_dump_json()) for item in items], how
    assert pages["queue"].json()["next_cursor"] is not None and len(pages["queue"].json()["items"]) == 2
    assert [item["id"] for item in pages["person"].json()["items"]] == [claimed["id"]]
    assert pages["person"].json()["items"][0]["claimed_by"] == "bea"


def test_a_task_claimed_by_someone_else_is_a_409_naming_the_holder(api):
    case = start(api)
    move(api, "alice", case, "prepare")
    task_id = api.client("bea").post("/v1/tasks/next", json={"queues": ["purchasing"]}).json()["id"]
    answer = api.client("bob").post(f"/v1/tasks/{task_id}/claim")   # a second buyer
    assert answer.status_code == 409
    assert "claimed by bea" in answer.json()["detail"]


def test_votes_reach_the_quorum_and_move_the_case(api):
    case = to_approval(api)
    for person in ("hana", "ivan"):
        answer = api.client(person).post(f"/v1/cases/{case['id']}/votes", json={"decision": "approve"})
        assert answer.status_code == 200, answer.text
    assert api.engine.case(case["id"]).state == "ordered"


def test_metrics_count_requests_cases_and_open_tasks_per_queue(api):
    case = start(api)
    move(api, "alice", case, "prepare")
    text = api.client().get("/metrics").text
    assert 'backoffice_api_cases_started_total{version="1",workflow="purchase-approval"} 1.0' in text
    assert 'backoffice_queue_open_tasks{queue="purchasing"} 1.0' in text
    assert 'backoffice_cases{status="open",version="1",workflow="purchase-approval"} 1.0' in text
    assert 'route="/v1/cases/{case_id}/transitions",status="200"' in text
    assert "backoffice_dead_letters 0.0" in text


def test_health_and_ready_answer_without_a_token(api):
    assert api.client().get("/health").json() == {"status": "ok"}
    ready = api.client().get("/ready").json()
    assert ready["status"] == "ready" and ready["revision"] == ready["expected_revision"]


def test_the_request_id_is_echoed_in_the_header_and_in_problems(api):
    answer = api.client("alice").get("/v1/cases/999", headers={"X-Request-ID": "trace-abc.1"})
    assert answer.status_code == 404
    assert answer.headers["x-request-id"] == "trace-abc.1"
    assert answer.json()["request_id"] == "trace-abc.1"
    odd = api.client("alice").get("/v1/cases/999", headers={"X-Request-ID": "no spaces <allowed>"})
    assert odd.headers["x-request-id"] != "no spaces <allowed>"


def test_a_body_over_the_limit_is_a_413_before_it_is_read(api):
    big = {"item": "x" * (2 * 1024 * 1024), "amount": 1}
    answer = api.client("alice").post("/v1/workflows/purchase-approval/cases", json=big)
    assert answer.status_code == 413
    assert answer.headers["content-type"] == PROBLEM
    assert api.engine.cases() == []


def test_malformed_json_and_unknown_fields_are_422_naming_the_field(api):
    case = start(api)
    client = api.client("alice")
    broken = client.post(f"/v1/cases/{case['id']}/transitions", content=b"{not json",
                         headers={"If-Match": '"1"', "Content-Type": "application/json"})
    assert broken.status_code == 422
    extra = client.post(f"/v1/cases/{case['id']}/transitions", json={"to": "prepare", "actor": "root"},
                        headers={"If-Match": '"1"'})
    assert extra.status_code == 422
    assert extra.json()["errors"][0]["pointer"] == "/body/actor"


@pytest.mark.parametrize("body, status, detail", [
    (b'{\n  "to": "prepare",\n  "data": \n}', 422, "Expecting value at line 4, column 1 (character 33)"),
    (b'{"to": "pr\xffepare"}', 400, "byte 0xff at byte 11 is not UTF-8"),
    (b'{"to": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", 400, "it nests arrays or objects too deeply to read"),
    (b'{"to": ' + b"7" * 5000 + b"}", 400, "it holds an integer of 5000 digits, more than the 4300 read"),
], ids=["syntax", "not-utf8", "nested-too-deep", "integer-too-long"])
def test_a_body_that_is_not_json_is_named_where_and_why_and_moves_nothing(api, body, status, detail):
    # Before, three of these were a bare "There was an error parsing the body", and a syntax error pointed at
    # /body/35 as if character 35 were a field.
    case = start(api)
    answer = api.client("alice").post(f"/v1/cases/{case['id']}/transitions", content=body,
                                      headers={"If-Match": '"1"', "Content-Type": "application/json"})
    assert answer.status_code == status and answer.headers["content-type"] == PROBLEM, answer.text
    problem = answer.json()
    assert problem["detail"].startswith(f"the body is not valid JSON: {detail}"), problem
    assert problem["errors"] == [{"pointer": "/body", "detail": problem["detail"].split(": ", 1)[1],
                                  "expected": "one JSON document in UTF-8 (RFC 8259)"}]
    assert api.engine.case(case["id"]).version == case["version"]


def test_an_unknown_path_is_a_problem_not_an_html_page(api):
    answer = api.client().get("/v1/nothing-here")
    assert answer.status_code == 404 and answer.headers["content-type"] == PROBLEM


def test_an_operator_lists_and_replays_dead_letters_and_an_auditor_verifies_the_trail(api):
    assert api.client("ops").get("/v1/dead-letters").json() == {"items": [], "next_cursor": None}
    assert api.client("ops").post("/v1/dead-letters/1/replay").status_code == 404
    verified = api.client("otto").get("/v1/audit/verify").json()
    assert verified["ok"] is True and verified["records"] >= 1 and verified["chains"] >= 1
    assert verified["problem"] is None and verified["summary"].startswith("audit trail ok: ")


def test_deploy_over_http_needs_a_deploying_role_and_is_idempotent(api):
    definition = (api.engine.store.version("purchase-approval").source
                  .replace("version: 1", "version: 2", 1))
    assert api.client("alice").post("/v1/workflows", json={"definition": definition}).status_code == 403
    first = api.client("root").post("/v1/workflows", json={"definition": definition})
    again = api.client("root").post("/v1/workflows", json={"definition": definition})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["version"] == 2 and again.json()["created"] is False
    listed = api.client("alice").get("/v1/workflows").json()
    assert [v["version"] for v in listed[0]["versions"]] == [1, 2]
    broken = api.client("root").post("/v1/workflows", json={"definition": "id: [unclosed"})
    assert broken.status_code == 422


def test_an_exception_raised_and_resolved_over_http_shows_in_the_case(api):
    from backoffice.definitions import LIBRARY
    api.engine.grant("service-desk", to="bea", actor="root", now=api.clock.now)
    api.engine.deploy(LIBRARY / "service-request.yaml", actor="root", now=api.clock.now)
    started = api.client("alice").post("/v1/workflows/service-request/cases", json={
        "summary": "Printer jammed", "description": "It eats paper", "category": "it", "urgency": "normal",
        "requester_email": "alice@example.com"})
    assert started.status_code == 201, started.text
    case = move(api, "alice", started.json(), "triage").json()
    raised = api.client("bea").post(f"/v1/cases/{case['id']}/exceptions",
                                    json={"reason": "needs_info", "note": "which floor?"})
    assert raised.status_code == 201, raised.text
    assert raised.json()["state"] == "waiting-on-requester"
    api.clock.advance(hours=1)
    resolved = api.client("alice").post(f"/v1/cases/{case['id']}/exceptions/resolve", json={"note": "3rd"})
    assert resolved.status_code == 200, resolved.text
    shown = api.client("alice").get(f"/v1/cases/{case['id']}").json()
    [exception] = shown["exceptions"]
    assert (exception["reason"], exception["raised_by"], exception["note"]) == ("needs_info", "bea", "which floor?")
    assert (exception["resolved_by"], exception["resolution"]) == ("alice", "triage")


def test_bulk_claim_reports_a_result_per_task(api):
    cases = [move(api, "alice", start(api), "prepare").json() for _ in range(2)]
    tasks = [t["id"] for t in api.client("bea").get("/v1/tasks", params={"queue": "purchasing"}).json()["items"]]
    assert len(tasks) == 2
    api.client("bob").post(f"/v1/tasks/{tasks[1]}/claim")
    answer = api.client("bea").post("/v1/tasks/bulk", json={"action": "claim", "task_ids": [*tasks, 999]})
    assert answer.status_code == 200, answer.text
    results = {r["task_id"]: r for r in answer.json()["results"]}
    assert [results[t]["status"] for t in (*tasks, 999)] == [200, 409, 404]
    assert results[tasks[0]]["task"]["claimed_by"] == "bea"
    assert "claimed by bob" in results[tasks[1]]["problem"]["detail"]
    assert (answer.json()["succeeded"], answer.json()["failed"]) == (1, 2)
    assert len(cases) == 2


def test_reassigning_needs_a_lead_and_never_moves_an_approval_vote(api):
    case = move(api, "alice", start(api), "prepare").json()
    task_id = api.client("bea").get("/v1/tasks", params={"queue": "purchasing"}).json()["items"][0]["id"]
    assert api.client("bea").post(f"/v1/tasks/{task_id}/reassign", json={"person": "bob"}).status_code == 403
    given = api.client("root").post(f"/v1/tasks/{task_id}/reassign", json={"person": "bob"})
    assert given.status_code == 200, given.text
    assert given.json()["assignee"] == "bob"
    approval = to_approval(api)
    vote_task = next(t for t in api.client("root").get("/v1/tasks", params={"assignee": "hana"}).json()["items"]
                     if t["case_id"] == approval["id"])
    refused = api.client("root").post(f"/v1/tasks/{vote_task['id']}/reassign", json={"person": "root"})
    assert refused.status_code == 409
    assert case["id"] != approval["id"]


def test_an_operator_switches_manual_mode_and_migrates_and_nobody_else_does(api):
    assert api.client("alice").post("/v1/workflows/purchase-approval/mode", json={"manual": True}).status_code == 403
    switched = api.client("ops").post("/v1/workflows/purchase-approval/mode", json={"manual": True})
    assert switched.status_code == 200, switched.text
    assert switched.json() == {"workflow": "purchase-approval", "manual": True}
    case = start(api)
    definition = api.engine.store.version("purchase-approval").source.replace("version: 1", "version: 2", 1)
    assert api.client("root").post("/v1/workflows", json={"definition": definition}).status_code == 201
    assert api.client("bea").post("/v1/workflows/purchase-approval/migrations", json={}).status_code == 403
    dry = api.client("ops").post("/v1/workflows/purchase-approval/migrations", json={"dry_run": True})
    assert dry.status_code == 200, dry.text
    assert dry.json()["moved"] == [case["id"]] and dry.json()["dry_run"] is True
    assert api.engine.case(case["id"]).definition_version == 1
    done = api.client("ops").post("/v1/workflows/purchase-approval/migrations", json={"to_version": 2})
    assert done.json()["moved"] == [case["id"]]
    assert api.engine.case(case["id"]).definition_version == 2



def test_the_live_work_of_a_workflow_maps_over_http_for_auditors_only(api):
    assert api.client("otto").get("/v1/workflows/purchase-approval/map").status_code == 409
    to_approval(api)
    assert api.client("alice").get("/v1/workflows/purchase-approval/map").status_code == 403
    mapped = api.client("otto").get("/v1/workflows/purchase-approval/map")
    assert mapped.status_code == 200, mapped.text
    assert mapped.json()["summary"]["cases"] == 1
    assert {"new", "accept", "submit"} <= {activity["name"] for activity in mapped.json()["activities"]}


def test_every_answer_forbids_sniffing_framing_and_caching(api):
    for answer in (api.client("alice").get("/v1/me"), api.client().get("/v1/me"), api.client().get("/health")):
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["x-frame-options"] == "DENY"


def test_list_filters_by_workflow_state_queue_and_requester_and_pages_within_the_filter(api):
    waiting = [move(api, "alice", start(api, "alice"), "prepare").json() for _ in range(3)]
    start(api, "alice")                                   # still new: no queue, another state
    dave_s = move(api, "dave", start(api, "dave"), "prepare").json()
    root = api.client("root")

    def ids(**filters) -> list[int]:
        found, cursor = [], None
        while True:
            page = root.get("/v1/cases", params={"limit": 2, **filters, **({"cursor": cursor} if cursor else {})})
            assert page.status_code == 200, page.text
            found += [case["id"] for case in page.json()["items"]]
            if (cursor := page.json()["next_cursor"]) is None:
                return found

    assert ids(state="prepare", requester="alice") == [case["id"] for case in waiting]
    assert ids(queue="purchasing") == [case["id"] for case in waiting] + [dave_s["id"]]
    assert ids(requester="dave") == [dave_s["id"]]
    assert len(ids(workflow="purchase-approval")) == 5
    assert ids(workflow="no-such-workflow") == [] and ids(state="ordered") == []


def test_show_carries_the_comments_and_a_task_is_shown_by_its_id_to_who_may_see_it(api):
    case = start(api)
    move(api, "alice", case, "prepare")
    assert api.client("bea").post(f"/v1/cases/{case['id']}/comments",
                                  json={"body": "which model?"}).status_code == 201
    shown = api.client("alice").get(f"/v1/cases/{case['id']}").json()
    assert [(comment["author"], comment["body"]) for comment in shown["comments"]] == [("bea", "which model?")]
    [task] = shown["tasks"]
    assert api.client("bea").get(f"/v1/tasks/{task['id']}").json()["queue"] == "purchasing"
    assert api.client("dave").get(f"/v1/tasks/{task['id']}").status_code == 404
    assert api.client("bea").get("/v1/tasks/999999").status_code == 404


def test_workflows_and_their_versions_are_listed(api):
    listed = api.client("bea").get("/v1/workflows")
    assert listed.status_code == 200, listed.text
    assert [(w["workflow"], w["latest_version"]) for w in listed.json()] == [("purchase-approval", 1)]
    versions = api.client("root").get("/v1/workflows/purchase-approval/versions")
    assert versions.status_code == 200, versions.text
    assert [version["version"] for version in versions.json()] == [1]
    assert api.client("root").get("/v1/workflows/nothing-here/versions").status_code == 404


def test_a_nul_or_a_lone_surrogate_in_a_queue_name_or_a_filter_is_a_422_not_a_server_error(api):
    # PostgreSQL stores neither in text: the core refuses them before any query (a 500 before).
    root = api.client("root")
    for queues in (["purchasing\x00"], ["\ud800x"]):
        answer = root.post("/v1/tasks/next", content=json.dumps({"queues": queues}),
                           headers={"Content-Type": "application/json"})
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"] == PROBLEM
    assert root.get("/v1/tasks", params={"queue": "a\x00b"}).status_code == 422
    for name in ("state", "queue", "workflow"):
        answer = root.get("/v1/cases", params={name: "a\x00b"})
        assert answer.status_code == 422 and "NUL" in answer.json()["detail"], name
    # Filters matched by the server, not the database, simply match nothing.
    assert root.get("/v1/tasks", params={"assignee": "a\x00b"}).json()["items"] == []
    assert root.get("/v1/cases", params={"requester": "a\x00b"}).json()["items"] == []
