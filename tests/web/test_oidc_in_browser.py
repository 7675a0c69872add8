"""Sign in with OpenID Connect in Chromium: the app served on loopback, the real provider's login page, and back.

The page's Content-Security-Policy stays in force on the way (the strict context records any
refusal), and the sign-in page with its provider button passes axe-core.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from backoffice.engine import Engine
from backoffice.server import create_server
from backoffice.services.settings import ServerSettings
from backoffice.store import SqlStore

from ..api.live_server import PURCHASE, T0, Clock, LiveServer
from .axe import assert_accessible, axe_context, csp_violations
from .browser import launch, needs_chromium, shot
from .oidc_fixtures import running_provider

ADMIN = "root"
USERS = {"hana": {"password": "pw-hana-in-chromium",
                  "claims": {"preferred_username": "hana", "name": "Hana", "email": "hana@example.org",
                             "email_verified": True, "groups": ["purchasing", "budget-owners"]}}}
GROUP_ROLES = {"purchasing": ["buyer"], "budget-owners": ["budget-holder@purchase-approval"]}


class AppServedLater:
    """An ASGI app that hands every call to `app`, set once the provider's address is known."""

    app = None

    async def __call__(self, scope, receive, send) -> None:
        await self.app(scope, receive, send)


@needs_chromium
def test_a_person_signs_in_with_the_provider_in_chromium(tmp_path: Path):
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    store = SqlStore.open(str(tmp_path / "backoffice.db"))
    engine = Engine(store)
    engine.bootstrap(ADMIN, now=T0)
    engine.add_person("hana", name="Hana", email="hana@example.org", actor=ADMIN, now=T0)
    engine.deploy(PURCHASE, actor=ADMIN, now=T0)
    later = AppServedLater()
    served = LiveServer(later)
    try:
        with running_provider(redirect_uris=[served.url + "/sign-in/oidc/callback"], users=USERS,
                              workdir=tmp_path) as idp:
            settings = ServerSettings(database=str(tmp_path / "backoffice.db"), access_log=False,
                                      evidence_dir=str(tmp_path / "evidence"), oidc_issuer=idp.issuer,
                                      oidc_client_id=idp.client_id, oidc_client_secret=idp.client_secret,
                                      oidc_provider_name="Test IdP", oidc_scopes="openid email profile groups",
                                      oidc_group_roles=GROUP_ROLES)
            later.app = create_server(settings, clock=Clock(), engine=engine)
            with served, sync_playwright() as playwright:
                browser = launch(playwright)
                try:
                    checked = axe_context(browser)
                    page = checked.new_page()
                    page.goto(served.url + "/sign-in")
                    assert_accessible(page, "the sign-in page with a provider")
                    shot(page, "sign-in-with-provider")
                    checked.close()

                    strict = browser.new_context()
                    page = strict.new_page()
                    refused = csp_violations(page)
                    page.goto(served.url + "/")
                    assert page.url.startswith(served.url + "/sign-in")
                    page.get_by_role("link", name="Sign in with Test IdP").click()
                    page.wait_for_url(idp.issuer + "/interaction/**")
                    page.get_by_label("Username").fill("hana")
                    page.get_by_label("Password").fill(USERS["hana"]["password"])
                    page.get_by_role("button", name="Sign in").click()
                    page.wait_for_url(served.url + "/")
                    assert "Hana" in page.content()
                    assert refused == []
                finally:
                    browser.close()
        assert sorted(engine.roles_of("hana", "purchase-approval")) == ["budget-holder", "buyer"]
    finally:
        store.close()
