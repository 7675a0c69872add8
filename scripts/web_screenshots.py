"""Take the README's pictures of the web app: every page, on the demo workspace, as the person who uses it.

    .venv/bin/python scripts/web_screenshots.py                 # all pages, into docs/images/web-<page>.png
    .venv/bin/python scripts/web_screenshots.py --only case     # one picture again

It builds (or reuses, while current) the tour's demo workspace (`backoffice demo --no-serve`
makes the same one), serves it with Uvicorn on a free loopback port in this process, signs in
through the sign-in page as the demo person each page is for, and saves a Chromium screenshot
(Debian's, through Playwright) 1280 pixels wide at a device scale of 1. Long pages are cut at
each shot's `height`; each PNG is re-encoded with Pillow (when installed) if that makes it smaller.

`SHOTS` names, for each picture, the page module of `backoffice.web.app.PAGES` it shows:
tests/web/test_screenshot_list.py fails when a page module has no picture (or a reason for none).
"""

from __future__ import annotations

import argparse
import io
import socket
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-dev-shm-usage"]
WIDTH = 1280
HEIGHT = 860
MAX_HEIGHT = 4000
"""The tallest picture, in pixels, unless a shot says shorter."""


@dataclass(frozen=True)
class Shot:
    """One picture: its name (docs/images/web-<name>.png), the page module it shows, who looks, and how to get there."""

    name: str
    module: str
    person: str | None
    path: str | Callable[[sqlite3.Connection], str]
    prepare: Callable[[object], None] | None = None
    height: int = MAX_HEIGHT
    """Where the picture is cut, in pixels from the top: the README shows the top of a long page."""
    shows: str = ""
    """Text the picture is taken for (the README describes it): the script stops when the page lacks it."""


def _case_with_most_happening(db: sqlite3.Connection) -> str:
    """A purchase request with votes, an exception and the longest timeline: the richest case page."""
    row = db.execute(
        "SELECT c.id FROM cases c"
        " WHERE EXISTS (SELECT 1 FROM approval_votes v WHERE v.case_id = c.id)"
        " AND EXISTS (SELECT 1 FROM case_exceptions x WHERE x.case_id = c.id)"
        " ORDER BY c.workflow = 'purchase-request' DESC,"
        " (SELECT count(*) FROM approval_votes v WHERE v.case_id = c.id) DESC,"
        " (SELECT count(*) FROM events e WHERE e.case_id = c.id) DESC, c.id LIMIT 1").fetchone()
    if row is None:
        raise SystemExit("the demo workspace has no case with both votes and an exception to show")
    return f"/cases/{row[0]}"


def _intake_with_an_error(page) -> None:
    """Fill the purchase request's intake form with one wrong value and send it: the error shows beside its field."""
    fields = {
        "f-request_id": "PR-004217", "f-submitted_at": "2026-12-07T09:30", "f-requester-employee_id": "E10442",
        "f-requester-email": "lena@example.com", "f-requester-department": "Engineering",
        "f-cost_center": "4410",  # the wrong one: the contract wants CC- and four digits
        "f-currency": "EUR", "f-amount": "2450", "f-justification": "Two monitors for the new test bench in lab 3.",
        "f-items-0-description": "27-inch monitor", "f-items-0-quantity": "2", "f-items-0-unit_price": "1225",
    }
    for field_id, value in fields.items():
        page.locator(f"#{field_id}").fill(value)
    page.locator("#f-category").select_option("hardware")
    page.get_by_role("button", name="Send the request").click()
    page.wait_for_load_state()


def _public_form_filled(page, *, email: str) -> None:
    """Fill the service request's public form, as someone with no account would; `email` empty leaves an error."""
    page.get_by_label("Summary").fill("Visitor badge does not open the gate")
    page.get_by_label("Description").fill("I work for the catering contractor; my badge stopped working on Monday.")
    page.get_by_label("Category").fill("facilities")
    page.get_by_label("Urgency").fill("normal")
    page.get_by_label("Requester email").fill(email)
    page.get_by_role("button", name="Send the request").last.click()
    page.wait_for_load_state()


def _calendar_with_an_error(page) -> None:
    """Type a time zone with a letter missing and tick Saturday: the error shows beside the zone, the tick stays."""
    page.get_by_label("Time zone").fill("Europe/Amsterdm")
    page.get_by_label("Sat").check()
    page.get_by_role("button", name="Deploy version").click()
    page.wait_for_load_state()


SHOTS: tuple[Shot, ...] = (
    Shot("sign-in", "pages_sign_in", None, "/sign-in", height=420),
    Shot("home", "pages_home", "olga", "/", height=420),
    Shot("front-door", "pages_front_door", "lena", "/requests/new"),
    Shot("intake-form", "pages_front_door", "lena", "/requests/new/purchase-request", prepare=_intake_with_an_error,
         height=1150, shows="1 field to correct"),
    Shot("my-requests", "pages_case", "lena", "/requests", height=900),
    Shot("case", "pages_case", "audrey", _case_with_most_happening, shows="Verified"),
    Shot("my-work", "pages_work", "bea", "/work"),
    Shot("approvals", "pages_approvals", "hana", "/approvals", height=1450, shows="separation of duties"),
    Shot("exceptions", "pages_exceptions", "bea", "/exceptions", height=1400),
    Shot("board", "pages_board", "bea", "/board/purchase-request", height=1500),
    Shot("dashboards", "pages_dashboards", "olga", "/dashboards?workflow=purchase-request&weeks=4", height=2600),
    Shot("live-map", "pages_dashboards", "olga", "/live-map?workflow=purchase-request&weeks=4"),
    Shot("admin", "pages_admin", "admin", "/admin", height=2000),
    Shot("calendar", "pages_calendars", "admin", "/admin/calendars/service-request", prepare=_calendar_with_an_error,
         height=1300, shows="1 field to correct"),
    Shot("me", "pages_home", "ivan", "/me"),
    Shot("public-form", "pages_public_intake", None, "/public/service-request",
         prepare=lambda page: _public_form_filled(page, email=""), height=1100, shows="1 field to correct"),
    Shot("public-received", "pages_public_intake", None, "/public/service-request",
         prepare=lambda page: _public_form_filled(page, email="sam@catering.example"), height=500,
         shows="Your reference"),
)
"""Every picture of the README, in its order."""

