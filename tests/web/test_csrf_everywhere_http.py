"""Every state-changing route of the web app refuses a signed-in browser's POST without its CSRF token.

The routes are read from the app itself, so a page added later is attacked too: a form another
site makes the browser send (with its cookies, SameSite=Lax aside) must change nothing. A bearer
token does not stand in for the token either: the web app's identity is the session, never a header.
"""

from __future__ import annotations

import re

from fastapi.routing import APIRoute

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def _unsafe_routes(routes) -> list[tuple[str, str]]:
    found = []
    for route in routes:
        if isinstance(route, APIRoute):
            found += [(route.path, method) for method in sorted(route.methods & UNSAFE)]
        # A router included with its dependencies (the CSRF check among them) keeps its own routes.
        inner = getattr(getattr(route, "original_router", None), "routes", None)
        found += _unsafe_routes(inner or [])
    return found


def _sample_path(path: str) -> str:
    # Any id will do: the refusal must come before the route reads it.
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_unsafe_web_route_refuses_a_post_without_the_csrf_token(sqlite_site):
    alice = sqlite_site.client("alice")
    token = sqlite_site.engine.create_token("alice", actor="root", now=sqlite_site.clock.now).secret
    routes = _unsafe_routes(sqlite_site.app.web.routes)
    assert len(routes) > 15 and ("/sign-out", "POST") in routes
    before = len(sqlite_site.engine.store.audit_records(limit=100_000))
    for path, method in routes:
        sent = alice.request(method, _sample_path(path), data={"decision": "approve", "note": "x"},
                             headers={"Authorization": f"Bearer {token}"})
        assert sent.status_code == 403 and "security token" in sent.text, (method, path, sent.status_code)
    assert len(sqlite_site.engine.store.audit_records(limit=100_000)) == before
    assert alice.get("/").status_code == 200          # the sign-out was refused too
