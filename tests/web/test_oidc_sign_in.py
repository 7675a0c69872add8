"""Sign in with OpenID Connect through a real provider (oidc-provider on Node.js, on loopback), and its attacks.

Each test drives one "browser": an httpx client that keeps cookies and follows the app's and the
provider's redirects, logging in on the provider's own page. The app runs in process on the
address the provider knows as its redirect URI; the provider is a real server process. Every
refusal is a 4xx page, and then nothing is written: no audit record, no grant, no session.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest

from backoffice.engine import Engine
from backoffice.errors import NotAdministrator
from backoffice.server import create_server
from backoffice.services.settings import ServerSettings
from backoffice.store import SqlStore

from ..api.live_server import PURCHASE, T0, Clock
from .oidc_fixtures import RunningProvider, running_provider


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


APP = f"http://127.0.0.1:{_free_port()}"
CALLBACK = APP + "/sign-in/oidc/callback"
ADMIN = "root"
GROUP_ROLES = {"purchasing": ["buyer"], "budget-owners": ["budget-holder@purchase-approval"]}


def _user(login: str, groups: list, *, email_verified: bool = True) -> dict:
    return {"password": f"pw-{login}", "claims": {"preferred_username": login, "name": login.title(),
                                                   "email": f"{login}@example.org", "email_verified": email_verified,
                                                   "groups": groups}}


USERS = {
    "alice": _user("alice", ["purchasing"]),
    "hana": _user("hana", ["purchasing", "budget-owners", "staff"]),
    "dora": _user("dora", ["purchasing"]),                      # deactivated in the directory
    "mallory": _user("mallory", ["administrator", "operator"]),  # groups named like the platform's roles
    "newbie": _user("newbie", ["purchasing"]),                   # not in the directory
    "unverified": _user("unverified", ["purchasing"], email_verified=False),
}


@pytest.fixture(scope="module")
def provider(tmp_path_factory) -> Iterator[RunningProvider]:
    with running_provider(redirect_uris=[CALLBACK], users=USERS, workdir=tmp_path_factory.mktemp("idp")) as running:
        yield running


class Site:
    """The server (API and web app) in process over a fresh database, signing people in with `provider`."""

    def __init__(self, database: str, files: Path, provider: RunningProvider, **oidc: object) -> None:
        self.clock = Clock()
        self.store = SqlStore.open(database)
        self.engine = Engine(self.store)
        self.engine.bootstrap(ADMIN, now=T0)
        for person in ("alice", "hana", "dora", "mallory"):
            self.engine.add_person(person, name=person.title(), email=f"{person}@example.org", actor=ADMIN, now=T0)
        self.engine.set_active("dora", False, actor=ADMIN, now=T0)
        self.engine.deploy(PURCHASE, actor=ADMIN, now=T0)
        self.database, self.files, self.provider = database, files, provider
        self.app = self.app_with(**oidc)

    def app_with(self, **oidc: object):
        """Return the server over this site's engine and clock, with these OpenID Connect settings changed."""
        values = {"oidc_issuer": self.provider.issuer, "oidc_client_id": self.provider.client_id,
                  "oidc_client_secret": self.provider.client_secret, "oidc_provider_name": "Test IdP",
                  "oidc_scopes": "openid email profile groups", "oidc_group_roles": GROUP_ROLES, **oidc}
        settings = ServerSettings(database=self.database, access_log=False,
                                  evidence_dir=str(self.files / "evidence"), **values)
        return create_server(settings, clock=self.clock, engine=self.engine)

    def audit_head(self) -> int:
        return self.store.audit_heads()["system"].seq

    def written_since(self, head: int) -> list[tuple[str, str, dict]]:
        return [(r.action, r.actor, json.loads(r.detail)) for r in self.store.audit_records(chain="system")
                if r.seq > head]

    def roles(self, person: str, workflow: str | None = None) -> list[str]:
        return sorted(self.engine.roles_of(person, workflow))


@pytest.fixture
def site(database: str, tmp_path: Path, provider: RunningProvider) -> Iterator[Site]:
    site = Site(database, tmp_path, provider)
    yield site
    site.store.close()


