"""A case's branches over HTTP: listed on the case, a branch naming its case, and nothing shown to outsiders."""

from __future__ import annotations

from backoffice.engine import Actor

from ..engine.nested_parallel import DEFINITION
from .live_server import ADMIN

# The people of the nested purchase (tests/engine/nested-parallel.yaml), added to the server's directory.
BUYING = {"rita": (), "bo": ("buyer",), "lex": ("legal",), "cleo": ("clerk",)}


def nested_case(api) -> dict[str, int]:
    """Start a nested purchase as rita, its buying branch split again; return the case ids by name."""
    engine, now = api.engine, api.clock.now
    for person, roles in BUYING.items():
        engine.add_person(person, name=person.title(), actor=ADMIN, now=now)
        for role in roles:
            engine.grant(role, to=person, actor=ADMIN, now=now)
    engine.deploy(DEFINITION, actor=ADMIN, now=now)
    case = engine.start_case("nested-parallel", {"name": "Lab move"}, actor=Actor("rita"), now=now)
    case = engine.transition(case.id, "project-work", actor=Actor("cleo", "clerk"), expected_version=case.version,
                             now=now)
    ids = {"case": case.id}
    for row in engine.branches(case.id):
        ids[row.branch] = row.child_id
    for row in engine.branches(ids["buy"]):
        ids[row.branch] = row.child_id
    return ids


def test_the_case_lists_its_branches_and_a_branch_names_its_case(api):
    ids = nested_case(api)
    docs = api.engine.case(ids["docs"])
    api.engine.transition(docs.id, "waiting-on-requester", actor=Actor("cleo", "clerk"),
                          expected_version=docs.version, now=api.clock.now)
    answer = api.client("rita").get(f"/v1/cases/{ids['case']}")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    branches = {branch["name"]: branch for branch in body["branches"]}
    assert list(branches) == ["buy", "docs"]
    assert branches["buy"] | {"opened_at": None} == {
        "case_id": ids["buy"], "name": "buy", "kind": "branch", "state": "project-work", "case_state": "purchase",
        "status": "open", "outcome": None, "required": True, "opened_at": None, "due_at": branches["buy"]["due_at"],
        "closed_at": None, "reason": None}
    assert branches["docs"]["case_state"] == "waiting-on-requester"
    assert body["parent"] is None
    assert body["sla"]["paused"] is False and body["sla"]["paused_because"] is None

    buy = api.client("rita").get(f"/v1/cases/{ids['buy']}").json()
    assert buy["parent"] == {"case_id": ids["case"], "state": "project-work", "branch": "buy"}
    assert [(b["name"], b["case_state"], b["status"]) for b in buy["branches"]] == [
        ("quote", "get-quote", "open"), ("budget", "check-budget", "open"), ("legal", "legal-review", "open")]


def test_a_join_outcome_and_a_stopped_clock_show_on_the_case(api):
    ids = nested_case(api)
    engine, now = api.engine, api.clock.now
    for name, actor, data in (("budget", Actor("bo", "buyer"), None), ("legal", Actor("lex", "legal"), None)):
        child = engine.case(ids[name])
        engine.transition(child.id, "purchase", actor=actor, expected_version=child.version, now=now, data=data)
    for name, to in (("quote", "waiting-on-supplier"), ("docs", "waiting-on-requester")):
        child = engine.case(ids[name])
        actor = Actor("cleo", "clerk") if name == "docs" else Actor("bo", "buyer")
        engine.transition(child.id, to, actor=actor, expected_version=child.version, now=now)
    body = api.client("rita").get(f"/v1/cases/{ids['case']}").json()
    assert body["sla"]["paused"] is True and body["sla"]["resolution_due_at"] is None
    assert body["sla"]["paused_because"] == ("every open branch waits: buy in 'purchase', "
                                             "docs in 'waiting-on-requester'")
    buy = api.client("rita").get(f"/v1/cases/{ids['buy']}").json()
    assert {b["name"]: (b["status"], b["outcome"]) for b in buy["branches"]} == {
        "quote": ("open", None), "budget": ("done", "purchase"), "legal": ("done", "purchase")}
    assert buy["sla"]["paused_because"] == "every open branch waits: quote in 'waiting-on-supplier'"


def test_someone_who_may_not_see_a_case_learns_nothing_of_its_branches(api):
    ids = nested_case(api)
    # dave has no part in it: the case and every branch answer as absent.
    for name in ("case", "buy", "docs", "quote"):
        answer = api.client("dave").get(f"/v1/cases/{ids[name]}")
        assert answer.status_code == 404
        assert "purchase" not in answer.text and "quote" not in answer.text
    # lex works the legal branch (its queue) but may not see the case it belongs to: no parent named.
    legal = api.client("lex").get(f"/v1/cases/{ids['legal']}")
    assert legal.status_code == 200, legal.text
    assert legal.json()["parent"] is None
    assert api.client("lex").get(f"/v1/cases/{ids['buy']}").status_code == 404
    assert api.client("lex").get(f"/v1/cases/{ids['case']}").status_code == 404
