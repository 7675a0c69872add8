"""A large PostgreSQL workspace for the server benchmarks: a seed played through the engine, then copied in SQL.

    seed_ids = play_seed(url, cases=400)          # real work, every act through the engine's core
    counts = copy_until(url, cases=100_000)       # the seed's rows copied until there are that many cases

Or once, from the command line, into a database of its own that the benchmarks then measure
again and again (`--workspace URL`), instead of each building (and dropping) its own:

    python benchmarks/copied_workspace.py postgresql+psycopg://postgres@127.0.0.1/bench --cases 100000

A seed of real work is played through the engine by the demo's simulation (backoffice.tour: the
library deployed, the cast in the directory, cases arriving over weeks and worked by the cast,
every act through the engine's core). Playing 100,000 cases that way would take hours, so the
seed's rows are then copied, in SQL, until the workspace has the cases asked for: each copy of
a case takes new ids, with its events, tasks, votes, evidence, exceptions and SLA clock, so the
rows are those the engine writes, and the queries the server runs meet the data volumes and
shapes they would. What the copies do not have is their own audit records (a copy is not an
act), so `audit verify` names them: such a workspace is for timing only, in a schema of its own
(engine_databases.fresh_postgres_schema), dropped at the end. Outbox entries and timers are not
copied: copies wait for nobody's worker. The events per case are the simulation's, whatever
the seed's mix of finished and open work gives; the counts returned name them.
"""

from __future__ import annotations

import math
import sys
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

COPIED = ("cases", "events", "tasks", "approval_votes", "evidence", "case_exceptions", "sla_clocks")
"""The tables a copy of a case takes rows from, parents first."""


def play_seed(url: str, *, cases: int) -> list[int]:
    """Play `cases` cases of the demo's simulation through the engine on the database; return their ids."""
    from backoffice.definitions import LIBRARY
    from backoffice.engine import Engine
    from backoffice.store import SqlStore
    from backoffice.tour.cast import ADMIN, seed_directory
    from backoffice.tour.playbooks import PLAYBOOKS
    from backoffice.tour.simulation import Simulation

    until = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
    weeks = max(2, min(8, cases // 100))
    start = until - timedelta(weeks=weeks)
    with SqlStore.open(url) as store:
        engine = Engine(store)
        seed_directory(engine, now=start - timedelta(days=1))
        for playbook in PLAYBOOKS:
            engine.deploy(LIBRARY / f"{playbook.workflow}.yaml", actor=ADMIN, now=start - timedelta(days=1))
        Simulation(engine, seed=2026, start=start, until=until, cases=cases,
                   progress=lambda fraction: print(f"\rseed: {fraction:4.0%}", end="", file=sys.stderr)).run()
        print(file=sys.stderr)
        with store.engine.connect() as connection:
            return [row[0] for row in connection.execute(sa.text("SELECT id FROM cases ORDER BY id"))]


def copy_until(url: str, *, cases: int, events: int = 0) -> dict[str, int]:
    """Copy the seed's cases (with their rows in COPIED) until there are `cases`; return the row counts.

    With `events`, the cases' histories are then lengthened until the workspace holds at least
    that many events (see `lengthen_histories`)."""
    from backoffice.store.connect import create_engine

    engine = create_engine(url)
    metadata = sa.MetaData()
    tables = {name: sa.Table(name, metadata, autoload_with=engine) for name in COPIED}
    with engine.begin() as connection:
        seed_cases = connection.execute(sa.text("SELECT COUNT(*) FROM cases")).scalar_one()
        top = {name: connection.execute(sa.select(sa.func.coalesce(sa.func.max(tables[name].c[_key(name)]), 0)))
               .scalar_one() for name in COPIED}
    copies = max(0, math.ceil(cases / max(seed_cases, 1)) - 1)
    for copy in range(1, copies + 1):
        with engine.begin() as connection:
            for name in COPIED:
                table = tables[name]
                columns = [column.name for column in table.columns]
                chosen = []
                for column in table.columns:
                    if column.name == "id":
                        chosen.append((column + copy * top[name]).label("id"))
                    elif column.name == "case_id":
                        chosen.append((column + copy * top["cases"]).label("case_id"))
                    elif column.name == "task_id" and name != "tasks":
                        chosen.append((column + copy * top["tasks"]).label("task_id"))
                    elif column.name == "idempotency_key":
                        chosen.append(sa.case((column.is_(None), None),
                                              else_=column + f"~{copy}").label("idempotency_key"))
                    else:
                        chosen.append(column)
                source = sa.select(*chosen).where(table.c[_key(name)] <= top[name])
                connection.execute(sa.insert(table).from_select(columns, source))
        if copy % 10 == 0 or copy == copies:
            print(f"\rcopies: {copy}/{copies}", end="", file=sys.stderr)
    print(file=sys.stderr)
    if events:
        lengthen_histories(engine, events=events)
    with engine.begin() as connection:
        for name in COPIED:
            if "id" in tables[name].c:
                # The engine's next ids follow the copies.
                connection.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                           f"(SELECT MAX(id) FROM {name}))"))
            connection.execute(sa.text(f"ANALYZE {name}"))
        counts = {name: connection.execute(sa.text(f"SELECT COUNT(*) FROM {name}")).scalar_one()
                  for name in ("cases", "events", "tasks")}
    engine.dispose()
    return counts


