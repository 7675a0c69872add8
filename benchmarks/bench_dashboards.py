"""How fast the dashboards read at scale: 100,000 cases and 1 million events in PostgreSQL (a report, not a test).

    python benchmarks/bench_dashboards.py [--cases 100000] [--runs 7] [--url postgresql+psycopg://...]

The cases and their events are written in bulk by SQL (`generate_series`) into a fresh schema,
dropped after: a year of service requests, ten events each (accepted, assigned, a wait on the
requester, a block, resolved), 80% done, the rest open in every state, with SLA pauses, open
tasks held by forty people and exceptions. Each read model of the dashboard is then timed over
the last 12 weeks, and the whole dashboard (one transaction, as the page reads it), read
afresh and as the page serves it within five minutes of a read (ops/dashboard_cache.py); the
figures printed are the median and the 95th percentile of the runs, against the issue's
150 ms for the page. Always exits 0.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine_databases import DEFAULT_POSTGRES_URL, fresh_postgres_schema, postgres_unavailable  # noqa: E402

from backoffice.definitions import LIBRARY  # noqa: E402
from backoffice.engine import Engine  # noqa: E402
from backoffice.ops.dashboard import read_dashboard  # noqa: E402
from backoffice.ops.dashboard_cache import RecentReads  # noqa: E402
from backoffice.ops.exception_trend import exceptions_by_reason  # noqa: E402
from backoffice.ops.flow import throughput, time_in_state  # noqa: E402
from backoffice.ops.scope import Scope, Window  # noqa: E402
from backoffice.ops.sla_attainment import sla_attainment  # noqa: E402
from backoffice.ops.workload import age_profile, backlog, work_in_progress  # noqa: E402
from backoffice.store import SqlStore  # noqa: E402

NOW = datetime(2024, 12, 18, 12, 0, tzinfo=timezone.utc)
TARGET_MS = 150.0
STEPS = """(VALUES (0, 'new', NULL, 'new'), (1, 'accept', 'new', 'triage'),
  (2, 'assign', 'triage', 'in-progress'), (3, 'ask requester', 'in-progress', 'waiting-on-requester'),
  (4, 'requester answered', 'waiting-on-requester', 'triage'),
  (5, 'assign', 'triage', 'in-progress'), (6, 'block', 'in-progress', 'blocked'),
  (7, 'unblock', 'blocked', 'in-progress'), (8, 'comment', 'in-progress', 'in-progress'),
  (9, 'resolve', 'in-progress', 'done')) AS s(k, activity, from_state, to_state)"""


def fill(store: SqlStore, cases: int) -> None:
    """Write `cases` service requests over the year before NOW, ten events each, in bulk."""
    engine = Engine(store)
    engine.bootstrap("root", now=NOW - timedelta(days=400))
    engine.deploy(LIBRARY / "service-request.yaml", actor="root", now=NOW - timedelta(days=400))
    statements = [
        f"""INSERT INTO people (id, name, active, created_at, updated_at)
            SELECT 'person-' || g, 'Person ' || g, true, :now, :now FROM generate_series(1, 40) g""",
        f"""INSERT INTO cases (id, workflow, definition_version, workflow_version_id, state, data, priority, queue,
                requester, version, created_at, updated_at)
            SELECT g, 'service-request', 1, (SELECT id FROM workflow_versions LIMIT 1),
              CASE WHEN g % 100 < 80 THEN 'done' WHEN g % 100 < 84 THEN 'cancelled'
                   WHEN g % 100 < 90 THEN 'triage' WHEN g % 100 < 95 THEN 'in-progress'
                   WHEN g % 100 < 97 THEN 'waiting-on-requester' ELSE 'blocked' END,
              '{{}}'::jsonb, 'normal', CASE WHEN g % 7 = 0 THEN 'facilities' WHEN g % 100 >= 90 AND g % 100 < 95
                   THEN 'resolver-groups' ELSE 'service-desk' END,
              'ann', 10, :now - ((:n - g)::float / :n) * interval '365 days' - interval '2 days',
              :now - ((:n - g)::float / :n) * interval '365 days'
            FROM generate_series(1, :n) g""",
        "SELECT setval(pg_get_serial_sequence('cases', 'id'), :n)",
        f"""INSERT INTO events (case_id, activity, timestamp, resource, role, system, lifecycle, workflow, version,
                attributes)
            SELECT c.id, s.activity, c.created_at + s.k * interval '1 hour' * (1 + c.id % 9), 'person-' || (c.id % 40),
              'service-desk', 'backoffice', 'complete', 'service-request', 1,
              jsonb_build_object('from_state', s.from_state, 'to_state',
                CASE WHEN s.k < 9 THEN s.to_state WHEN c.state IN ('done', 'cancelled') THEN c.state
                     ELSE 'in-progress' END, 'case_version', s.k + 1)
            FROM cases c CROSS JOIN {STEPS}""",
        """INSERT INTO sla_clocks (case_id, paused_seconds) SELECT id, 3600 * (id % 20) FROM cases WHERE id % 5 = 0""",
        """INSERT INTO tasks (case_id, workflow, state, round, kind, status, queue, role, priority, priority_rank,
                due_at, created_at, claimed_by, claimed_at, claim_expires_at, escalated)
            SELECT id, workflow, state, version, 'work', 'open', queue, 'service-desk', 'normal', 2,
              created_at + interval '3 days', created_at,
              CASE WHEN id % 5 < 3 THEN 'person-' || (id % 40) END, CASE WHEN id % 5 < 3 THEN :now END,
              CASE WHEN id % 5 < 3 THEN :now + interval '20 minutes' END, false
            FROM cases WHERE state NOT IN ('done', 'cancelled')""",
        """INSERT INTO case_exceptions (case_id, reason, raised_in, raised_by, raised_at, resolved_by, resolved_at)
            SELECT id, (ARRAY['needs_info', 'third_party_delay', 'duplicate', 'out_of_scope'])[1 + id % 4], 'triage',
              'person-1', created_at + interval '2 hours', CASE WHEN id % 30 <> 0 THEN 'person-2' END,
              CASE WHEN id % 30 <> 0 THEN created_at + interval '30 hours' END
            FROM cases WHERE id % 10 = 0""",
    ]
    with store.engine.begin() as connection:
        for statement in statements:
            connection.execute(sa.text(statement), {"now": NOW, "n": cases})
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("ANALYZE"))


def timed(runs: int, read) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        read()
        times.append((time.perf_counter() - started) * 1000)
    return times


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--url", default=DEFAULT_POSTGRES_URL)
    options = parser.parse_args()
    why = postgres_unavailable(options.url)
    if why:
        print(f"skipped: {why}")
        return
    with fresh_postgres_schema(options.url, "dashboards") as url, SqlStore.open(url) as store:
        started = time.perf_counter()
        fill(store, options.cases)
        with store.engine.connect() as connection:
            events = connection.execute(sa.text("SELECT count(*) FROM events")).scalar()
        print(f"{options.cases:,} cases and {events:,} events written in {time.perf_counter() - started:.1f} s")
        scope = Scope.of(store, "service-request", Window.last_weeks(NOW, 12))
        readers = {"backlog": backlog, "age profile": age_profile, "SLA attainment": sla_attainment,
                   "throughput": throughput, "time in state": time_in_state, "exceptions": exceptions_by_reason,
                   "work in progress": work_in_progress}
        print(f"{'read (12 weeks)':<22}{'median ms':>10}{'p95 ms':>10}")
        for name, reader in readers.items():
            with store.engine.connect() as connection:
                times = timed(options.runs, lambda: reader(connection, scope))
            print(f"{name:<22}{statistics.median(times):>10.1f}{p95(times):>10.1f}")

        def whole() -> None:
            with store.engine.connect() as connection, connection.begin():
                read_dashboard(connection, scope)
        times = timed(options.runs, whole)
        print(f"{'whole, read afresh':<22}{statistics.median(times):>10.1f}{p95(times):>10.1f}   "
              f"{'PASS' if p95(times) <= TARGET_MS else 'FAIL'} (target p95 <= {TARGET_MS:.0f} ms)")
        # As the page reads it: the figures of the last five minutes (ops/dashboard_cache.py); the first read is
        # the one above, every later one within five minutes is this.
        recent = RecentReads()
        recent.get("bench", NOW, whole)
        times = timed(options.runs * 20, lambda: recent.get("bench", NOW, whole))
        print(f"{'whole, recent read':<22}{statistics.median(times):>10.3f}{p95(times):>10.3f}   "
              f"{'PASS' if p95(times) <= TARGET_MS else 'FAIL'} (a page served within five minutes of a read)")


if __name__ == "__main__":
    main()
