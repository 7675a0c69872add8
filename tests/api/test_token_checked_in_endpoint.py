"""The busiest endpoints check the bearer token in their own thread; what they answer stays what every endpoint answers.

List a queue, show a case, claim next, release and a transition take the token as sent and check
it first thing (`principal.authenticated`) instead of through a dependency. These tests hold the
answers to the old ones: no token, an unknown one or a revoked one is 401, also when the request's
parameters are wrong as well (401 before 422); a live token with wrong parameters is 422.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from backoffice.api import ApiSettings, create_app
from backoffice.engine import Engine
from backoffice.store import SqlStore

from .live_server import ADMIN, PURCHASE, T0, Clock, populate_directory

# (method, path, JSON body) of each endpoint, with a parameter wrong: a 422 once the caller is known.
WRONG_PARAMETERS = (
    ("GET", "/v1/tasks?queue=purchasing&limit=0", None),
    ("GET", "/v1/cases/0", None),
    ("POST", "/v1/tasks/next", {"queues": "purchasing"}),
    ("POST", "/v1/tasks/0/release", None),
    ("POST", "/v1/cases/1/transitions", {"to": 5}),
)


@pytest.fixture
def served(database: str, tmp_path):
    clock = Clock()
    with SqlStore.open(database) as store:
        engine = Engine(store)
        populate_directory(engine, T0)
        engine.deploy(PURCHASE, actor=ADMIN, now=T0)
        app = create_app(ApiSettings(database=database, evidence_dir=str(tmp_path / "evidence")),
                         clock=clock, engine=engine)
        with TestClient(app) as client:
            yield engine, clock, client


@pytest.mark.parametrize("method,path,body", WRONG_PARAMETERS)
def test_a_token_that_proves_nothing_is_401_before_the_parameters_are_judged(served, method, path, body):
    engine, clock, client = served
    revoked = engine.create_token("bea", actor=ADMIN, now=clock.now)
    engine.revoke_token(revoked.token.id, actor=ADMIN, now=clock.now)
    for headers in ({}, {"Authorization": "Bearer not-a-token-of-ours"},
                    {"Authorization": f"Bearer {revoked.secret}"}):
        answer = client.request(method, path, json=body, headers=headers)
        assert answer.status_code == 401, (headers, answer.text)
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    live = engine.create_token("bea", actor=ADMIN, now=clock.now)
    answer = client.request(method, path, json=body, headers={"Authorization": f"Bearer {live.secret}"})
    assert answer.status_code == 422, answer.text


def test_a_token_revoked_between_two_requests_counts_on_the_next(served):
    engine, clock, client = served
    token = engine.create_token("bea", actor=ADMIN, now=clock.now)
    headers = {"Authorization": f"Bearer {token.secret}"}
    assert client.get("/v1/tasks", params={"queue": "purchasing"}, headers=headers).status_code == 200
    engine.revoke_token(token.token.id, actor=ADMIN, now=clock.now)
    for method, path, body in (("GET", "/v1/tasks?queue=purchasing", None), ("GET", "/v1/cases/1", None),
                               ("POST", "/v1/tasks/next", {"queues": ["purchasing"]}),
                               ("POST", "/v1/tasks/1/release", None),
                               ("POST", "/v1/cases/1/transitions", {"to": "prepare"})):
        assert client.request(method, path, json=body, headers=headers).status_code == 401, path
