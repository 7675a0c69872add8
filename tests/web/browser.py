"""The browser of the web tests: Debian's Chromium through Playwright, and the site served on a loopback port.

Tests that need it skip, saying why, where Chromium or Playwright is missing. Screenshots go to
the folder BACKOFFICE_SCREENSHOTS (or BACKOFFICE_SHOTS) names when set (PNGs to look at, or to
illustrate the README), nowhere otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-dev-shm-usage"]
SKIP_REASON = (f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium); "
               f"the browser tests need it")
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason=SKIP_REASON)


def launch(playwright):
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def shot(page, name: str) -> None:
    """Save a full-page PNG of `page` as `name`.png in BACKOFFICE_SCREENSHOTS (or BACKOFFICE_SHOTS), when set."""
    folder = os.environ.get("BACKOFFICE_SCREENSHOTS") or os.environ.get("BACKOFFICE_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)
