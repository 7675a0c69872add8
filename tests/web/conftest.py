"""The web tests' fixtures: the site over each database (see site.py), and a browser (see browser.py)."""

from __future__ import annotations

import pytest

from .site import build_site


@pytest.fixture
def site(database: str, tmp_path):
    """The API and web app over a fresh database (SQLite, and PostgreSQL when configured) with its people."""
    yield from build_site(database, tmp_path)


@pytest.fixture
def sqlite_site(tmp_path):
    """The same site on SQLite only, for behaviour that does not depend on the database."""
    yield from build_site(str(tmp_path / "backoffice.db"), tmp_path)