class Browser:
    """One browser: its cookies, the app in process at APP, the provider over the network."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.client = httpx.AsyncClient(mounts={APP: httpx.ASGITransport(app=site.app)}, timeout=20)

    async def close(self) -> None:
        await self.client.aclose()

    async def follow(self, response: httpx.Response, *, stop_at: str | None = None) -> httpx.Response | str:
        """Follow redirects; return the final answer, or the URL starting with `stop_at` before it is visited."""
        while response.is_redirect:
            location = urljoin(str(response.url), response.headers["location"])
            if stop_at is not None and location.startswith(stop_at):
                return location
            response = await self.client.get(location)
        return response

    async def start(self) -> httpx.Response:
        """Press "Sign in with Test IdP" on the sign-in page; return where it leads (the provider's login page)."""
        page = await self.client.get(APP + "/sign-in")
        link = re.search(r'href="(/sign-in/oidc[^"]*)"', page.text)
        assert link, "the sign-in page has no sign-in with the provider"
        return await self.follow(await self.client.get(APP + link.group(1).replace("&amp;", "&")))

    async def callback_for(self, login: str) -> str:
        """Sign in as `login` at the provider; return the callback URL it sends the browser to (not visited yet)."""
        page = await self.start()
        if page.url.path.startswith("/interaction/"):
            action = re.search(r'action="([^"]+)"', page.text)
            assert action, page.text
            page = await self.client.post(urljoin(str(page.url), action.group(1)),
                                          data={"login": login, "password": USERS[login]["password"]})
        callback = await self.follow(page, stop_at=CALLBACK)
        assert isinstance(callback, str), f"the provider did not send the browser back: {callback.text[:500]}"
        return callback

    async def sign_in(self, login: str) -> httpx.Response:
        """Sign in as `login` all the way; return the app's answer to the callback (not followed)."""
        return await self.client.get(await self.callback_for(login))

    def signed_in(self) -> bool:
        return any(cookie.name == "bo_session" for cookie in self.client.cookies.jar)


def browse(site: Site, scenario) -> object:
    """Run `scenario(browser)` in a fresh browser and return what it returns."""
    async def run():
        browser = Browser(site)
        try:
            return await scenario(browser)
        finally:
            await browser.close()
    return asyncio.run(run())


def test_a_person_signs_in_through_the_provider_and_their_groups_give_their_roles(site):
    head = site.audit_head()

    async def scenario(browser: Browser):
        answer = await browser.sign_in("hana")
        assert answer.status_code == 303 and answer.headers["location"] == "/"
        home = await browser.follow(answer)
        return home, browser.signed_in()

    home, signed_in = browse(site, scenario)
    assert signed_in and home.status_code == 200 and home.url.path == "/"
    assert "Hana" in home.text
    assert site.roles("hana", "purchase-approval") == ["budget-holder", "buyer"]
    assert site.roles("hana", "service-request") == ["buyer"]
    written = site.written_since(head)
    assert [(action, actor, detail["role"]) for action, actor, detail in written] == [
        ("role.granted", "backoffice-sign-in", "budget-holder"), ("role.granted", "backoffice-sign-in", "buyer")]
    assert {detail["subject"] for _, _, detail in written} == {"hana"}


def test_a_group_no_longer_named_loses_its_role_at_the_next_sign_in(site):
    browse(site, lambda browser: browser.sign_in("alice"))
    assert site.roles("alice") == ["buyer"]
    # The same directory, 'purchasing' now mapped to nothing: alice's buyer role, granted by sign-in, goes.
    site.app = site.app_with(oidc_group_roles={"budget-owners": ["budget-holder"], "contractors": ["buyer"]})
    head = site.audit_head()
    answer = browse(site, lambda browser: browser.sign_in("alice"))
    assert answer.status_code == 303
    assert site.roles("alice") == []
    assert [(action, detail["role"]) for action, _, detail in site.written_since(head)] == [("role.revoked", "buyer")]


def test_the_sign_in_page_offers_the_provider_by_name(site):
    page = browse(site, lambda browser: browser.client.get(APP + "/sign-in"))
    assert "Sign in with Test IdP" in page.text


def test_without_a_provider_the_sign_in_page_offers_none(sqlite_site):
    client = sqlite_site.anonymous()
    assert "/sign-in/oidc" not in client.get("/sign-in").text
    assert client.get("/sign-in/oidc").status_code == 404
    assert client.get("/sign-in/oidc/callback?code=x&state=y").status_code == 404


def test_a_state_that_is_not_this_browsers_is_refused_and_nothing_is_written(site):
    head = site.audit_head()

    async def scenario(browser: Browser):
        callback = await browser.callback_for("alice")
        forged = re.sub(r"state=[^&]+", "state=someone-elses-state", callback)
        answer = await browser.client.get(forged)
        return answer, browser.signed_in()

    answer, signed_in = browse(site, scenario)
    assert answer.status_code == 400 and "state" in answer.text
    assert not signed_in and site.audit_head() == head and site.roles("alice") == []


def test_a_callback_from_another_browser_is_refused(site):
    # The attacker's own code and state, planted in the victim's browser (login CSRF): no state cookie there.
    head = site.audit_head()
    callback = browse(site, lambda browser: browser.callback_for("mallory"))
    answer = browse(site, lambda browser: browser.client.get(callback))
    assert answer.status_code == 400 and site.audit_head() == head


def test_a_replayed_code_is_refused_and_nothing_is_written(site):
    async def scenario(browser: Browser):
        used = await browser.callback_for("alice")
        first = await browser.client.get(used)
        assert first.status_code == 303
        head = site.audit_head()
        # A new sign-in in the same browser, answered with the first sign-in's (used) code.
        browser.client.cookies.delete("bo_session")
        start = await browser.client.get(APP + "/sign-in/oidc")
        state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
        old_code = parse_qs(urlsplit(used).query)["code"][0]
        replay = await browser.client.get(f"{CALLBACK}?code={old_code}&state={state}")
        return replay, head, browser.signed_in()

    replay, head, signed_in = browse(site, scenario)
    assert replay.status_code == 400 and "code" in replay.text
    assert not signed_in and site.audit_head() == head


def test_the_same_callback_twice_is_refused_the_second_time(site):
    async def scenario(browser: Browser):
        callback = await browser.callback_for("alice")
        first = await browser.client.get(callback)
        again = await browser.client.get(callback)
        return first, again

    first, again = browse(site, scenario)
    assert first.status_code == 303 and again.status_code == 400


@pytest.mark.parametrize("claims, problem", [
    ({"aud": "another-app", "azp": "backoffice"}, "aud"),   # minted for another client (azp names us: not enough)
    ({"nonce": "the-nonce-of-another-sign-in"}, "nonce"),
    ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "expired"),
    ({"iss": "http://127.0.0.1:1"}, "iss"),
])
def test_an_id_token_that_fails_a_check_is_refused_and_nothing_is_written(site, provider, claims, problem):
    head = site.audit_head()

    async def scenario(browser: Browser):
        callback = await browser.callback_for("hana")
        provider.next_id_token_claims(**claims)
        answer = await browser.client.get(callback)
        return answer, browser.signed_in()

    answer, signed_in = browse(site, scenario)
    assert answer.status_code == 400, answer.text
    assert "ID token" in answer.text and problem in answer.text
    assert not signed_in and site.audit_head() == head and site.roles("hana") == []


