"""Fixtures shared by the whole suite: real logs from ../shared, small logs written on the spot, and
the engine's databases (SQLite always, PostgreSQL when BACKOFFICE_TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .databases import DATABASES, database_target

REPOSITORY = Path(__file__).resolve().parents[1]
# BACKOFFICE_SHARED_LOGS points elsewhere (a checkout in a worktree, away from ../shared).
SHARED_LOGS = Path(os.environ.get("BACKOFFICE_SHARED_LOGS") or REPOSITORY.parent / "shared" / "data" / "logs")
SAMPLES = REPOSITORY / "src" / "backoffice" / "samples"


@pytest.fixture
def shared_logs() -> Path:
    """The real logs beside the project; the test skips where they are absent (a laptop clone)."""
    if not SHARED_LOGS.is_dir():
        pytest.skip(f"real logs not found at {SHARED_LOGS} (../shared is absent in this checkout)")
    return SHARED_LOGS


@pytest.fixture
def write_csv(tmp_path: Path):
    """Write CSV text (or bytes) to a file in tmp_path and return its path."""
    def write(text: str | bytes, name: str = "log.csv") -> Path:
        path = tmp_path / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path
    return write


@pytest.fixture(params=DATABASES)
def database(request, tmp_path: Path):
    """A fresh database: a SQLite file, or a PostgreSQL schema of its own (see databases.py)."""
    yield from database_target(request.param, tmp_path)


@pytest.fixture
def store(database: str):
    from backoffice.store import SqlStore
    with SqlStore.open(database) as opened:
        yield opened


@pytest.fixture
def engine(store):
    """An engine whose directory holds the suite's people and their roles (see directory_fixtures)."""
    from backoffice.engine import Engine

    from .directory_fixtures import seed
    return seed(Engine(store))
