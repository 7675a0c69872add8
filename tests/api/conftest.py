"""The API tests' server: `backoffice serve` in a process of its own, per test (see live_server.py)."""

from __future__ import annotations

import pytest

from .live_server import serve


@pytest.fixture
def api(database: str, tmp_path):
    """`backoffice serve` as a process over a fresh database (SQLite, and PostgreSQL when configured) with the purchase
    approval deployed (see live_server.py and server_process.py)."""
    yield from serve(database, tmp_path)
