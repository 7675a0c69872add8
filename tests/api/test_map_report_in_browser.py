"""The live map's HTML report in Debian's Chromium: its own script runs, sandboxed away from the API's origin.

Served by a live server (SQLite); the browser sends an auditor's token. The report's viewer
script must run under the response's CSP (the map gets its zoom), while the page's origin is
opaque and nothing in it can call the API or read its cookies.
"""

from __future__ import annotations

import pytest

from ..web.browser import launch, needs_chromium
from .live_server import serve, to_approval

playwright_api = pytest.importorskip("playwright.sync_api", reason="the Playwright package is not installed")


@pytest.fixture
def sqlite_api(tmp_path):
    yield from serve(str(tmp_path / "backoffice.db"), tmp_path)


@needs_chromium
def test_the_reports_script_runs_but_cannot_reach_the_api(sqlite_api):
    to_approval(sqlite_api, "alice")
    token = sqlite_api.token("otto")
    with playwright_api.sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(extra_http_headers={"Authorization": f"Bearer {token}"})
            refused: list[str] = []
            page.on("console", lambda message: refused.append(message.text)
                    if "Content Security Policy" in message.text else None)
            answer = page.goto(f"{sqlite_api.url}/v1/workflows/purchase-approval/map/report")
            assert answer is not None and answer.status == 200
            # The viewer ran: it sized the map's frame (nothing of the page's own is refused).
            page.wait_for_selector("#map-frame[data-scale]", state="attached", timeout=10_000)
            assert refused == []
            assert page.evaluate("window.origin") == "null"      # sandboxed: an opaque origin
            cookie = page.evaluate("(() => { try { return document.cookie; } catch (e) { return e.name; } })()")
            assert cookie == "SecurityError"
            reached = page.evaluate("fetch('/v1/me').then(r => 'reached ' + r.status, e => 'blocked')")
            assert reached == "blocked"
            assert any("connect-src" in message for message in refused)
        finally:
            browser.close()