UNPICTURED = {
    "pages_oidc": "sign-in with an identity provider: a redirect to the provider, no page of its own "
                  "(the sign-in page shows its button when one is configured)",
}
"""Page modules of PAGES with no picture of their own, and why."""


# --- The demo workspace and its server -------------------------------------------------------------------------


def demo_workspace(folder: Path):
    """Build or reuse the tour's workspace in `folder` (the same as `backoffice demo --no-serve --dir folder`)."""
    from backoffice.tour.workspace import TourSettings, prepare_workspace

    return prepare_workspace(folder, settings=TourSettings(), now=datetime.now(timezone.utc))


@dataclass
class Served:
    """Uvicorn serving the API and web app over `database`, in a thread, on a free loopback port."""

    database: Path
    evidence: Path
    url: str = ""
    _server: object = None
    _thread: threading.Thread | None = None
    _socket: socket.socket | None = field(default=None, repr=False)

    def __enter__(self) -> Served:
        import uvicorn

        from backoffice.server import create_server
        from backoffice.services.settings import ServerSettings

        settings = ServerSettings(database=str(self.database), evidence_dir=str(self.evidence), access_log=False)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self._server = uvicorn.Server(uvicorn.Config(create_server(settings), log_level="warning", access_log=False,
                                                     lifespan="on"))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:  # waiting for the server to listen, not for the clock
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise SystemExit("the web app did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)
        self._socket.close()


# --- Taking the pictures ----------------------------------------------------------------------------------------


def sign_in(browser, url: str, person: str):
    """A browser context signed in as `person` through the sign-in page, with the demo password."""
    from backoffice.tour.cast import person as cast_person

    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, device_scale_factor=1)
    page = context.new_page()
    page.goto(f"{url}/sign-in")
    page.get_by_label("Person id").fill(person)
    page.get_by_label("Password").fill(cast_person(person).password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{url}/")
    page.close()
    return context


def take(shot: Shot, context, url: str, db: sqlite3.Connection, out: Path) -> Path:
    """Open the shot's page, prepare it, check it shows what it is taken for, and save it (cut at its height)."""
    path = shot.path if isinstance(shot.path, str) else shot.path(db)
    page = context.new_page()
    response = page.goto(f"{url}{path}")
    if response is None or response.status >= 400:
        raise SystemExit(f"{shot.name}: {path} answered {response.status if response else 'nothing'}")
    if shot.prepare is not None:
        shot.prepare(page)
    page.wait_for_load_state("networkidle")
    if shot.shows and shot.shows not in page.locator("main").inner_text():
        raise SystemExit(f"{shot.name}: {path} does not show {shot.shows!r} on this workspace")
    height = page.evaluate("document.documentElement.scrollHeight")
    png = page.screenshot(full_page=True, clip={"x": 0, "y": 0, "width": WIDTH, "height": min(height, shot.height)})
    page.close()
    target = out / f"web-{shot.name}.png"
    target.write_bytes(smaller(png))
    return target


def smaller(png: bytes) -> bytes:
    """Return the PNG re-encoded with Pillow (optimised, or with a 256-colour palette) when that is smaller."""
    try:
        from PIL import Image
    except ImportError:
        return png
    image = Image.open(io.BytesIO(png)).convert("RGB")
    best = png
    for candidate in (image, image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)):
        buffer = io.BytesIO()
        candidate.save(buffer, format="PNG", optimize=True)
        if len(buffer.getvalue()) < len(best):
            best = buffer.getvalue()
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Screenshots of every page of the web app, for the README.")
    parser.add_argument("--dir", type=Path, default=ROOT / "backoffice-demo",
                        help="folder of the demo workspace (built there when absent or stale)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images", help="folder for the PNGs")
    parser.add_argument("--only", action="append", choices=[shot.name for shot in SHOTS],
                        help="take only this picture (repeatable)")
    options = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    workspace = demo_workspace(options.dir)
    print(f"{'reusing' if workspace.reused else 'built'} the demo workspace in {options.dir} ({workspace.cases} cases)")
    options.out.mkdir(parents=True, exist_ok=True)
    chosen = [shot for shot in SHOTS if not options.only or shot.name in options.only]
    db = sqlite3.connect(f"file:{workspace.database.resolve()}?mode=ro", uri=True)
    with Served(workspace.database.resolve(), options.dir.resolve() / "evidence") as served, \
            sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        contexts: dict[str | None, object] = {}
        for shot in chosen:
            if shot.person not in contexts:
                contexts[shot.person] = (sign_in(browser, served.url, shot.person) if shot.person else
                                         browser.new_context(viewport={"width": WIDTH, "height": HEIGHT},
                                                             device_scale_factor=1))
            target = take(shot, contexts[shot.person], served.url, db, options.out)
            print(f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}: "
                  f"{target.stat().st_size // 1024} KB")
        browser.close()
    db.close()
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    sys.exit(main())