def test_a_deactivated_person_is_refused_and_nothing_is_written(site):
    head = site.audit_head()

    async def scenario(browser: Browser):
        return await browser.sign_in("dora"), browser.signed_in()

    answer, signed_in = browse(site, scenario)
    assert answer.status_code == 403 and "deactivated" in answer.text
    assert not signed_in and site.audit_head() == head and site.store.grants("dora") == []


def test_groups_named_like_roles_grant_nothing_unmapped(site):
    head = site.audit_head()

    answer = browse(site, lambda browser: browser.sign_in("mallory"))
    assert answer.status_code == 303
    assert site.roles("mallory") == [] and site.audit_head() == head and not site.store.grants("mallory")
    with pytest.raises(NotAdministrator):
        site.engine.add_person("eve", name="Eve", actor="mallory", now=T0)


def test_someone_the_directory_does_not_know_is_refused_without_provisioning(site):
    head = site.audit_head()

    async def scenario(browser: Browser):
        return await browser.sign_in("newbie"), browser.signed_in()

    answer, signed_in = browse(site, scenario)
    assert answer.status_code == 403 and "not in the directory" in answer.text
    assert not signed_in and site.audit_head() == head and site.store.person("newbie") is None


def test_an_unverified_email_never_finds_a_person(database, tmp_path, provider):
    site = Site(database, tmp_path, provider, oidc_person_claim="email")
    try:
        site.engine.add_person("u.nverified", name="U", email="unverified@example.org", actor=ADMIN, now=T0)
        head = site.audit_head()
        answer = browse(site, lambda browser: browser.sign_in("unverified"))
        assert answer.status_code == 403 and "verified email" in answer.text
        assert site.audit_head() == head
        found = browse(site, lambda browser: browser.sign_in("alice"))
        assert found.status_code == 303 and site.roles("alice") == ["buyer"]
    finally:
        site.store.close()


