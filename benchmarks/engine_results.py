"""What one measured run of the engine benchmark hands back to `bench_engine.py`.

Runs happen in spawned processes (and worker threads), so these are plain frozen dataclasses
that pickle, defined in a module both sides import by name. The approval rule lives here too,
so that both engines decide every case the same way.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

CLOCK = datetime(2024, 3, 4, 9, 0, tzinfo=timezone.utc)
"""When the measured work starts (a Monday, 09:00 UTC): time is passed in, never read. Setting up (deploying,
the directory) happens at this moment; the measured calls each at their own (see `Moments`)."""


class Moments:
    """The time each measured call is given: a second after the one before, from CLOCK.

    Each call at its own moment, as in a running server: a fixed time for every call would let what the store
    remembers of a time it converted (store/precompiled.py) serve every call of the run, which no real workload
    does. `next(itertools.count())` is one step under the GIL, so client threads may share one.
    """

    def __init__(self) -> None:
        self._seconds = itertools.count()

    def __call__(self) -> datetime:
        return CLOCK + timedelta(seconds=next(self._seconds))


def approves(case_number: int) -> bool:
    """Return the reviewer's decision on the case_number-th case: three in four are approved."""
    return case_number % 4 != 3


def payload(case_number: int) -> dict[str, object]:
    """Return the request data the case_number-th case starts with, the same for both engines."""
    return {"request": f"request {case_number}", "amount": 100 + (case_number * 37) % 5000}


@dataclass(frozen=True)
class CaseRun:
    """N cases run to completion, one after another, by one engine variant.

    Attributes:
        variant: which engine and which way of driving it (see bench_engine.VARIANTS).
        cases: how many cases ran to their end.
        approved, rejected: how many ended each way, read back from the engine's own store afterwards.
        commits: how many committed write transactions the run made in all (counted, not assumed).
        commit_seconds: wall seconds spent inside the driver's COMMIT calls: mostly the disk's fsync.
        wall: seconds from the first case's start to the last case's end.
        cpu: this process's CPU seconds (user + system) over the same span.
        setup: seconds spent before the clock started (opening the database, deploying or parsing).
    """

    variant: str
    cases: int
    approved: int
    rejected: int
    commits: int
    commit_seconds: float
    wall: float
    cpu: float
    setup: float

    @property
    def cases_per_second(self) -> float:
        return self.cases / self.wall if self.wall else 0.0

    @property
    def commits_per_case(self) -> float:
        return self.commits / self.cases if self.cases else 0.0

    @property
    def commit_ms_per_case(self) -> float:
        return 1000 * self.commit_seconds / self.cases if self.cases else 0.0

    @property
    def cpu_ms_per_case(self) -> float:
        return 1000 * self.cpu / self.cases if self.cases else 0.0


@dataclass(frozen=True)
class WorkerShare:
    """What one worker did in a transitions run: each transition's latency, and when it worked.

    `started` and `finished` are time.perf_counter() readings: on Linux a system-wide monotonic
    clock, so the readings of several processes can be compared.
    """

    worker: int
    latencies: tuple[float, ...]
    started: float
    finished: float


@dataclass(frozen=True)
class TransitionRun:
    """Backoffice transitions by W concurrent workers on one database."""

    database: str          # "sqlite" or "postgresql"
    workers: int
    worker_kind: str       # "thread" or "process"
    shares: tuple[WorkerShare, ...]

    @property
    def transitions(self) -> int:
        return sum(len(share.latencies) for share in self.shares)

    @property
    def wall(self) -> float:
        return max(s.finished for s in self.shares) - min(s.started for s in self.shares)

    @property
    def per_second(self) -> float:
        return self.transitions / self.wall if self.wall else 0.0

    def percentile_ms(self, percent: float) -> float:
        """Return the latency below which `percent` % of the transitions finished (nearest rank), in ms."""
        ordered = sorted(latency for share in self.shares for latency in share.latencies)
        if not ordered:
            return 0.0
        rank = max(math.ceil(percent / 100 * len(ordered)), 1)
        return 1000 * ordered[rank - 1]
