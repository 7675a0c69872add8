"""My work over HTTP: visibility of the list in SQL, the polled fragment, saved and shared filters, the acts on
tasks (one and in bulk, with a result per task), who may reassign, and CSRF on every form."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from backoffice.engine import Actor

from ..api.live_server import ADMIN, T0
from .site import csrf_of
from .work_fixtures import prepared


def test_my_work_lists_my_queues_tasks_and_nobody_elses(site):
    first, second = prepared(site.engine), prepared(site.engine, item="chair")
    page = site.client("bea").get("/work")
    assert page.status_code == 200
    assert f"Case {first.id}" in page.text and f"Case {second.id}" in page.text
    assert page.text.index(f"Case {first.id}<") < page.text.index(f"Case {second.id}<")
    # Alice asked for them but works no queue: her work is empty, and the fragment says the same.
    assert f"Case {first.id}<" not in site.client("alice").get("/work").text
    assert "Nothing matches" in site.client("alice").get("/work/list").text


def test_the_polled_fragment_keeps_the_ticked_boxes_and_the_search(site):
    first, second = prepared(site.engine), prepared(site.engine, item="chair")
    [first_task] = site.engine.tasks(case_id=first.id)
    [second_task] = site.engine.tasks(case_id=second.id)
    fragment = site.client("bea").get("/work/list", params={"q": "chair", "task_id": [second_task.id]})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert f'value="{second_task.id}" id="pick-{second_task.id}" checked' in fragment.text
    assert f"pick-{first_task.id}" not in fragment.text
    page = site.client("bea").get("/work", params={"q": "chair"}).text
    assert 'hx-get="/work/list?q=chair"' in page and 'hx-trigger="every 20s"' in page


def test_a_bad_filter_is_answered_naming_the_field(sqlite_site):
    answer = sqlite_site.client("bea").get("/work", params={"due_before": "soon"})
    assert answer.status_code == 422 and "the filter&#39;s due_before" in answer.text


def test_a_filter_saved_and_shared_with_a_queue_is_a_link_its_people_see(site):
    bea, bob, alice = site.client("bea"), site.client("bob"), site.client("alice")
    saved = bea.post("/work/filters", data=site.form(bea, {"name": "Chairs", "query": "q=chair&bogus=1",
                                                           "share_with": "purchasing"}, page="/work"))
    assert saved.status_code == 303 and saved.headers["location"] == "/work?q=chair"
    assert 'href="/work?q=chair">Chairs</a>' in bob.get("/work").text
    assert "Chairs" not in alice.get("/work").text
    refused = alice.post("/work/filters", data=site.form(alice, {"name": "Theirs", "share_with": "purchasing"},
                                                         page="/work"))
    assert refused.status_code == 422 and "is not a queue alice works" in refused.text


def test_claim_and_bulk_claim_report_a_result_per_task(site):
    tasks = [site.engine.tasks(case_id=prepared(site.engine, item=name).id)[0].id for name in ("a", "b")]
    site.engine.claim(tasks[1], actor=Actor("bob"), now=site.clock())
    bea = site.client("bea")
    answer = bea.post("/work/bulk", data=site.form(bea, {"action": "claim", "task_id": [*tasks, 999999]},
                                                   page="/work"))
    assert answer.status_code == 200
    assert answer.text.count("badge good") == 1 and answer.text.count("badge bad") == 2
    assert "1 of 3 done" in answer.text and "bob" in answer.text
    assert site.engine.task(tasks[0]).claimed_by == "bea" and site.engine.task(tasks[1]).claimed_by == "bob"
    released = bea.post(f"/work/tasks/{tasks[0]}/release", data=site.form(bea, {"back": "/work?scope=mine"},
                                                                             page="/work"))
    assert released.status_code == 303 and released.headers["location"] == "/work?scope=mine"
    assert site.engine.task(tasks[0]).claimed_by is None


def test_claim_next_takes_the_most_urgent_task_of_my_queue(sqlite_site):
    first = prepared(sqlite_site.engine)
    prepared(sqlite_site.engine, item="chair")
    bea = sqlite_site.client("bea")
    answer = bea.post("/work/next", data=sqlite_site.form(bea, {"queue": "purchasing"}, page="/work"))
    assert answer.status_code == 303
    assert sqlite_site.engine.tasks(case_id=first.id)[0].claimed_by == "bea"


def test_reassigning_without_the_right_is_refused_by_the_core_for_each_task(site):
    [task] = site.engine.tasks(case_id=prepared(site.engine).id)
    bea = site.client("bea")
    assert "Reassign</option>" not in bea.get("/work").text
    crafted = bea.post("/work/bulk", data=site.form(bea, {"action": "reassign", "task_id": [task.id],
                                                          "person": "bea"}, page="/work"))
    assert "badge bad" in crafted.text and "may not reassign the tasks of purchase-approval" in crafted.text
    one = bea.post(f"/work/tasks/{task.id}/reassign", data=site.form(bea, {"person": "bea"}, page="/work"))
    assert one.status_code == 409 and "team-lead" in one.text
    assert site.engine.task(task.id).assignee is None
    root = site.client(ADMIN)
    given = root.post("/work/bulk", data=site.form(root, {"action": "reassign", "task_id": [task.id],
                                                          "person": "bob"}, page="/work"))
    assert "badge good" in given.text and site.engine.task(task.id).assignee == "bob"


def test_every_work_form_needs_the_csrf_token(sqlite_site):
    [task] = sqlite_site.engine.tasks(case_id=prepared(sqlite_site.engine).id)
    bea = sqlite_site.client("bea")
    for path, data in (("/work/bulk", {"action": "claim", "task_id": [task.id]}), (f"/work/tasks/{task.id}/claim", {}),
                       ("/work/next", {}), ("/work/filters", {"name": "x"})):
        assert bea.post(path, data=data).status_code == 403, path
        assert bea.post(path, data={**data, "csrf_token": "0" * 64}).status_code == 403, path
    assert sqlite_site.engine.task(task.id).claimed_by is None
    assert csrf_of(bea.get("/work").text)


def test_the_poll_after_the_session_expired_sends_the_window_to_sign_in_not_into_the_list(sqlite_site):
    client = sqlite_site.client("bea")
    assert client.get("/work/list", headers={"HX-Request": "true"}).status_code == 200
    sqlite_site.clock.now += timedelta(hours=13)                  # past the session's 12 hours
    polled = client.get("/work/list?q=chair", headers={
        "HX-Request": "true", "HX-Current-URL": "http://testserver/work?q=chair&scope=mine"})
    assert polled.status_code == 401 and "<html" not in polled.text
    assert polled.headers["HX-Redirect"] == "/sign-in?next=/work%3Fq%3Dchair%26scope%3Dmine"
    # A page of another site named as the current one is not where sign-in leads back to.
    elsewhere = client.get("/work/list", headers={"HX-Request": "true", "HX-Current-URL": "https://evil.example/x"})
    assert elsewhere.headers["HX-Redirect"] == "/sign-in"
    # Without htmx, the browser is redirected as before.
    plain = client.get("/work/list")
    assert plain.status_code == 303 and plain.headers["location"].startswith("/sign-in")


def test_my_work_pages_by_keyset_and_every_page_link_keeps_the_filters(site, monkeypatch):
    from backoffice.web import pages_work
    monkeypatch.setattr(pages_work, "PAGE", 2)
    # Made later ones first, so the order (soonest due, then oldest, then id) is not the order of ids;
    # three at the same moment, so ties are broken by id across a page's edge.
    chairs = [_prepared_at(site.engine, T0 + timedelta(hours=hours)) for hours in (30, 20, 0, 0, 0)]
    prepared(site.engine, item="desk")                                 # filtered out on every page
    client = site.client("bea")
    seen, path, pages = [], "/work?q=chair", 0
    while path:
        page = client.get(path).text
        pages += 1
        seen += [int(found) for found in re.findall(r'<a href="/cases/(\d+)">Case', page)]
        following = re.search(r'<a href="([^"]+)" rel="next">Next page</a>', page)
        path = html.unescape(following.group(1)) if following else None
        if path:
            assert "q=chair" in path and "after=" in path
        if pages > 1:
            assert 'href="/work?q=chair">First page</a>' in page
            assert re.search(r'hx-get="/work/list\?q=chair&amp;after=[\w-]+"', page)  # the poll keeps the page
    in_order = sorted(chairs, key=lambda case: (case.created_at, case.id))
    assert pages == 3 and seen == [case.id for case in in_order]      # each once, in order, none skipped
    assert seen != sorted(seen)


def _prepared_at(engine, when):
    case = engine.start_case("purchase-approval", {"item": "chair", "amount": 1800}, actor=Actor("alice"), now=when)
    return engine.transition(case.id, "prepare", actor=Actor("bea"), expected_version=case.version, now=when)


def test_a_cursor_this_list_did_not_make_is_refused_naming_it(sqlite_site):
    answer = sqlite_site.client("bea").get("/work", params={"after": "not-a-cursor"})
    assert answer.status_code == 422 and "the page&#39;s cursor" in answer.text
