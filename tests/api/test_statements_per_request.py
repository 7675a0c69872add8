"""How many SQL statements one HTTP request costs: an upper bound per operation, so an N+1 cannot come back unseen.

Issue 9's speed target is per request; at 100,000 cases most of a request's time was statements
that read the same token, person and grants again and again. These tests count the statements
the app sends for the four operations the benchmark times (list a queue, show a case, claim next,
a transition) with SQLAlchemy's `before_cursor_execute` event, over the app in this process
(the same app `backoffice serve` runs), and hold each to a bound. The counts do not grow with
the number of tasks in the queue or cases in the database: the test makes several of each.
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from backoffice.engine import Engine

from .live_server import ADMIN, PAYLOAD, PURCHASE, T0, Clock, in_process

# The most statements each operation may send, authentication included: one above what it sends
# today, far below an N+1 over the six tasks in the queue or the four workflows (or authentication's
# old eight reads). BEGIN is not counted: SQLite's dialect sends it (store.connect), as psycopg does alone.
# Listing a queue reads which workflow versions there are (one read, without their content) to decide
# what the caller sees. The first request of a process also loads each version it has not loaded yet
# (three here, the copies no case has used): its content, and the sealed audit record that wrote it,
# to check the row was not edited in the database; later requests load none (counted apart as
# "list a queue"). Showing a case reads the case once, then its parts by its id. A caller's first request
# to a process (here "first request" for bea, "show a case" for otto) also reads, in one statement, the
# audit records that wrote their token, person and grant rows, to hold them to their seals (see
# engine.directory_seal): one statement more; later requests by the same
# caller hold the rows as this engine held them, and read nothing more.
# Authentication is one statement (the token, its holder, their grants, groups and queues).
BOUNDS = {"sqlite": {"first request": 11, "list a queue": 4, "show a case": 11, "claim next": 9, "transition": 14},
          "postgresql": {"first request": 11, "list a queue": 4, "show a case": 11, "claim next": 9,
                         "transition": 14}}


class Statements:
    """Counts the statements an engine's database is sent, while `counting`."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.sent: list[str] = []

    def _statement(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.sent.append(statement)

    @contextmanager
    def counting(self):
        self.sent = []
        sa.event.listen(self.engine, "before_cursor_execute", self._statement)
        try:
            yield self
        finally:
            sa.event.remove(self.engine, "before_cursor_execute", self._statement)


@pytest.fixture
def served(database: str, tmp_path):
    def more_workflows_in_purchasing(engine: Engine) -> None:
        # More workflows whose tasks share the purchasing queue: claiming the next task identifies
        # the worker in each, which must not cost a read of the directory per workflow.
        for copy in ("purchase-copy-1", "purchase-copy-2", "purchase-copy-3"):
            path = tmp_path / f"{copy}.yaml"
            path.write_text(PURCHASE.read_text().replace("id: purchase-approval\n", f"id: {copy}\n"))
            engine.deploy(path, actor=ADMIN, now=T0)

    with in_process(database, tmp_path, arrange=more_workflows_in_purchasing) as running:
        yield running


def _client_of(engine: Engine, clock: Clock, client: TestClient, person: str) -> dict:
    token = engine.create_token(person, actor=ADMIN, now=clock.now).secret
    return {"Authorization": f"Bearer {token}"}


def _cases_in_purchasing(engine, clock, client, headers_of, count: int) -> list[dict]:
    """Start `count` cases as alice and prepare them, so each waits in the purchasing queue."""
    cases = []
    for _ in range(count):
        answer = client.post("/v1/workflows/purchase-approval/cases", json=PAYLOAD, headers=headers_of("alice"))
        assert answer.status_code in (200, 201), answer.text
        case = answer.json()
        answer = client.post(f"/v1/cases/{case['id']}/transitions", json={"to": "prepare"},
                             headers={**headers_of("alice"), "If-Match": f'"{case["version"]}"'})
        assert answer.status_code == 200, answer.text
        cases.append(answer.json())
    return cases


def test_each_operation_sends_a_bounded_number_of_statements(served):
    engine, clock, client = served
    tokens: dict[str, dict] = {}

    def headers_of(person: str) -> dict:
        if person not in tokens:
            tokens[person] = _client_of(engine, clock, client, person)
        return tokens[person]

    cases = _cases_in_purchasing(engine, clock, client, headers_of, 6)
    for person in ("bea", "otto"):
        headers_of(person)
    statements = Statements(engine.store.engine)
    counts = {}
    for operation in ("first request", "list a queue"):
        with statements.counting():
            answer = client.get("/v1/tasks", params={"queue": "purchasing", "status": "open", "limit": 50},
                                headers=headers_of("bea"))
        assert answer.status_code == 200, answer.text
        assert len(answer.json()["items"]) == 6
        counts[operation] = list(statements.sent)
    with statements.counting():
        answer = client.get(f"/v1/cases/{cases[0]['id']}", headers=headers_of("otto"))
    assert answer.status_code == 200, answer.text
    counts["show a case"] = list(statements.sent)
    with statements.counting():
        answer = client.post("/v1/tasks/next", json={"queues": ["purchasing"]}, headers=headers_of("bea"))
    assert answer.status_code == 200, answer.text
    counts["claim next"] = list(statements.sent)
    case = cases[1]
    with statements.counting():
        answer = client.post(f"/v1/cases/{case['id']}/transitions", json={"to": "approve", "data": {"supplier": "Acme"}},
                             headers={**headers_of("bea"), "If-Match": f'"{case["version"]}"'})
    assert answer.status_code == 200, answer.text
    counts["transition"] = list(statements.sent)
    print({operation: len(sent) for operation, sent in counts.items()})
    for operation, sent in counts.items():
        assert len(sent) <= BOUNDS[engine.store.engine.dialect.name][operation], (operation, len(sent), sent)
