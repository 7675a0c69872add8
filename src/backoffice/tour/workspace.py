"""The demo workspace: one SQLite file with the library deployed, the cast in the directory and weeks of work.

    workspace = prepare_workspace(Path("backoffice-demo"), settings=TourSettings(), now=now)
    workspace.database      # backoffice-demo/demo.db, ready for `backoffice serve --db`

A workspace is built once and reused while it is current: the same settings, the same format
of this code, and younger than a week (older, every open case would be long overdue). Its stamp
(`tour.json`) is written last, so an interrupted build is never taken for a workspace: the next
run builds it again. The database stays where it was built, because its audit key is found by
its path (see `backoffice.engine.audit_keys`): `backoffice audit verify --db` works on it as is.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from backoffice.definitions import LIBRARY
from backoffice.engine import Engine
from backoffice.engine.cases import utc
from backoffice.tour.cast import ADMIN, seed_directory
from backoffice.tour.playbooks import PLAYBOOKS
from backoffice.tour.simulation import Simulation, SimulationReport

FORMAT = 4
"""The workspace's format: raised when what a build makes changes, so older workspaces are rebuilt."""

DATABASE = "demo.db"
STAMP = "tour.json"
FRESH_FOR = timedelta(days=7)


@dataclass(frozen=True)
class TourSettings:
    """What the simulation makes: its seed, how many weeks of arrivals, how many cases in all."""

    seed: int = 2026
    weeks: int = 4
    cases: int = 300


@dataclass(frozen=True)
class Workspace:
    """A built (or reused) demo workspace: its folder and database, what made it, and how long the build took."""

    folder: Path
    settings: TourSettings
    until: datetime
    reused: bool
    seconds: float
    cases: int
    acts: int
    unreached: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    stuck: tuple[str, ...] = ()

    @property
    def database(self) -> Path:
        return self.folder / DATABASE


def prepare_workspace(folder: Path, *, settings: TourSettings, now: datetime, rebuild: bool = False,
                      progress: Callable[[float], None] | None = None) -> Workspace:
    """Return the workspace in `folder`: reused when present and current, else built afresh with work up to `now`."""
    now = utc(now)
    if not rebuild:
        current = _current(folder, settings, now)
        if current is not None:
            return current
    return build_workspace(folder, settings=settings, until=now, progress=progress)


def build_workspace(folder: Path, *, settings: TourSettings, until: datetime,
                    progress: Callable[[float], None] | None = None) -> Workspace:
    """Build the workspace in `folder` with simulated work ending at `until` (see the module's text)."""
    from backoffice.store import SqlStore

    began = time.perf_counter()
    until = utc(until).replace(second=0, microsecond=0)
    start = until - timedelta(weeks=settings.weeks)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / STAMP).unlink(missing_ok=True)
    _remove(folder / DATABASE)
    with SqlStore.open(folder.resolve() / DATABASE) as store:
        _without_flushing_each_commit(store)
        engine = Engine(store)
        before = start - timedelta(days=1)
        seed_directory(engine, now=before)
        for playbook in PLAYBOOKS:
            engine.deploy(LIBRARY / f"{playbook.workflow}.yaml", actor=ADMIN, now=before)
        report: SimulationReport = Simulation(engine, seed=settings.seed, start=start, until=until,
                                              cases=settings.cases, progress=progress).run()
    workspace = Workspace(folder=folder, settings=settings, until=until, reused=False,
                          seconds=time.perf_counter() - began, cases=report.cases, acts=report.acts,
                          unreached=report.unreached, stuck=tuple(report.stuck))
    (folder / STAMP).write_text(json.dumps({
        "format": FORMAT, "settings": asdict(settings), "until": until.isoformat(), "cases": report.cases,
        "acts": report.acts, "seconds": round(workspace.seconds, 1),
        "unreached": {name: list(states) for name, states in report.unreached.items()},
        "stuck": list(report.stuck),
    }, indent=2), encoding="utf-8")
    return workspace


def _current(folder: Path, settings: TourSettings, now: datetime) -> Workspace | None:
    """Return the workspace in `folder` when it is complete and current; None when it must be built."""
    try:
        stamp = json.loads((folder / STAMP).read_text(encoding="utf-8"))
        until = datetime.fromisoformat(stamp["until"])
        same = stamp["format"] == FORMAT and TourSettings(**stamp["settings"]) == settings
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not same or not (folder / DATABASE).is_file() or not timedelta(0) <= now - until < FRESH_FOR:
        return None
    return Workspace(folder=folder, settings=settings, until=until, reused=True, seconds=0.0,
                     cases=stamp.get("cases", 0), acts=stamp.get("acts", 0),
                     unreached={name: tuple(states) for name, states in stamp.get("unreached", {}).items()})


def _without_flushing_each_commit(store) -> None:
    """Let SQLite commit without waiting for the disk while the workspace is built (several times faster).

    Only the build's connections: a crash mid-build leaves no stamp, so the next run builds it
    again; the server opens the finished file with the store's own durable settings.
    """
    from sqlalchemy import event

    store.engine.dispose()

    @event.listens_for(store.engine, "connect")
    def _fast(dbapi_connection, connection_record) -> None:
        dbapi_connection.execute("PRAGMA synchronous = OFF")


def _remove(database: Path) -> None:
    for path in (database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")):
        path.unlink(missing_ok=True)
