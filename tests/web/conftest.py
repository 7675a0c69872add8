"""The web tests' fixtures: the site over each database (see site.py), the site served, and a browser (see browser.py).

A module that needs more on its served site (a workflow deployed, a service account) overrides
`sqlite_site` with a fixture of the same name that asks for this one and adds to it.
"""

from __future__ import annotations

import pytest

from ..api.live_server import LiveServer
from .browser import launch
from .site import build_site


@pytest.fixture
def site(database: str, tmp_path):
    """The API and web app over a fresh database (SQLite, and PostgreSQL when configured) with its people."""
    yield from build_site(database, tmp_path)


@pytest.fixture
def sqlite_site(tmp_path):
    """The same site on SQLite only, for behaviour that does not depend on the database."""
    yield from build_site(str(tmp_path / "backoffice.db"), tmp_path)


@pytest.fixture
def live(sqlite_site):
    """The SQLite site served by Uvicorn on a loopback port; its address is `live.url`."""
    with LiveServer(sqlite_site.app) as server:
        sqlite_site.url = server.url
        yield sqlite_site


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium through Playwright, one per test module."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    with sync_api.sync_playwright() as playwright:
        opened = launch(playwright)
        yield opened
        opened.close()
