"""The Backoffice side of the engine benchmark: the approval process, run through the public Engine API.

Each call below is one committed store transaction of the engine's own (the state, its event,
its tasks and its audit record together); nothing here reaches around the engine to the
database. Two ways to drive a case, both counted by their commits:

- `queue` (as a reviewer works): start_case; accept (received -> review, which opens the
  review task in the reviewers' queue); next_task (the reviewer claims it); complete (to
  approved or rejected, by the guards that read `approved`). Four commits.
- `transitions`: start_case; accept; a transition by hand to approved or rejected (which
  cancels the open review task). Three commits, as many as SpiffWorkflow makes.
- `grouped` (a server with many requests in flight): the queue-style steps of each case, sent by
  GROUP_CLIENTS concurrent clients through one GroupCommitter, which commits the steps waiting
  at the same moment in one transaction; every step is durable before its client goes on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from backoffice.engine import Actor, Engine
from backoffice.engine.tasks import TaskStatus
from backoffice.store import SqlStore
from backoffice.store.group_commit import GroupCommitter

from engine_results import CLOCK, CaseRun, Moments, WorkerShare, approves, payload

DEFINITION = Path(__file__).resolve().parent / "engine_processes" / "approval.yaml"
WORKFLOW = "benchmark-approval"
QUEUE = "reviews"
REQUESTER = Actor("ann")
REVIEWER = Actor("rita", "reviewer")
LEASE = timedelta(hours=1)
GROUP_CLIENTS = 16
"""Concurrent clients of the grouped variant: the requests in flight at a server or worker under load."""


class CommitCounter:
    """Count a store's committed transactions, and the seconds spent in the driver's COMMIT (the disk's share).

    It wraps the dialect's do_commit of this one SQLAlchemy engine: reads end in a rollback
    and are not counted. Nothing else about the engine's transactions changes.
    """

    def __init__(self, store: SqlStore) -> None:
        self.commits = 0
        self.seconds = 0.0
        dialect = store.engine.dialect
        commit = dialect.do_commit

        def timed_commit(dbapi_connection) -> None:
            started = time.perf_counter()
            try:
                commit(dbapi_connection)
            finally:
                self.seconds += time.perf_counter() - started
                self.commits += 1

        dialect.do_commit = timed_commit


MAX_WORKERS = 64
"""Reviewers reviewer-0 to reviewer-63 are in the directory: enough for any worker count benchmarked."""


def open_engine(database: str, *, deploy: bool) -> Engine:
    """Open the store (migrating it) and return an engine over it, with the approval definition deployed.

    Deploying also fills the directory (once): the lead as its administrator, the requester, and
    the reviewers holding `reviewer`; the engine establishes every actor from it.
    """
    engine = Engine(SqlStore.open(database))
    if deploy:
        seed_directory(engine)
        engine.deploy(DEFINITION, actor="lead", now=CLOCK)
    return engine


def seed_directory(engine: Engine) -> None:
    """Add the workload's people to an empty directory (a directory with people is left as it is)."""
    if engine.store.count_people():
        return
    engine.bootstrap("lead", now=CLOCK)
    engine.add_person(REQUESTER.id, name="Ann", actor="lead", now=CLOCK)
    for reviewer in (REVIEWER.id, *(f"reviewer-{worker}" for worker in range(MAX_WORKERS))):
        engine.add_person(reviewer, name=reviewer, actor="lead", now=CLOCK)
        engine.grant("reviewer", to=reviewer, actor="lead", now=CLOCK)


def decided_state(case_number: int) -> str:
    return "approved" if approves(case_number) else "rejected"


def run_cases(database: str, cases: int, *, queue: bool = True) -> CaseRun:
    """Run `cases` approval cases to their end, one after another.

    Raises:
        RuntimeError: a case did not end where its decision says, or the reviewer got another case's task.
    """
    setup_started = time.perf_counter()
    engine = open_engine(database, deploy=True)
    engine.running(WORKFLOW, 1)   # the definition is built once per engine, as a long-running server would
    counter = CommitCounter(engine.store)
    setup = time.perf_counter() - setup_started

    now = Moments()
    wall_started, cpu_started = time.perf_counter(), time.process_time()
    for number in range(cases):
        case = engine.start_case(WORKFLOW, payload(number), actor=REQUESTER, now=now())
        case = engine.transition(case.id, "review", actor=REVIEWER, expected_version=case.version, now=now())
        decision = {"approved": approves(number)}
        if queue:
            task = engine.next_task(QUEUE, actor=REVIEWER, now=now(), lease=LEASE)
            if task is None or task.case_id != case.id:
                raise RuntimeError(f"the reviewer was given {task!r}, not the review of case {case.id}")
            engine.complete(task.id, actor=REVIEWER, now=now(), to=decided_state(number), data=decision)
        else:
            engine.transition(case.id, decided_state(number), actor=REVIEWER, expected_version=case.version,
                              now=now(), data=decision)
    wall = time.perf_counter() - wall_started
    cpu = time.process_time() - cpu_started

    commits, commit_seconds = counter.commits, counter.seconds
    approved, rejected = _ends(engine, cases)
    engine.store.close()
    return CaseRun(variant="backoffice-queue" if queue else "backoffice-transitions", cases=cases,
                   approved=approved, rejected=rejected, commits=commits, commit_seconds=commit_seconds, wall=wall,
                   cpu=cpu, setup=setup)


def run_cases_grouped(database: str, cases: int, *, clients: int = GROUP_CLIENTS) -> CaseRun:
    """Run `cases` queue-style cases to their end, `clients` at a time, every step through one group committer.

    Each client waits for each step to be committed before it sends the next (`GroupCommitter.run`):
    the same four durable steps a case as `run_cases(queue=True)`, with the commits shared.

    Raises:
        RuntimeError: a case did not end where its decision says, or its review task was missing.
    """
    setup_started = time.perf_counter()
    engine = open_engine(database, deploy=True)
    engine.running(WORKFLOW, 1)
    counter = CommitCounter(engine.store)
    committer = GroupCommitter(engine.store)
    setup = time.perf_counter() - setup_started
    now = Moments()

    def review_task_claimed(case_id: int):
        # The reviewer opens this case's task (clients share the queue, so "next" would mix them up).
        [task] = engine.store.tasks(case_id=case_id, status=TaskStatus.OPEN, limit=2)
        return engine.claim(task.id, actor=REVIEWER, now=now(), lease=LEASE)

    def one_case(number: int) -> None:
        case = committer.run(lambda: engine.start_case(WORKFLOW, payload(number), actor=REQUESTER, now=now()))
        case = committer.run(lambda: engine.transition(case.id, "review", actor=REVIEWER,
                                                       expected_version=case.version, now=now()))
        task = committer.run(lambda: review_task_claimed(case.id))
        committer.run(lambda: engine.complete(task.id, actor=REVIEWER, now=now(), to=decided_state(number),
                                              data={"approved": approves(number)}))

    wall_started, cpu_started = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        for done in [pool.submit(one_case, number) for number in range(cases)]:
            done.result()
    committer.close()
    wall = time.perf_counter() - wall_started
    cpu = time.process_time() - cpu_started

    approved, rejected = _ends(engine, cases)
    engine.store.close()
    return CaseRun(variant="backoffice-grouped", cases=cases, approved=approved, rejected=rejected,
                   commits=counter.commits, commit_seconds=counter.seconds, wall=wall, cpu=cpu, setup=setup)


def _ends(engine: Engine, cases: int) -> tuple[int, int]:
    """Count the cases in each end state, from the store; refuse a run that left a case elsewhere."""
    approved, rejected = ends(engine)
    if approved + rejected != cases:
        raise RuntimeError(f"{cases} cases ran, but {approved} were approved and {rejected} rejected")
    return approved, rejected


def ends(engine: Engine) -> tuple[int, int]:
    """Return how many cases of the benchmark workflow are approved, and how many rejected."""
    counts = []
    for state in ("approved", "rejected"):
        counted, after = 0, 0
        while page := engine.cases(workflow=WORKFLOW, state=state, after_id=after, limit=500):
            counted += len(page)
            after = page[-1].id
        counts.append(counted)
    return counts[0], counts[1]


def count_ends(database: str) -> tuple[int, int]:
    """Open the database and return how many benchmark cases are approved, and how many rejected."""
    engine = Engine(SqlStore.open(database, upgrade=False))
    try:
        return ends(engine)
    finally:
        engine.store.close()


# --- the transitions benchmark: cases started beforehand, moved by concurrent workers ---

def start_cases(database: str, cases: int) -> list[int]:
    """Deploy the definition and start `cases` cases (left in `received`); return their ids in order."""
    engine = open_engine(database, deploy=True)
    try:
        return [engine.start_case(WORKFLOW, payload(number), actor=REQUESTER, now=CLOCK).id
                for number in range(cases)]
    finally:
        engine.store.close()


def move_cases(database: str, worker: int, cases: Sequence[tuple[int, int]], *,
               wait: Callable[[], object] | None = None) -> WorkerShare:
    """Move each (case id, case number) twice, received -> review -> decided, timing every transition.

    `wait` (a barrier's wait) is called once the engine is open and warm, so that every worker
    starts moving cases at the same moment. Each worker has its own cases: no two workers race
    for one case, but all of them share the database, its write lock and the audit chain head.
    """
    # Each worker has its own store and connection pool, as a separate process would.
    engine = Engine(SqlStore.open(database, upgrade=False))
    reviewer = Actor(f"reviewer-{worker}", "reviewer")
    engine.running(WORKFLOW, 1)
    latencies: list[float] = []
    now = Moments()
    if wait is not None:
        wait()
    started = time.perf_counter()
    try:
        for case_id, number in cases:
            version = 1   # a case is at version 1 when started (Case.version)
            for to, data in (("review", None), (decided_state(number), {"approved": approves(number)})):
                before = time.perf_counter()
                version = engine.transition(case_id, to, actor=reviewer, expected_version=version, now=now(),
                                            data=data).version
                latencies.append(time.perf_counter() - before)
        finished = time.perf_counter()
    finally:
        engine.store.close()
    return WorkerShare(worker=worker, latencies=tuple(latencies), started=started, finished=finished)
