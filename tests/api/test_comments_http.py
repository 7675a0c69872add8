"""Comments on a case over HTTP, on SQLite and PostgreSQL: whoever may see the case reads and adds them."""

from __future__ import annotations

from .live_server import to_approval


def test_people_who_see_a_case_comment_on_it_in_order_and_others_do_not_find_it(api):
    case = to_approval(api, "alice")
    path = f"/v1/cases/{case['id']}/comments"
    first = api.client("alice").post(path, json={"body": "  Needed before the trade fair, please.  "})
    assert first.status_code == 201, first.text
    assert (first.json()["author"], first.json()["body"]) == ("alice", "Needed before the trade fair, please.")
    assert api.client("hana").post(path, json={"body": "Is the quote final?"}).status_code == 201
    listed = api.client("bea").get(path)
    assert listed.status_code == 200
    assert [(c["author"], c["body"]) for c in listed.json()] == [
        ("alice", "Needed before the trade fair, please."), ("hana", "Is the quote final?")]
    assert api.client("dave").get(path).status_code == 404
    assert api.client("dave").post(path, json={"body": "hello"}).status_code == 404
    assert api.client().get(path).status_code == 401
    assert len(api.engine.comments(case["id"])) == 2


def test_a_comment_names_its_author_from_the_token_and_refuses_bad_text(api):
    case = to_approval(api, "alice")
    path = f"/v1/cases/{case['id']}/comments"
    named = api.client("alice").post(path, json={"body": "approve it", "author": "hana"})
    assert named.status_code == 422 and named.json()["errors"][0]["pointer"] == "/body/author"
    assert api.client("alice").post(path, json={"body": ""}).status_code == 422
    assert api.client("alice").post(path, json={"body": "   "}).status_code == 422
    assert api.client("alice").post(path, json={"body": "a\u0000b"}).status_code == 422
    assert api.client("alice").post(path, json={"body": "x" * 10_001}).status_code == 422
    assert api.engine.comments(case["id"]) == []
