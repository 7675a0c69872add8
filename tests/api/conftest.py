"""The API tests' server: see live_server.py."""

from __future__ import annotations

import pytest

from .live_server import serve


@pytest.fixture
def api(database: str, tmp_path):
    """A live server over a fresh database (SQLite, and PostgreSQL when configured) with the purchase approval."""
    yield from serve(database, tmp_path)
