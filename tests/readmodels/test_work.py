"""My work: the viewer's tasks and their queues', in SLA order, filtered in SQL, saved and shared, acted on in bulk."""

from __future__ import annotations

import pytest

from backoffice.engine import Actor, Engine
from backoffice.errors import InputRefused
from backoffice.readmodels import viewer_of
from backoffice.readmodels.saved_filters import delete_filter, save_filter, saved_filters
from backoffice.readmodels.work import act, claim_next, filter_from_query, my_work, query_string

from ..directory_fixtures import seed
from ..engine.service_request import ANN, DESK, later, payload


def triaged(engine: Engine, hours: float, **changes: object):
    case = engine.start_case("service-request", payload(**changes), actor=ANN, now=later(hours))
    return engine.transition(case.id, "triage", actor=DESK, expected_version=case.version, now=later(hours))


def test_my_work_lists_my_queues_tasks_soonest_due_first_and_hides_other_queues(deployed):
    first, second = triaged(deployed, 0, summary="Printer"), triaged(deployed, 1, summary="Screen")
    facilities = triaged(deployed, 2, category="facilities", summary="Door")
    bob = viewer_of(deployed, "bob")
    assert "service-desk" in bob.queues
    items = my_work(deployed, bob, filter_from_query({}), now=later(3))
    assert [item.task.case_id for item in items] == [first.id, second.id, facilities.id]
    assert [item.task.due_at for item in items] == sorted(item.task.due_at for item in items)
    # Carl (a resolver) works none of these queues; his own work is empty.
    assert my_work(deployed, viewer_of(deployed, "carl"), filter_from_query({}), now=later(3)) == []


def test_filters_narrow_in_the_query_and_round_trip_through_a_link(deployed):
    triaged(deployed, 0, summary="Printer jammed")
    wanted = triaged(deployed, 1, summary="Laptop screen cracked")
    bob = viewer_of(deployed, "bob")
    search = filter_from_query({"q": "LAPTOP", "workflow": "service-request", "state": "triage", "junk": "x"})
    assert [item.task.case_id for item in my_work(deployed, bob, search, now=later(2))] == [wanted.id]
    assert filter_from_query(dict(pair.split("=") for pair in query_string(search).split("&"))) == search
    assert my_work(deployed, bob, filter_from_query({"q": f"#{wanted.id}"}), now=later(2))[0].task.case_id == wanted.id
    due = my_work(deployed, bob, filter_from_query({}), now=later(2))[0].task.due_at
    before = filter_from_query({"due_before": due.isoformat()})
    assert [item.task.due_at for item in my_work(deployed, bob, before, now=later(2))] == []
    # A percent sign is searched as itself, not as a wildcard.
    assert my_work(deployed, bob, filter_from_query({"q": "%"}), now=later(2)) == []


@pytest.mark.parametrize(("field", "value", "said"), [("due_before", "next week", "the filter's due_before"),
                                                      ("q", "x" * 201, "the filter's q"),
                                                      ("kind", "chores", "the filter's kind"),
                                                      ("scope", "everyone", "the filter's scope")])
def test_a_bad_filter_value_is_refused_naming_its_field(field, value, said):
    with pytest.raises(InputRefused, match=said):
        filter_from_query({field: value})


def test_mine_only_shows_what_i_hold(deployed):
    case = triaged(deployed, 0)
    triaged(deployed, 1)
    bob = viewer_of(deployed, "bob")
    [task] = deployed.tasks(case_id=case.id)
    deployed.claim(task.id, actor=Actor("bob"), now=later(2))
    assert [item.task.id for item in my_work(deployed, bob, filter_from_query({"scope": "mine"}), now=later(2))] \
        == [task.id]
    assert my_work(deployed, viewer_of(deployed, "dora"), filter_from_query({"scope": "mine"}), now=later(2)) == []


def test_a_saved_filter_is_a_normalised_link_shared_with_a_queue_i_work(deployed):
    bob, dora, carl = (viewer_of(deployed, name) for name in ("bob", "dora", "carl"))
    saved = save_filter(deployed, bob, name="Laptops", query="?q=laptop&evil=1&state=triage",
                        share_with="service-desk", now=later(0))
    assert saved.query == "state=triage&q=laptop"
    save_filter(deployed, bob, name="Mine", query={"scope": "mine"}, now=later(0))
    assert [f.name for f in saved_filters(deployed, bob)] == ["Laptops", "Mine"]
    assert [f.name for f in saved_filters(deployed, dora)] == ["Laptops"]
    assert saved_filters(deployed, carl) == []
    with pytest.raises(InputRefused, match="'resolver-groups' is not a queue bob works"):
        save_filter(deployed, bob, name="Theirs", query="", share_with="resolver-groups", now=later(0))
    assert not delete_filter(deployed, dora, saved.id)
    assert delete_filter(deployed, bob, saved.id)
    assert saved_filters(deployed, dora) == []


def test_bulk_acts_report_a_result_per_task_through_the_engines_rules(deployed):
    tasks = [deployed.tasks(case_id=triaged(deployed, hours).id)[0].id for hours in (0, 1)]
    bob, carl = viewer_of(deployed, "bob"), viewer_of(deployed, "carl")
    deployed.claim(tasks[1], actor=Actor("dora"), now=later(2))
    results = act(deployed, "claim", [*tasks, 999], viewer=bob, now=later(2))
    assert [(r.task_id, r.done) for r in results] == [(tasks[0], True), (tasks[1], False), (999, False)]
    assert "claimed by dora" in results[1].message or "dora" in results[1].message
    assert [r.done for r in act(deployed, "claim", tasks[:1], viewer=carl, now=later(2))] == [False]
    refused = act(deployed, "reassign", tasks[:1], viewer=bob, now=later(2), person="dora")
    assert not refused[0].done and "team-lead" in refused[0].message
    seed(deployed, {"lead": ["team-lead"]})
    given = act(deployed, "reassign", tasks[:1], viewer=viewer_of(deployed, "lead"), now=later(2), person="dora")
    assert given[0].done and deployed.task(tasks[0]).assignee == "dora"
    with pytest.raises(InputRefused, match="neither a queue nor a person"):
        act(deployed, "reassign", tasks, viewer=bob, now=later(2))


def test_claim_next_takes_the_most_urgent_task_of_my_queues(deployed):
    first = triaged(deployed, 0)
    triaged(deployed, 1)
    task = claim_next(deployed, viewer_of(deployed, "bob"), now=later(2))
    assert (task.case_id, task.claimed_by) == (first.id, "bob")
    # A queue not the viewer's, named in a crafted form, gives nothing.
    assert claim_next(deployed, viewer_of(deployed, "carl"), now=later(2), queues=["service-desk"]) is None
