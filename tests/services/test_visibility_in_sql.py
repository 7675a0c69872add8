"""The API's lists filter by what a person may see in SQL, and agree with the visibility rule row by row.

`Visibility.may_see_case` and `may_see_task` decide, one row at a time, what a principal may
read; the lists of cases and tasks ask the store for the rows in the principal's `sight`,
filtered in the query itself. For every person of the suite, over a workspace of cases in
several states, queues and hands, the two must name the very same rows: never one more (a case
someone may not see), never one fewer.
"""

from __future__ import annotations

from backoffice.engine import Actor, Engine
from backoffice.engine.tasks import TaskStatus
from backoffice.services.principal import principal_of
from backoffice.services.visibility import Visibility

from ..directory_fixtures import ADMIN, CAST, SERVICE_ACCOUNTS
from ..engine.service_request import ANN, DESK, T0, TEMPLATE, later, payload
from ..readmodels.conftest import PURCHASE

EVERYONE = (ADMIN, *CAST, *SERVICE_ACCOUNTS)


def _workspace(engine: Engine) -> None:
    """Cases in several states and hands: queued, claimed, moved on, requested by several people."""
    engine.deploy(TEMPLATE, actor="lead", now=T0)
    engine.deploy(PURCHASE, actor="lead", now=T0)
    engine.add_to_queue("facilities", "eve", actor=ADMIN, now=T0)
    started = [engine.start_case("service-request", payload(category=category), actor=Actor(who), now=T0)
               for who, category in (("ann", "it"), ("kim", "facilities"), ("ann", "facilities"), ("jade", "it"),
                                     ("kim", "it"))]
    started = [engine.transition(case.id, "triage", actor=DESK, expected_version=case.version, now=T0)
               for case in started[:4]] + started[4:]
    resolver = Actor("carl", "resolver")
    # One assigned on to a resolver and blocked, one assigned on, one claimed by the desk, two left waiting.
    moved = engine.transition(started[0].id, "in-progress", actor=DESK, expected_version=started[0].version,
                              now=later(1))
    engine.transition(moved.id, "blocked", actor=resolver, expected_version=moved.version, now=later(2))
    engine.transition(started[1].id, "in-progress", actor=Actor("dora", "service-desk"),
                      expected_version=started[1].version, now=later(1))
    [waiting] = engine.tasks(case_id=started[3].id, status=TaskStatus.OPEN, limit=10)
    engine.claim(waiting.id, actor=Actor("eve", "service-desk"), now=later(3))
    buyer = Actor("bea", "buyer")
    purchase = engine.start_case("purchase-approval", {"item": "laptop", "amount": 1800}, actor=ANN, now=T0)
    engine.transition(purchase.id, "prepare", actor=buyer, expected_version=purchase.version, now=T0)


def _pages(read, *, limit: int) -> list[int]:
    """Follow keyset pages of `limit` to the end; return the ids read, in order."""
    ids: list[int] = []
    after = 0
    while True:
        page = read(after, limit)
        ids += [item.id for item in page]
        if len(page) < limit:
            return ids
        after = page[-1].id


def test_every_person_lists_exactly_the_cases_and_tasks_the_rule_lets_them_see(engine):
    _workspace(engine)
    visibility = Visibility(engine)
    store = engine.store
    every_case = list(engine.cases(limit=1000))
    every_task = list(engine.tasks(status=None, limit=1000))
    assert len(every_case) >= 5 and len(every_task) >= 5
    partial = 0
    for person in EVERYONE:
        principal = principal_of(engine, person)
        sight = visibility.sight(principal)
        seen_cases = [case.id for case in every_case if visibility.may_see_case(principal, case)]
        seen_tasks = [task.id for task in every_task if visibility.may_see_task(principal, task)]
        assert _pages(lambda after, limit: store.cases_in_sight(sight, after_id=after, limit=limit), limit=2) \
            == seen_cases, person
        assert _pages(lambda after, limit: store.tasks_in_sight(sight, after_id=after, limit=limit), limit=2) \
            == seen_tasks, person
        partial += 0 < len(seen_cases) < len(every_case)
    # The comparison means something: some people see some cases and not others.
    assert partial >= 3


def test_a_filter_narrows_the_cases_in_sight_and_never_widens_them(engine):
    _workspace(engine)
    visibility = Visibility(engine)
    sight = visibility.sight(principal_of(engine, "kim"))
    mine = engine.store.cases_in_sight(sight, limit=100)
    assert mine and all(case.requester == "kim" or visibility.may_see_case(principal_of(engine, "kim"), case)
                        for case in mine)
    assert engine.store.cases_in_sight(sight, requester="ann", limit=100) == [
        case for case in mine if case.requester == "ann"]
    assert [case.id for case in engine.store.cases_in_sight(sight, workflow="purchase-approval", limit=100)] == [
        case.id for case in mine if case.workflow == "purchase-approval"]