def test_a_new_person_is_provisioned_when_the_server_says_so(database, tmp_path, provider):
    site = Site(database, tmp_path, provider, oidc_provision=True)
    try:
        answer = browse(site, lambda browser: browser.sign_in("newbie"))
        assert answer.status_code == 303
        person = site.store.person("newbie")
        assert person is not None and person.active and person.email == "newbie@example.org"
        assert site.roles("newbie") == ["buyer"]
    finally:
        site.store.close()


def test_the_way_out_carries_a_fresh_state_nonce_and_s256_challenge_kept_in_a_cookie_of_its_own(site):
    async def scenario(browser: Browser):
        first = await browser.client.get(APP + "/sign-in/oidc")
        second = await browser.client.get(APP + "/sign-in/oidc")
        return first, second

    first, second = browse(site, scenario)
    asked = [parse_qs(urlsplit(answer.headers["location"]).query) for answer in (first, second)]
    for query in asked:
        assert query["response_type"] == ["code"] and query["code_challenge_method"] == ["S256"]
        assert query["redirect_uri"] == [CALLBACK] and "openid" in query["scope"][0].split()
    assert asked[0]["state"] != asked[1]["state"] and asked[0]["nonce"] != asked[1]["nonce"]
    assert asked[0]["code_challenge"] != asked[1]["code_challenge"]
    cookie = first.headers["set-cookie"]
    assert cookie.startswith("bo_oidc=") and "path=/sign-in/oidc" in cookie and "httponly" in cookie.lower()


def test_after_sign_in_the_browser_goes_back_where_it_was_and_never_to_another_site(site):
    async def scenario(browser: Browser, next_path: str):
        start = await browser.client.get(APP + "/sign-in/oidc", params={"next": next_path})
        page = await browser.follow(start)
        action = re.search(r'action="([^"]+)"', page.text).group(1)
        answer = await browser.client.post(urljoin(str(page.url), action),
                                           data={"login": "alice", "password": USERS["alice"]["password"]})
        callback = await browser.follow(answer, stop_at=CALLBACK)
        return (await browser.client.get(callback)).headers["location"]

    assert browse(site, lambda browser: scenario(browser, "/me")) == "/me"
    assert browse(site, lambda browser: scenario(browser, "//evil.example.org/")) == "/"
    assert browse(site, lambda browser: scenario(browser, "https://evil.example.org/")) == "/"


def test_a_provider_that_does_not_answer_gets_a_page_that_says_so(database, tmp_path, provider):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nobody = f"http://127.0.0.1:{closed.getsockname()[1]}"
    site = Site(database, tmp_path, provider)
    try:
        site.app = site.app_with(oidc_issuer=nobody)
        answer = browse(site, lambda browser: browser.client.get(APP + "/sign-in/oidc"))
        assert answer.status_code == 503 and "did not answer" in answer.text
    finally:
        site.store.close()


def test_a_discovery_document_naming_another_issuer_is_refused(database, tmp_path, provider):
    # A server that hands out a copy of the real provider's discovery document (which names the real issuer).
    document = httpx.get(provider.issuer + "/.well-known/openid-configuration", timeout=10).content

    class Copycat(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, *args: object) -> None:
            pass

    copycat = ThreadingHTTPServer(("127.0.0.1", 0), Copycat)
    threading.Thread(target=copycat.serve_forever, daemon=True).start()
    site = Site(database, tmp_path, provider)
    try:
        site.app = site.app_with(oidc_issuer=f"http://127.0.0.1:{copycat.server_address[1]}")
        answer = browse(site, lambda browser: browser.client.get(APP + "/sign-in/oidc"))
        assert answer.status_code == 502 and "names the issuer" in answer.text and provider.issuer in answer.text
    finally:
        copycat.shutdown()
        copycat.server_close()
        site.store.close()
