"""Two requests at once that were each checked before the other wrote: the second is checked after the first.

Each operation here checked who may act (or on what) and then opened the transaction that
wrote. Two requests sent at the same moment were both checked against the state before
either: both written. A hook holds each request at the door of its transaction until the
other has done its checks outside, so the interleaving is the same on every run (no sleep):
before the fix both got through; now the checks run inside the transaction, one request
after the other, and the second is refused. On both databases.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from backoffice.engine import Actor, Engine
from backoffice.engine.directory import ADMINISTRATOR
from backoffice.errors import BackofficeError

from .spend import ADMIN, T0, deployed, engine, in_approval, later  # noqa: F401


@contextmanager
def held_at_the_door(engine: Engine, parties: int):
    """Hold each thread's first transaction until every one of `parties` threads has reached its own."""
    barrier = threading.Barrier(parties, timeout=30)
    seen = threading.local()
    opened = engine.store.transaction

    def transaction():
        if not getattr(seen, "waited", False):
            seen.waited = True
            barrier.wait()
        return opened()

    engine.store.transaction = transaction
    try:
        yield
    finally:
        engine.store.transaction = opened


def at_once(engine: Engine, *calls: Callable[[], object]) -> list[object]:
    """Run the calls in threads, each held at its transaction's door until all are there; return answers or refusals."""
    def run(call: Callable[[], object]) -> object:
        try:
            return call()
        except BackofficeError as refused:
            return refused

    with held_at_the_door(engine, len(calls)), ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def refused(answers: list[object]) -> list[BackofficeError]:
    return [answer for answer in answers if isinstance(answer, BackofficeError)]


def test_two_managers_delegating_one_approval_task_at_once_hand_it_on_once(engine):
    case = in_approval(deployed(engine))           # approve-large: a manager's task and a controller's
    [task] = [t for t in engine.tasks(case_id=case.id) if t.role == "manager"]
    answers = at_once(engine,
                      lambda: engine.delegate(case.id, actor=Actor("erin", "manager"), to="carol", now=later(3)),
                      lambda: engine.delegate(case.id, actor=Actor("mallory", "manager"), to="root", now=later(3)))
    # The second was checked on the task the first had already handed on: it is no longer theirs to give.
    assert len(refused(answers)) == 1, answers
    [given] = [answer for answer in answers if not isinstance(answer, BackofficeError)]
    assert engine.task(task.id).assignment.assignee == given.assignment.assignee
    delegations = [r for r in engine.store.audit_records(chain=f"case:{case.id}") if r.action == "approval.delegated"]
    assert len(delegations) == 1


def two_administrators(engine: Engine) -> None:
    """Leave ada and max the directory's only administrators."""
    for person in ("ada", "max"):
        engine.add_person(person, name=person.title(), actor=ADMIN, now=T0)
        engine.grant(ADMINISTRATOR, to=person, actor=ADMIN, now=T0)
    for other in administrators(engine) - {"ada", "max"}:
        engine.grant(ADMINISTRATOR, to=other, actor="ada", now=T0, revoke=True)
    assert administrators(engine) == {"ada", "max"}


def administrators(engine: Engine) -> set[str]:
    return {person.id for person in engine.store.people() if person.active
            and ADMINISTRATOR in engine.roles_of(person.id)}


def test_two_administrators_deactivating_each_other_at_once_leave_one(engine):
    two_administrators(engine)
    answers = at_once(engine,
                      lambda: engine.set_active("max", False, actor="ada", now=later(1)),
                      lambda: engine.set_active("ada", False, actor="max", now=later(1)))
    assert len(refused(answers)) == 1, answers
    assert len(administrators(engine)) == 1


def test_two_administrators_revoking_each_other_at_once_leave_one(engine):
    two_administrators(engine)
    answers = at_once(engine,
                      lambda: engine.grant(ADMINISTRATOR, to="max", actor="ada", now=later(1), revoke=True),
                      lambda: engine.grant(ADMINISTRATOR, to="ada", actor="max", now=later(1), revoke=True))
    assert len(refused(answers)) == 1, answers
    assert len(administrators(engine)) == 1
