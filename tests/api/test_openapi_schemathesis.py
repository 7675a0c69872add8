"""The API against its own OpenAPI document: a stateless schemathesis run with bounded examples.

Every operation of /openapi.json gets generated requests (valid and invalid ones) from an
administrator's token and from a requester's, sent over HTTP to `backoffice serve` on SQLite and
on PostgreSQL.
No answer may be a 5xx, use an undocumented status code or content type, or break its schema.
"""

from __future__ import annotations

from collections import Counter
from contextlib import contextmanager

import httpx
import pytest
import requests  # schemathesis's own HTTP client: one session keeps the connection alive
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis import checks

from ..databases import DATABASES, database_target
from .live_server import ADMIN, T0, served

CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance, checks.response_headers_conformance]
MAX_EXAMPLES = 25


def _audit_folder(folder, patch: pytest.MonkeyPatch) -> None:
    patch.setenv("BACKOFFICE_AUDIT_KEY", str(folder / "audit" / "audit.key"))
    patch.setenv("BACKOFFICE_CHECKPOINTS", str(folder / "audit" / "checkpoints"))


@pytest.fixture(scope="module", params=DATABASES)
def served_module(request, tmp_path_factory: pytest.TempPathFactory):
    """`backoffice serve` over a database of this module, with the tokens of an administrator and a requester."""
    folder = tmp_path_factory.mktemp("schemathesis")
    # The audit key and checkpoints of this module's database, in its folder (never the home directory):
    # made here, before any test's own folder is set, and set again for each test (`served`).
    with pytest.MonkeyPatch.context() as patch:
        _audit_folder(folder, patch)
        with contextmanager(database_target)(request.param, folder) as database:
            # Something for ids to find: a case waiting in prepare.
            def arrange(engine) -> None:
                engine.start_case("purchase-approval", {"item": "desk", "amount": 300}, actor="alice", now=T0)
            with served(database, folder, arrange=arrange) as api:
                tokens = {person: api.token(person) for person in (ADMIN, "alice")}
                yield api.url, tokens, folder


@pytest.fixture
def served_url(served_module, monkeypatch):
    """The module's server and tokens, its audit key and checkpoints where the test process looks for them."""
    url, tokens, folder = served_module
    _audit_folder(folder, monkeypatch)
    return url, tokens


def _operations(url: str):
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]


# schemathesis's pytest plugin does not run under pytest 9 (it reads a private node attribute), so
# each operation's strategies (valid requests, and requests that break the schema) are driven by
# Hypothesis here: the same generation and the same checks.
def test_no_server_error_and_no_answer_outside_the_schema(served_url):
    url, tokens = served_url
    failures: list[str] = []
    calls: Counter[int] = Counter()
    operations = _operations(url)
    assert len(operations) >= 20
    session = requests.Session()   # one connection, kept alive, as a client would

    def check(operation, case) -> None:
        for person in (ADMIN, "alice"):
            response = case.call(base_url=url, session=session,
                                 headers={"Authorization": f"Bearer {tokens[person]}"})
            calls[response.status_code] += 1
            try:
                case.validate_response(response, checks=CHECKS)
            except Exception as failure:  # noqa: BLE001 - collected, reported together below
                failures.append(f"{operation.label} as {person}: {' '.join(str(failure).split())[:600]}")
                raise

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            def run(case):
                check(operation, case)

            try:
                run()
            except Unsatisfiable:
                # Nothing to generate (no parameters, or none that can be made invalid): one plain call.
                if mode is GenerationMode.POSITIVE:
                    check(operation, operation.Case())
            except Exception:  # noqa: BLE001 - the failure is in `failures`
                if not failures:
                    raise
    assert not failures, "\n".join(failures)
    assert not [status for status in calls if status >= 500]
    assert calls[200] and calls[422] and calls[404]


def test_the_openapi_document_is_3_1_and_names_every_endpoint(served_url):
    url, _ = served_url
    document = httpx.get(f"{url}/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    assert {"/v1/cases", "/v1/cases/{case_id}/transitions", "/v1/tasks/next", "/v1/dead-letters",
            "/v1/audit/verify", "/health", "/ready", "/metrics", "/v1/steps/in-doubt",
            "/v1/steps/{entry_id}/confirmation", "/v1/workflows/control-diff", "/v1/changes",
            "/v1/workflows/{workflow}/changes/{version}/decision", "/v1/cases/{case_id}/evidence-pack",
            "/v1/workflows/{workflow}/map", "/v1/workflows/{workflow}/map/report",
            "/v1/workflows/{workflow}/conformance"} <= set(document["paths"])
