"""Speed of My work's task search (`readmodels.work.my_work`) on a large tasks table: a report, not a test.

    python benchmarks/bench_work_search.py                                  # SQLite, 100,000 open tasks
    python benchmarks/bench_work_search.py --tasks 20000 --database postgresql+psycopg://...

The purchase approval is deployed through the engine; its cases and open tasks are then written
straight into the tables in batches (no events or audit records: this measures the search, not
intake). The tasks spread over 20 queues, so a clerk of one queue may see about 1 in 20 of them.
Each search runs `--repeat` times for a clerk, for a clerk with a text filter, for a clerk's own
held tasks, and for a team lead's search of another queue; the report gives p50 and p95 in ms.
The target is a p95 under 150 ms for each.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

from backoffice.engine import Engine
from backoffice.engine.worklist import Viewer
from backoffice.readmodels.work import filter_from_query, my_work
from backoffice.store import SqlStore
from backoffice.store.tables import cases, tasks, workflow_versions

ROOT = Path(__file__).resolve().parents[1]
PURCHASE = ROOT / "tests" / "engine" / "purchase-approval.yaml"
T0 = datetime(2024, 3, 4, 9, 0, tzinfo=timezone.utc)
QUEUES = [f"queue-{n:02d}" for n in range(20)]
ITEMS = ["laptop", "chair", "desk", "monitor", "phone", "licence", "printer", "headset"]
BATCH = 5000
TARGET_MS = 150.0


def fill(store: SqlStore, count: int, seed: int) -> None:
    """Write `count` cases, each with one open task in one of QUEUES, some held by clerk-1."""
    rng = random.Random(seed)
    with store.engine.begin() as connection:
        version_id = connection.execute(sa.select(workflow_versions.c.id)).scalar()
    for start in range(0, count, BATCH):
        size = min(BATCH, count - start)
        case_rows, task_rows = [], []
        for offset in range(size):
            created = T0 + timedelta(minutes=start + offset)
            queue = rng.choice(QUEUES)
            case_rows.append(dict(workflow="purchase-approval", definition_version=1, workflow_version_id=version_id,
                                  state="prepare", previous_state="new",
                                  data={"item": rng.choice(ITEMS), "amount": rng.randint(10, 5000)},
                                  priority="normal", queue=queue, owner=None, requester=f"requester-{offset % 500}",
                                  version=2, created_at=created, updated_at=created))
        with store.engine.begin() as connection:
            first_id = connection.execute(sa.select(sa.func.coalesce(sa.func.max(cases.c.id), 0))).scalar() + 1
            connection.execute(sa.insert(cases), case_rows)
            for offset, row in enumerate(case_rows):
                held = rng.random() < 0.002
                task_rows.append(dict(case_id=first_id + offset, workflow="purchase-approval", state="prepare", round=2,
                                      kind="work", status="open", queue=row["queue"], role="buyer", assignee=None,
                                      priority="normal", priority_rank=1,
                                      due_at=row["created_at"] + timedelta(hours=rng.randint(1, 200)),
                                      created_at=row["created_at"], claimed_by="clerk-1" if held else None,
                                      claimed_at=T0 if held else None,
                                      claim_expires_at=T0 + timedelta(days=3650) if held else None,
                                      escalated=False))
            connection.execute(sa.insert(tasks), task_rows)
    # A live database has statistics (autovacuum, or SQLite's ANALYZE); rows loaded this fast have none yet.
    with store.engine.begin() as connection:
        connection.execute(sa.text("ANALYZE"))


def timed(run, repeat: int) -> tuple[float, float, int]:
    durations, found = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        found = len(run())
        durations.append((time.perf_counter() - started) * 1000)
    durations.sort()
    return statistics.median(durations), durations[max(0, int(len(durations) * 0.95) - 1)], found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--database", help="a database URL (default: a SQLite file in a temporary folder)")
    parser.add_argument("--seed", type=int, default=7)
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        store = SqlStore.open(options.database or str(Path(folder) / "bench.db"))
        engine = Engine(store)
        engine.bootstrap("admin", now=T0)
        engine.deploy(PURCHASE, actor="admin", now=T0)
        started = time.perf_counter()
        fill(store, options.tasks, options.seed)
        print(f"{options.tasks:,} open tasks written in {time.perf_counter() - started:.1f} s "
              f"({store.engine.dialect.name})")
        now = T0 + timedelta(days=1)
        clerk = Viewer(person="clerk-1", roles=("buyer",), queues=(QUEUES[3],))
        narrow = Viewer(person="clerk-1", roles=(), queues=(QUEUES[3],))
        lead = Viewer(person="lead", roles=("team-lead",), queues=tuple(QUEUES))
        searches = {
            "clerk, role and queue": lambda: my_work(engine, clerk, filter_from_query({}), now=now),
            "clerk's queue, text": lambda: my_work(engine, narrow, filter_from_query({"q": "monitor"}), now=now),
            "clerk, held by me": lambda: my_work(engine, clerk, filter_from_query({"scope": "mine"}), now=now),
            "lead, one queue, due": lambda: my_work(engine, lead, filter_from_query(
                {"queue": QUEUES[7], "due_before": "2024-03-10"}), now=now),
        }
        failed = False
        for name, run in searches.items():
            p50, p95, found = timed(run, options.repeat)
            verdict = "PASS" if p95 < TARGET_MS else "FAIL"
            failed |= verdict == "FAIL"
            print(f"{name:<24} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms   {found:>4} rows   {verdict}")
        store.close()
    print(f"target: p95 under {TARGET_MS:.0f} ms for each search: {'FAIL' if failed else 'PASS'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
