"""A real HTTP server on a free loopback port, over a real database (SQLite and PostgreSQL), and its people.

`serve` runs `backoffice serve` as a process of its own (see server_process.py): every request
goes through TCP, Uvicorn, the middleware and the app, as in production. `LiveServer` serves an
app the test built in a thread of the test process, for tests that need to hand it something
(an identity provider's settings, a database not yet migrated). Either way the app's clock is
fixed (tests move it), never the machine's.
"""

from __future__ import annotations

import socket
from contextlib import contextmanager
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import uvicorn
from fastapi.testclient import TestClient

from backoffice.api import ApiSettings, create_app
from backoffice.engine import Engine
from backoffice.store import SqlStore

from .server_process import ServerProcess, SharedClock

PURCHASE = Path(__file__).resolve().parents[1] / "engine" / "purchase-approval.yaml"
T0 = datetime(2024, 3, 4, 9, 0, tzinfo=timezone.utc)  # a Monday morning
PAYLOAD = {"item": "laptop", "amount": 1800}

# The people of the purchase approval and the roles the directory grants them ("root" is its first
# administrator, made by bootstrapping the directory).
PEOPLE = {
    "alice": (),                         # a requester
    "dave": (),                          # another requester
    "bea": ("buyer",),                   # works the purchasing queue
    "bob": ("buyer",),                   # another buyer
    "hana": ("budget-holder",),
    "ivan": ("budget-holder",),
    "jade": ("budget-holder",),
    "otto": ("auditor",),                # reads everything, moves nothing
    "tilda": ("team-lead",),             # reads every case and task, takes part in none by that role
    "ops": ("operator",),
}
ADMIN = "root"


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def populate_directory(engine: Engine, now: datetime) -> None:
    """Bootstrap the directory with its administrator, and add the people with their roles."""
    engine.bootstrap(ADMIN, now=now)
    for person, roles in PEOPLE.items():
        engine.add_person(person, name=person.title(), actor=ADMIN, now=now)
        for role in roles:
            engine.grant(role, to=person, actor=ADMIN, now=now)


class LiveServer:
    """Uvicorn serving an app on a loopback socket, in a thread; stopped at the end."""

    def __init__(self, app) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        # Waiting for the server to listen, not for the clock: the loop ends as soon as it is up.
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)
        self.socket.close()


@dataclass
class Api:
    """The running server, its engine (for arranging what HTTP cannot), its clock and tokens."""

    url: str
    engine: Engine
    clock: Clock | SharedClock
    _clients: dict[str, httpx.Client] = field(default_factory=dict)

    def token(self, person: str, *, valid_for: timedelta = timedelta(days=30), roles: tuple[str, ...] = ()) -> str:
        """Return a new API token of `person`, made by the administrator through the directory."""
        return self.engine.create_token(person, actor=ADMIN, now=self.clock.now, valid_for=valid_for,
                                        roles=roles).secret

    def client(self, person: str | None = None, *, token: str | None = None) -> httpx.Client:
        """Return an HTTP client authenticated as `person` (one token each), or with `token`, or without."""
        key = person or f"token:{token}"
        if key not in self._clients:
            headers = {}
            if person is not None:
                headers["Authorization"] = f"Bearer {self.token(person)}"
            elif token is not None:
                headers["Authorization"] = f"Bearer {token}"
            self._clients[key] = httpx.Client(base_url=self.url, headers=headers, timeout=30)
        return self._clients[key]

    def close(self) -> None:
        for client in self._clients.values():
            client.close()


def serve(database: str, files: Path, *, settings: dict[str, str] | None = None,
          arrange: Callable[[Engine], None] | None = None) -> Iterator[Api]:
    """Yield `backoffice serve` running as a process over a fresh database with the purchase approval deployed.

    `arrange` prepares the database through the core before the server starts (a service account,
    another workflow); `settings` are the server's BACKOFFICE_ settings (see server_process.py).
    """
    clock = SharedClock(files / "clock.txt", T0)
    store = SqlStore.open(database)
    engine = Engine(store)
    populate_directory(engine, T0)
    engine.deploy(PURCHASE, actor=ADMIN, now=T0)
    if arrange is not None:
        arrange(engine)
    try:
        with ServerProcess(database, files, clock, settings) as server:
            running = Api(server.url, engine, clock)
            try:
                yield running
            finally:
                running.close()
    finally:
        store.close()


served = contextmanager(serve)
"""`serve` as a context manager, for a test that starts its own server: `with served(database, tmp_path) as api:`."""


@contextmanager
def in_process(database: str, files: Path, *,
               arrange: Callable[[Engine], None] | None = None) -> Iterator[tuple[Engine, Clock, TestClient]]:
    """Yield (engine, clock, client) of the app in this process over a fresh database with the purchase approval
    deployed: for a test that watches the server's own statements or exception handlers, not the wire."""
    clock = Clock()
    with SqlStore.open(database) as store:
        engine = Engine(store)
        populate_directory(engine, T0)
        engine.deploy(PURCHASE, actor=ADMIN, now=T0)
        if arrange is not None:
            arrange(engine)
        app = create_app(ApiSettings(database=database, evidence_dir=str(files / "evidence")),
                         clock=clock, engine=engine)
        with TestClient(app) as client:
            yield engine, clock, client


def start(api: Api, person: str = "alice", *, key: str | None = None, payload: dict | None = None) -> dict:
    """Start a purchase case as `person` over HTTP; return its JSON."""
    headers = {"Idempotency-Key": key} if key else {}
    answer = api.client(person).post("/v1/workflows/purchase-approval/cases", json=payload or PAYLOAD,
                                     headers=headers)
    assert answer.status_code in (200, 201), answer.text
    return answer.json()


def move(api: Api, person: str, case: dict, to: str, data: dict | None = None) -> httpx.Response:
    """Move a case over HTTP with If-Match set to the version in `case`."""
    return api.client(person).post(f"/v1/cases/{case['id']}/transitions", json={"to": to, "data": data},
                                   headers={"If-Match": f'"{case["version"]}"'})


def to_approval(api: Api, person: str = "alice") -> dict:
    """A case started by `person`, prepared by bea, waiting for approval with its quote attached."""
    case = start(api, person)
    case = move(api, person, case, "prepare").json()
    answer = move(api, "bea", case, "approve", {"supplier": "Acme"})
    assert answer.status_code == 200, answer.text
    api.engine.attach_evidence(case["id"], "quote", actor="bea", now=api.clock.now)
    return answer.json()
