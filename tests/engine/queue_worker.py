"""A worker that drains a queue: run in threads on SQLite and in spawned processes on PostgreSQL.

Imported by its plain name (the test puts this folder on sys.path) and free of relative imports:
a spawned process must import it again, which pytest's importlib mode would not let it do.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from backoffice.engine import Actor, Engine
from backoffice.store import SqlStore

NOW = datetime(2024, 3, 4, 10, 0, tzinfo=timezone.utc)  # an hour after the cases started


def drain(database: str, worker: int, *, engine: Engine | None = None) -> list[int]:
    """Take and complete service-desk tasks until none is left; return the ids of the tasks completed."""
    own = engine is None
    engine = engine or Engine(SqlStore.open(database))
    actor = Actor(f"worker-{worker}", "service-desk")
    done: list[int] = []
    try:
        while True:
            task = engine.next_task("service-desk", actor=actor, now=NOW, lease=timedelta(hours=1))
            if task is None:
                return done
            engine.complete(task.id, actor=actor, now=NOW, to="in-progress")
            done.append(task.id)
    finally:
        if own:
            engine.store.close()
