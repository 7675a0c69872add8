"""The web tests' site: the API and web app over a fresh database, its people with passwords, and signed-in clients.

    def test_something(site):
        alice = site.client("alice")               # a TestClient signed in as alice
        page = alice.get("/requests")
        alice.post("/x", data=site.form(alice, {"field": "value"}))   # with the page's CSRF token

The clock is fixed (tests move it); the server is the one `backoffice serve` runs
(`backoffice.server.create_server`), so /v1 and / are both there.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from argon2 import PasswordHasher

from backoffice.engine import Engine
from backoffice.server import create_server
from backoffice.services.accounts import LocalAccounts
from backoffice.services.settings import ServerSettings
from backoffice.store import SqlStore

from ..api.live_server import ADMIN, PEOPLE, PURCHASE, T0, Clock, populate_directory

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PASSWORD = "correct horse battery staple"
SUPPLY = Path(__file__).resolve().parent / "data" / "supply-request.yaml"
CLERK = "bob"  # the clerk of the supply request (bob is also a buyer of the purchase approval)
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def csrf_of(html: str) -> str:
    """Return the CSRF token of a page's forms."""
    found = CSRF.search(html)
    assert found, "the page has no form with a CSRF field"
    return found.group(1)


@dataclass
class Site:
    """The running app (in process), its engine and clock, and a client per person."""

    app: object
    engine: Engine
    clock: Clock
    files: Path
    _clients: dict[str, TestClient] = field(default_factory=dict)

    def anonymous(self) -> TestClient:
        """Return a new client with no session (its own cookies)."""
        return TestClient(self.app, base_url="http://testserver", follow_redirects=False)

    def sign_in(self, client: TestClient, person: str, password: str = PASSWORD):
        """Sign `client` in through the sign-in form; return the answer to the POST."""
        token = csrf_of(client.get("/sign-in").text)
        return client.post("/sign-in", data={"person": person, "password": password, "csrf_token": token})

    def client(self, person: str) -> TestClient:
        """Return a client signed in as `person` (one per person, kept)."""
        if person not in self._clients:
            client = self.anonymous()
            answer = self.sign_in(client, person)
            assert answer.status_code == 303, answer.text
            self._clients[person] = client
        return self._clients[person]

    def start(self, person: str, workflow: str, fields: dict[str, str], **files) -> object:
        """Send the intake form of `workflow` as `person` with `fields` (f.* names); return the answer."""
        client = self.client(person)
        page = client.get(f"/requests/new/{workflow}").text
        key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
        data = {"csrf_token": csrf_of(page), "idempotency_key": key, "form_action": "submit", **fields}
        return client.post(f"/requests/new/{workflow}", data=data, files=files or None)

    def form(self, client: TestClient, values: dict | None = None, *, page: str = "/") -> dict:
        """Return form values with the CSRF token of `client`'s browser (read from `page`)."""
        return {"csrf_token": csrf_of(client.get(page).text), **(values or {})}

    def close(self) -> None:
        for client in self._clients.values():
            client.close()


def build_site(database: str, files: Path) -> Iterator[Site]:
    """Yield the site over a fresh database: the purchase approval deployed, every person with PASSWORD."""
    clock = Clock()
    store = SqlStore.open(database)
    engine = Engine(store)
    populate_directory(engine, T0)
    engine.deploy(PURCHASE, actor=ADMIN, now=T0)
    engine.deploy(SUPPLY, actor=ADMIN, now=T0)
    engine.grant("clerk", to=CLERK, actor=ADMIN, now=T0, workflow="supply-request")
    # Cheap hashes for the suite's many people (a hash keeps its parameters, so checking them is cheap too).
    accounts = LocalAccounts(engine, hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    for person in (ADMIN, *PEOPLE):
        accounts.set_password(person, PASSWORD, actor=ADMIN, now=T0)
    settings = ServerSettings(database=database, access_log=False, evidence_dir=str(files / "evidence"))
    site = Site(create_server(settings, clock=clock, engine=engine), engine, clock, files)
    try:
        yield site
    finally:
        site.close()
        store.close()