def lengthen_histories(engine: sa.engine.Engine, *, events: int) -> None:
    """Add to each case, in id order, the events it has again, until the workspace holds `events`.

    The simulation's cases hold five to six events each, so 100,000 cases hold some 550,000;
    the issue's workspace holds a million. A case's rows are repeated as written (activity,
    person, role, workflow, attributes), each a new id and an hour earlier than the row it
    repeats, as if the case had gone round the same states before: the events table and each
    case's history have the volume asked for, and the cases' states, tasks and clocks stay as
    played. Like the copies, these events have no audit records of their own: timing only."""
    with engine.begin() as connection:
        have = connection.execute(sa.text("SELECT COUNT(*) FROM events")).scalar_one()
        while have < events:
            top = connection.execute(sa.text("SELECT MAX(id) FROM events")).scalar_one()
            # The cases whose events, repeated once, make up what is missing (each case at most once a pass).
            last_case = connection.execute(sa.text(
                "SELECT case_id FROM (SELECT case_id, SUM(COUNT(*)) OVER (ORDER BY case_id) AS running "
                "FROM events WHERE id <= :top GROUP BY case_id) AS totals WHERE running >= :missing "
                "ORDER BY case_id LIMIT 1"), {"top": top, "missing": events - have}).scalar_one_or_none()
            bound = "" if last_case is None else "AND case_id <= :last_case"
            added = connection.execute(sa.text(
                "INSERT INTO events (id, case_id, activity, timestamp, resource, role, system, lifecycle, reason, "
                "workflow, version, attributes, branch) "
                "SELECT id + :top, case_id, activity, timestamp - interval '1 hour', resource, role, system, "
                "lifecycle, reason, workflow, version, attributes, branch "
                f"FROM events WHERE id <= :top {bound}"), {"top": top, "last_case": last_case}).rowcount
            have += added
            print(f"\revents: {have:,}", end="", file=sys.stderr)
        print(file=sys.stderr)


def workspace_counts(url: str) -> dict[str, int]:
    """Return the rows of cases, events and tasks of a workspace built before."""
    from backoffice.store.connect import create_engine

    engine = create_engine(url)
    with engine.connect() as connection:
        counts = {name: connection.execute(sa.text(f"SELECT COUNT(*) FROM {name}")).scalar_one()
                  for name in ("cases", "events", "tasks")}
    engine.dispose()
    return counts


def main(argv: list[str] | None = None) -> int:
    import argparse
    import os
    import time
    from pathlib import Path

    parser = argparse.ArgumentParser(description="Build a benchmark workspace: a seed played, then copied in SQL.")
    parser.add_argument("url", help="the PostgreSQL database (or schema, by options=-csearch_path=...) to fill")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed-cases", type=int, default=400)
    parser.add_argument("--events", type=int, default=1_000_000,
                        help="events the workspace holds at least (histories lengthened; 0: as the copies give)")
    args = parser.parse_args(argv)
    # The engine seals each act's audit record with a key: the one bench_api gives its server (a
    # workspace sealed with another key is refused: every answer a 500), unless the environment names one.
    data = Path(__file__).resolve().parent / "data"
    data.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("BACKOFFICE_AUDIT_KEY", str(data / "bench-api-audit.key"))
    os.environ.setdefault("BACKOFFICE_CHECKPOINTS", str(data / "bench-api-checkpoints"))
    began = time.perf_counter()
    seed_ids = play_seed(args.url, cases=min(args.seed_cases, args.cases))
    seeded = time.perf_counter() - began
    counts = copy_until(args.url, cases=args.cases, events=args.events)
    print(f"workspace: {counts['cases']:,} cases, {counts['events']:,} events, {counts['tasks']:,} tasks "
          f"(seed of {len(seed_ids)} played in {seeded:.0f} s; built in {time.perf_counter() - began:.0f} s)")
    return 0


def _key(name: str) -> str:
    return "case_id" if name == "sla_clocks" else "id"


if __name__ == "__main__":
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1] / "src"))
    sys.exit(main())
