"""The busiest endpoints check the bearer token in their own thread; what they answer stays what every endpoint answers.

List a queue, show a case, claim next, release and a transition take no dependency: each checks
the request's token first thing (`principal.authenticated`) instead of through one. These tests hold the
answers to the old ones: no token, an unknown one or a revoked one is 401, also when the request's
parameters are wrong as well (401 before 422); a live token with wrong parameters is 422.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import textwrap

import pytest

import backoffice.api
from backoffice.api.app import create_app
from backoffice.api.principal import checks_inside
from backoffice.services.settings import ApiSettings

from .live_server import ADMIN, in_process

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
    with in_process(database, tmp_path) as running:
        yield running


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


def _first_call(endpoint) -> str | None:
    """The name of the function the endpoint's first statement (after its docstring) calls, if it calls one."""
    [definition] = ast.parse(textwrap.dedent(inspect.getsource(endpoint))).body
    body = definition.body[1:] if ast.get_docstring(definition) else definition.body
    first = body[0]
    value = first.value if isinstance(first, (ast.Assign, ast.Expr)) else None
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
        return value.func.id
    return None


def _marked_endpoints() -> list:
    """Every function of the API's modules marked as checking the token itself (`authenticates_inside`)."""
    found = []
    for module_info in pkgutil.iter_modules(backoffice.api.__path__):
        module = importlib.import_module(f"backoffice.api.{module_info.name}")
        found += [function for function in vars(module).values()
                  if inspect.isfunction(function) and function.__module__ == module.__name__
                  and checks_inside(function)]
    return found


def test_every_endpoint_checking_the_token_itself_checks_it_before_anything_else():
    # An endpoint that takes no `Caller` and forgot to check the token would serve anyone: each
    # marked one must begin with `authenticated(...)`.
    endpoints = _marked_endpoints()
    assert len(endpoints) >= 5, endpoints
    for endpoint in endpoints:
        assert _first_call(endpoint) == "authenticated", endpoint.__qualname__


def test_every_v1_endpoint_without_a_caller_checks_the_token_itself(tmp_path):
    # The other way round: an endpoint of /v1 whose dependencies prove nobody (no `Caller`) must be one
    # that checks the token itself, or one whose own check is another (the signed webhooks).
    app = create_app(ApiSettings(database=str(tmp_path / "routes.db")))
    for route in app.routes:
        if not getattr(route, "path", "").startswith("/v1/") or not hasattr(route, "dependant"):
            continue
        calls = set()
        pending = list(route.dependant.dependencies)
        while pending:
            dependency = pending.pop()
            calls.add(getattr(dependency.call, "__name__", ""))
            pending += dependency.dependencies
        if "current_principal" not in calls and not checks_inside(route.endpoint):
            assert route.path.startswith("/v1/webhooks/"), (route.path, route.endpoint.__qualname__)
