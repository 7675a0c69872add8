"""Human tasks in work queues: made on entering a state, claimed by one worker at a time, completed once."""

from __future__ import annotations

import importlib
import multiprocessing
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest
import sqlalchemy as sa

from backoffice.engine import Actor, Engine
from backoffice.engine.tasks import TaskKind, TaskStatus
from backoffice.errors import (NotEligibleForTask, RoleNotHeld, RoleRequired, TaskAlreadyClaimed, TaskClosed,
                               TaskNotClaimed, UnknownTask)
from backoffice.store.tables import events

from ..directory_fixtures import seed
from .service_request import ANN, DESK, RESOLVER, later, payload

BOB = DESK
DORA = Actor("dora", "service-desk")
HOUR = timedelta(hours=1)


def triaged(engine: Engine, **changes: object):
    case = engine.start_case("service-request", payload(**changes), actor=ANN, now=later(0))
    return engine.transition(case.id, "triage", actor=DESK, expected_version=case.version, now=later(0))


def test_entering_a_human_task_state_makes_a_task_in_its_queue_due_at_the_resolution_sla(deployed):
    case = triaged(deployed)
    [task] = deployed.tasks(case_id=case.id)
    assert (task.kind, task.status, task.queue, task.role, task.state) == \
        (TaskKind.WORK, TaskStatus.OPEN, "service-desk", "service-desk", "triage")
    # 3 business days of 08:30-17:30 Amsterdam from Monday 09:00 UTC (10:00 local): Thursday 10:00 local.
    assert task.due_at.isoformat() == "2024-03-07T09:00:00+00:00"


def test_claim_by_two_workers_gives_the_task_to_one(deployed):
    task = deployed.tasks(case_id=triaged(deployed).id)[0]
    assert deployed.claim(task.id, actor=BOB, now=later(1), lease=HOUR).claimed_by == "bob"
    with pytest.raises(TaskAlreadyClaimed, match=r"task \d+ is claimed by bob until"):
        deployed.claim(task.id, actor=DORA, now=later(1.5), lease=HOUR)


def test_an_expired_claim_lets_another_worker_take_the_task(deployed):
    task = deployed.tasks(case_id=triaged(deployed).id)[0]
    deployed.claim(task.id, actor=BOB, now=later(1), lease=HOUR)
    assert deployed.next_task("service-desk", actor=DORA, now=later(1.5)) is None
    taken = deployed.next_task("service-desk", actor=DORA, now=later(2.5), lease=HOUR)
    assert (taken.id, taken.claimed_by) == (task.id, "dora")
    with pytest.raises(TaskNotClaimed, match="bob does not hold the claim"):
        deployed.complete(task.id, actor=BOB, now=later(2.6), to="in-progress")


def test_next_gives_the_most_urgent_task_the_actor_may_take(deployed):
    normal = triaged(deployed)
    urgent = triaged(deployed, urgency="high")
    assert deployed.next_task("service-desk", actor=RESOLVER, now=later(1)) is None
    first = deployed.next_task("service-desk", actor=BOB, now=later(1))
    second = deployed.next_task("service-desk", actor=DORA, now=later(1))
    assert (first.case_id, second.case_id) == (urgent.id, normal.id)
    assert deployed.next_task("service-desk", actor=Actor("eve", "service-desk"), now=later(1)) is None


def test_complete_moves_the_case_and_closes_the_task_in_one_go(deployed):
    case = triaged(deployed)
    task = deployed.claim(deployed.tasks(case_id=case.id)[0].id, actor=BOB, now=later(1), lease=2 * HOUR)
    done = deployed.complete(task.id, actor=BOB, now=later(2), to="in-progress")
    assert (done.status, done.closed_by) == (TaskStatus.COMPLETED, "bob")
    assert deployed.case(case.id).state == "in-progress"
    [resolver_task] = deployed.tasks(case_id=case.id)
    assert (resolver_task.queue, resolver_task.state) == ("resolver-groups", "in-progress")
    assert deployed.history(case.id)[-1].attributes["task_id"] == task.id
    with pytest.raises(TaskClosed, match="is completed"):
        deployed.complete(task.id, actor=BOB, now=later(3), to="in-progress")


