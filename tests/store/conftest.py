"""Fixtures of the store tests: a fresh database on SQLite, and on PostgreSQL when one is configured."""

from __future__ import annotations

from pathlib import Path

import pytest

from backoffice.store import SqlStore

from ..databases import DATABASES, database_target


@pytest.fixture(params=DATABASES)
def database(request, tmp_path: Path):
    yield from database_target(request.param, tmp_path)


@pytest.fixture
def store(database: str):
    with SqlStore.open(database) as opened:
        yield opened
