"""The README's pictures of the web app (scripts/web_screenshots.py) cover every page module of the app.

A page module added to `backoffice.web.app.PAGES` without a picture in the script's `SHOTS`
(or a reason in its `UNPICTURED`) fails here, as does a picture the README does not show.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from starlette.routing import Match

from backoffice.web.app import PAGES

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "web_screenshots.py"


def _script():
    spec = importlib.util.spec_from_file_location("web_screenshots", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the script's classes are made
    spec.loader.exec_module(module)
    return module


def _short(module) -> str:
    return module.__name__.rsplit(".", 1)[-1]


def test_every_page_module_has_a_picture_or_a_reason_for_none():
    script = _script()
    pictured = {shot.module for shot in script.SHOTS}
    pages = {_short(module) for module in PAGES}
    assert pages - pictured - set(script.UNPICTURED) == set(), "page modules with no picture in SHOTS"
    assert pictured - pages == set(), "pictures of modules that are not in PAGES"
    assert set(script.UNPICTURED) <= pages and not set(script.UNPICTURED) & pictured
    assert all(reason.strip() for reason in script.UNPICTURED.values())


def test_each_picture_is_taken_of_a_page_its_module_serves():
    """A shot's address is answered by a GET route of the module it names (cases are chosen from the data)."""
    modules = {_short(module): module for module in PAGES}
    for shot in _script().SHOTS:
        if not isinstance(shot.path, str):
            continue
        path = shot.path.split("?", 1)[0]
        scope = {"type": "http", "method": "GET", "path": path}
        served = [route for route in modules[shot.module].router.routes
                  if "GET" in getattr(route, "methods", ()) and route.matches(scope)[0] is Match.FULL]
        assert served, f"{shot.name}: no GET route of {shot.module} answers {path}"


def test_the_readme_shows_every_picture():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    names = [shot.name for shot in _script().SHOTS]
    assert len(names) == len(set(names))
    for name in names:
        picture = f"docs/images/web-{name}.png"
        assert (ROOT / picture).is_file(), f"{picture} is missing: run scripts/web_screenshots.py"
        assert f"]({picture})" in readme, f"the README does not show {picture}"
