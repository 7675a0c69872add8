"""Who sees which case over the web, exactly as over the API: requesters their own, workers their queues, auditors all.

A hostile person guessing case ids gets 404 on every route of a case, as for an id that does
not exist: the answer leaks nothing.
"""

from __future__ import annotations

import pytest

from .site import CLERK, csrf_of
from .test_front_door_http import GOOD

ROUTES = [("get", "/cases/{id}"), ("get", "/cases/{id}/evidence/0"), ("post", "/cases/{id}/comments"),
          ("post", "/cases/{id}/answer"), ("post", "/cases/{id}/evidence")]


@pytest.fixture
def case_id(site) -> int:
    answer = site.start("alice", "supply-request", GOOD)
    return int(answer.headers["location"].rsplit("/", 1)[1])


@pytest.mark.parametrize(("person", "sees"), [("alice", True), (CLERK, True), ("otto", True), ("root", True),
                                              ("tilda", True), ("dave", False), ("bea", False), ("hana", False)])
def test_the_case_page_is_seen_by_exactly_whom_the_api_shows_it_to(site, case_id, person, sees):
    web = site.client(person).get(f"/cases/{case_id}").status_code
    api_token = site.engine.create_token(person, actor="root", now=site.clock.now).secret
    api = site.anonymous().get(f"/v1/cases/{case_id}", headers={"Authorization": f"Bearer {api_token}"}).status_code
    assert (web, api) == ((200, 200) if sees else (404, 404))


def test_a_team_lead_reads_every_case_on_the_board_and_takes_part_in_none(sqlite_site):
    # Her dashboards count every case: her board did not (every column 0). She reads; she does not comment.
    site = sqlite_site
    answer = site.start("alice", "supply-request", GOOD)
    case_id = int(answer.headers["location"].rsplit("/", 1)[1])
    state = site.engine.case(case_id).state
    tilda = site.client("tilda")
    board = tilda.get("/board/supply-request").text
    column = board[board.index(f'data-state="{state}"'):]
    assert 'aria-label="1 cases">1</span>' in column[:400] and f'href="/cases/{case_id}"' in column
    assert tilda.get(f"/cases/{case_id}").status_code == 200
    refused = tilda.post(f"/cases/{case_id}/comments", data=site.form(tilda, {"body": "any news?"}))
    assert refused.status_code == 403 and site.engine.comments(case_id) == []


def test_a_hostile_person_guessing_ids_gets_404_on_every_route_and_changes_nothing(site, case_id):
    dave = site.client("dave")
    token = csrf_of(dave.get("/").text)
    for method, route in ROUTES:
        for guessed in (case_id, case_id + 1000):
            path = route.format(id=guessed)
            answer = dave.get(path) if method == "get" else dave.post(path, data={"csrf_token": token, "body": "hi",
                                                                                  "name": "quote"})
            assert answer.status_code == 404, (method, path, answer.status_code)
            assert "Request" not in answer.text.split("<h1>")[1][:40]
    assert site.engine.comments(case_id) == [] and site.engine.store.evidence_names(case_id) == set()


def test_my_requests_lists_only_my_own(site, case_id):
    site.start("dave", "supply-request", {**GOOD, "f.reference": "SR-0002", "f.title": "Dave's own chairs"})
    alice, dave = site.client("alice").get("/requests").text, site.client("dave").get("/requests").text
    assert f'href="/cases/{case_id}"' in alice and "Dave" not in alice
    assert f'href="/cases/{case_id}"' not in dave


def test_a_page_of_someone_else_is_not_reachable_by_a_crafted_next_link(site, case_id):
    client = site.anonymous()
    token = csrf_of(client.get("/sign-in").text)
    signed = client.post("/sign-in", data={"person": "dave", "password": "correct horse battery staple",
                                           "csrf_token": token, "next": f"/cases/{case_id}"})
    assert signed.status_code == 303
    assert client.get(signed.headers["location"]).status_code == 404
