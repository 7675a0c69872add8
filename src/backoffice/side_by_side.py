"""Independent jobs over large arrays run two at a time, their answers in the order asked.

numpy's sorts and gathers, Arrow's kernels and the Parquet decoder let go of the GIL while
they work, so two such jobs on two threads use two cores. The jobs are taken in list order
as a thread comes free, and each answer lands in its job's place: the result never depends
on which thread finished first. A plain thread rather than concurrent.futures, as in
`backoffice.mapping.beside`: that package imports logging for a pool used for one batch.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

# The caller's thread and one more: the machines measured have two cores, and every
# running job holds its temporaries, so a third would add memory for no core.
THREADS = 2


def side_by_side(jobs: Sequence[Callable[[], Any]]) -> list[Any]:
    """Run the jobs, two at a time, and return their answers in the jobs' order.

    Every job runs even when another fails, so that no thread is left working once this
    returns; then the error of the first failing job in list order is raised, the one
    running them one after the other would have raised. One job, or one core, runs them
    on the caller's thread alone.
    """
    if len(jobs) < 2 or (os.cpu_count() or 1) < 2:
        return [job() for job in jobs]
    answers: list[Any] = [None] * len(jobs)
    errors: list[BaseException | None] = [None] * len(jobs)
    taken = iter(range(len(jobs)))
    lock = threading.Lock()
    stop = threading.Event()

    def work() -> None:
        while not stop.is_set():
            with lock:
                index = next(taken, None)
            if index is None:
                return
            try:
                answers[index] = jobs[index]()
            except BaseException as exc:  # noqa: BLE001 (raised by the caller, in list order)
                errors[index] = exc

    helpers = [threading.Thread(target=work, name="side-by-side", daemon=True) for _ in range(THREADS - 1)]
    for helper in helpers:
        helper.start()
    try:
        work()
    finally:
        stop.set()  # interrupted: the other thread takes no further job
        for helper in helpers:
            helper.join()
    for error in errors:
        if error is not None:
            raise error
    return answers
