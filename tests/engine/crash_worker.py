"""A worker process for the crash test: runs the outbox with the webhook action on a clock of its own.

    python crash_worker.py DATABASE ENDPOINT_URL CLOCK_START CLOCK_END --action notify_desk --lease-seconds 300

It loops `Worker.run_once(now)` with the built-in webhook action posting to ENDPOINT_URL, the
way `backoffice worker` does, except for the clock: time is passed in, so `now` starts at
CLOCK_START (ISO 8601) and moves on by one second per loop. It never reaches CLOCK_END, so
every lease it takes runs out before CLOCK_END + lease: a worker started after that sees the
entries of this one as due if this one is killed. The test kills it with SIGKILL; left alone
it stops once no step of its action is pending or running.

With --standby it imports and sets up, then waits for a line on its standard input before its
first loop: the test starts the next worker while the current one runs, so that the second of
start-up a restart costs overlaps with the work, and lets it go once the current one is dead.

Run as a script (the test starts it with `sys.executable`), so it has no relative imports.

Exit status: 0 when the steps are settled, 3 when the clock reached CLOCK_END first, 4 when a
standby worker's input closed before it was let go (the test is over).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from datetime import datetime, timedelta

from backoffice.engine import Engine
from backoffice.engine.actions import ActionRegistry
from backoffice.engine.outbox import OutboxStatus
from backoffice.engine.webhook import webhook_action
from backoffice.engine.worker import Worker
from backoffice.store import SqlStore

TICK = timedelta(seconds=1)
CLOCK_SPENT = 3
NEVER_LET_GO = 4


def unsettled(engine: Engine, action: str) -> bool:
    """Whether a step of `action` still waits for a worker: pending (perhaps for a later retry) or running.

    Other entries of the outbox (notifications, which this worker has no action for) are not its business.
    """
    for status in (OutboxStatus.PENDING, OutboxStatus.RUNNING):
        after = 0
        while page := engine.outbox(status=status, after_id=after, limit=500):
            if any(entry.action == action for entry in page):
                return True
            after = page[-1].id
    return False


def run(database: str, endpoint: str, start: datetime, end: datetime, *, action: str, lease: timedelta,
        batch: int, standby: bool = False) -> int:
    """Run the worker from `start` until the steps are settled (0) or the clock reaches `end` (3).

    With `standby`, wait for a line on standard input first (4 when it closes instead).
    """
    registry = ActionRegistry()
    registry.register(action, webhook_action(endpoint))
    # The test migrated the database already: a killed worker must not leave a migration half done.
    engine = Engine(SqlStore.open(database, upgrade=False))
    # The pid in the name tells the workers of one run apart, as `backoffice worker` does.
    # The suite's worker account (tests/directory_fixtures.py seeds it with the worker role).
    worker = Worker(engine, registry, account="svc-worker", name=f"crash-worker-{os.getpid()}", rng=random.Random(os.getpid()),
                    lease=lease, batch=batch)
    now = start
    try:
        if standby and not sys.stdin.readline():
            return NEVER_LET_GO
        while now + TICK < end:
            report = worker.run_once(now)
            if not report.claimed and not unsettled(engine, action):
                return 0
            now += TICK
        print(f"the clock reached {end.isoformat()} with steps of {action} not settled", file=sys.stderr)
        return CLOCK_SPENT
    finally:
        engine.store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", help="SQLite file path or PostgreSQL URL")
    parser.add_argument("endpoint", help="URL the webhook action posts to")
    parser.add_argument("clock_start", type=datetime.fromisoformat)
    parser.add_argument("clock_end", type=datetime.fromisoformat)
    parser.add_argument("--action", required=True, help="the action name the automated step uses")
    parser.add_argument("--lease-seconds", type=float, required=True)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--standby", action="store_true", help="wait for a line on standard input to start")
    options = parser.parse_args(argv)
    return run(options.database, options.endpoint, options.clock_start, options.clock_end, action=options.action,
               lease=timedelta(seconds=options.lease_seconds), batch=options.batch, standby=options.standby)


if __name__ == "__main__":
    sys.exit(main())
