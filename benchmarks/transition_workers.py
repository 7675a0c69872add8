"""Run W Backoffice workers at once, as threads or as spawned processes, each moving its own cases.

Every worker opens its own store and warms its engine, then waits at a barrier, so that the
clock covers moving cases only, not starting Python or opening connections.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from backoffice_workload import move_cases
from engine_results import TransitionRun, WorkerShare

SPAWN = multiprocessing.get_context("spawn")
BARRIER_TIMEOUT_S = 300


def run_workers(database_kind: str, database: str, cases: Sequence[tuple[int, int]], *, workers: int,
                kind: str) -> TransitionRun:
    """Split `cases` (case id, case number) among `workers` threads or processes and time their transitions.

    Raises:
        RuntimeError: a worker process failed (its error is in the message).
    """
    slices = [list(cases[worker::workers]) for worker in range(workers)]
    if kind == "thread":
        shares = _in_threads(database, slices)
    elif kind == "process":
        shares = _in_processes(database, slices)
    else:
        raise ValueError(f"workers run as thread or process, not {kind!r}")
    return TransitionRun(database=database_kind, workers=workers, worker_kind=kind,
                         shares=tuple(sorted(shares, key=lambda share: share.worker)))


def _in_threads(database: str, slices: list[list[tuple[int, int]]]) -> list[WorkerShare]:
    barrier = threading.Barrier(len(slices), timeout=BARRIER_TIMEOUT_S)
    with ThreadPoolExecutor(max_workers=len(slices)) as pool:
        futures = [pool.submit(move_cases, database, worker, share, wait=barrier.wait)
                   for worker, share in enumerate(slices)]
        return [future.result() for future in futures]


def _in_processes(database: str, slices: list[list[tuple[int, int]]]) -> list[WorkerShare]:
    barrier = SPAWN.Barrier(len(slices), timeout=BARRIER_TIMEOUT_S)
    results = SPAWN.SimpleQueue()
    processes = [SPAWN.Process(target=_process_worker, args=(database, worker, share, barrier, results))
                 for worker, share in enumerate(slices)]
    for process in processes:
        process.start()
    # Read before joining: a child cannot exit while its result still fills the queue's pipe.
    outcomes = [results.get() for _ in processes]
    for process in processes:
        process.join()
    failures = [outcome for outcome in outcomes if isinstance(outcome, str)]
    if failures:
        raise RuntimeError("a worker process failed: " + failures[0])
    return outcomes


def _process_worker(database: str, worker: int, share: list[tuple[int, int]], barrier, results) -> None:
    try:
        results.put(move_cases(database, worker, share, wait=barrier.wait))
    except BaseException as exc:  # the parent waits for one answer per worker, so it must get one
        barrier.abort()
        results.put(f"worker {worker}: {type(exc).__name__}: {exc}")