def test_release_and_reassign_drop_the_claim(deployed):
    task = deployed.tasks(case_id=triaged(deployed).id)[0]
    deployed.claim(task.id, actor=BOB, now=later(1))
    with pytest.raises(TaskNotClaimed):
        deployed.release(task.id, actor=DORA, now=later(1))
    assert deployed.release(task.id, actor=BOB, now=later(1)).claimed_by is None
    seed(deployed, {"lead": ["team-lead"]})
    moved = deployed.reassign(task.id, actor=Actor("lead", "team-lead"), now=later(1), person="dora")
    assert (moved.assignee, moved.claimed_by) == ("dora", None)
    with pytest.raises(NotEligibleForTask, match="is for person dora"):
        deployed.claim(task.id, actor=BOB, now=later(1))
    with pytest.raises(UnknownTask, match="no task 999"):
        deployed.claim(999, actor=BOB, now=later(1))


def test_only_a_lead_reassigns_a_task_whichever_interface_asks(deployed):
    """The rule lives in the engine: a desk worker holding the task's own role is refused, a team lead is not."""
    task = deployed.tasks(case_id=triaged(deployed).id)[0]
    with pytest.raises(RoleRequired, match="bob may not reassign the tasks of service-request.*team-lead"):
        deployed.reassign(task.id, actor=DESK, now=later(1), person="bob")
    assert deployed.task(task.id).assignee is None
    assert not deployed.may_reassign(task.id, actor=DESK, now=later(1))
    seed(deployed, {"lead": ["team-lead"]})
    assert deployed.may_reassign(task.id, actor=Actor("lead"), now=later(1))
    # A role merely claimed counts for nothing: the directory does not grant bob team-lead.
    with pytest.raises(RoleNotHeld):
        deployed.reassign(task.id, actor=Actor("bob", "team-lead"), now=later(1), person="bob")
    assert deployed.reassign(task.id, actor=Actor("lead"), now=later(1), queue="service-desk").queue == "service-desk"


def test_a_transition_by_hand_cancels_the_open_task_of_the_state_left(deployed):
    case = triaged(deployed)
    deployed.transition(case.id, "cancelled", actor=ANN, expected_version=case.version, now=later(1))
    assert deployed.tasks(case_id=case.id) == []
    assert deployed.tasks(case_id=case.id, status=TaskStatus.CANCELLED)[0].state == "triage"


TASKS = 2000
WORKERS = 16


def _drain():
    folder = str(Path(__file__).parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return importlib.import_module("queue_worker").drain


def test_sixteen_workers_drain_2000_tasks_each_completed_exactly_once(deployed, database, store, capsys):
    seed(deployed, {f"worker-{worker}": ("service-desk",) for worker in range(WORKERS)})
    for _ in range(TASKS):
        triaged(deployed)
    drain = _drain()
    started = time.perf_counter()
    if store.engine.dialect.name == "sqlite":
        with ThreadPoolExecutor(WORKERS) as pool:
            done = list(pool.map(partial(drain, database, engine=deployed), range(WORKERS)))
    else:
        with multiprocessing.get_context("spawn").Pool(WORKERS) as pool:
            done = pool.map(partial(drain, database), range(WORKERS))
    elapsed = time.perf_counter() - started
    completed = [task_id for worker in done for task_id in worker]
    with store.engine.connect() as connection:
        attributes = connection.execute(sa.select(events.c.attributes)).scalars().all()
    per_task = Counter(a["task_id"] for a in attributes if "task_id" in a)
    with capsys.disabled():
        print(f"\n{store.engine.dialect.name}: {WORKERS} workers completed {len(completed)} tasks in {elapsed:.1f} s "
              f"({len(completed) / elapsed:.0f}/s); busiest worker {max(map(len, done))}, "
              f"idlest {min(map(len, done))}")
    assert len(completed) == len(set(completed)) == TASKS
    assert len(per_task) == TASKS and set(per_task.values()) == {1}
    assert deployed.tasks(queue="service-desk") == []
    assert len(deployed.tasks(queue="resolver-groups", limit=TASKS + 1)) == TASKS
