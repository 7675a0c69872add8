"""The security suite's HTTP server: the API tests' live server (tests/api/live_server.py)."""

from __future__ import annotations

import pytest

from ..api.live_server import serve


@pytest.fixture
def api(database: str, tmp_path):
    """`backoffice serve` as a process over a fresh database (SQLite, and PostgreSQL when configured) with the purchase
    approval deployed (see live_server.py and server_process.py)."""
    yield from serve(database, tmp_path)
