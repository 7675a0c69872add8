"""The API against its own OpenAPI document: a stateless schemathesis run with bounded examples.

Every operation of /openapi.json gets generated requests (valid and invalid ones) from an
administrator's token and from a requester's, against the app over a real SQLite database.
No answer may be a 5xx, use an undocumented status code or content type, or break its schema.
"""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis import checks

from backoffice.api import ApiSettings, create_app
from backoffice.engine import Engine
from backoffice.store import SqlStore

from .live_server import ADMIN, PURCHASE, T0, Clock, populate_directory

CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance, checks.response_headers_conformance]
MAX_EXAMPLES = 25


def _audit_folder(folder, patch: pytest.MonkeyPatch) -> None:
    patch.setenv("BACKOFFICE_AUDIT_KEY", str(folder / "audit" / "audit.key"))
    patch.setenv("BACKOFFICE_CHECKPOINTS", str(folder / "audit" / "checkpoints"))


@pytest.fixture(scope="module")
def served_module(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("schemathesis")
    database = str(folder / "backoffice.db")
    store = SqlStore.open(database)
    # The audit key and checkpoints of this module's database, in its folder (never the home directory):
    # made here, before any test's own folder is set, and set again for each test (`served`).
    with pytest.MonkeyPatch.context() as patch:
        _audit_folder(folder, patch)
        engine = Engine(store)
        populate_directory(engine, T0)
        engine.deploy(PURCHASE, actor=ADMIN, now=T0)
        # Something for ids to find: a case waiting in prepare.
        engine.start_case("purchase-approval", {"item": "desk", "amount": 300}, actor="alice", now=T0)
    app = create_app(ApiSettings(database=database, access_log=False, evidence_dir=str(folder / "evidence")),
                     clock=Clock(), engine=engine)
    tokens = {person: engine.create_token(person, actor=ADMIN, now=T0).secret for person in (ADMIN, "alice")}
    yield app, tokens, folder
    store.close()


@pytest.fixture
def served(served_module, monkeypatch):
    """The module's app and tokens, its audit key and checkpoints where the server looks for them."""
    app, tokens, folder = served_module
    _audit_folder(folder, monkeypatch)
    return app, tokens


def _operations(app):
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


# schemathesis's pytest plugin does not run under pytest 9 (it reads a private node attribute), so
# each operation's strategies (valid requests, and requests that break the schema) are driven by
# Hypothesis here: the same generation and the same checks.
def test_no_server_error_and_no_answer_outside_the_schema(served):
    app, tokens = served
    failures: list[str] = []
    calls: Counter[int] = Counter()
    operations = _operations(app)
    assert len(operations) >= 20

    def check(operation, case) -> None:
        for person in (ADMIN, "alice"):
            response = case.call(headers={"Authorization": f"Bearer {tokens[person]}"})
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


def test_the_openapi_document_is_3_1_and_names_every_endpoint(served):
    app, _ = served
    document = app.openapi()
    assert document["openapi"].startswith("3.1")
    assert {"/v1/cases", "/v1/cases/{case_id}/transitions", "/v1/tasks/next", "/v1/dead-letters",
            "/v1/audit/verify", "/health", "/ready", "/metrics", "/v1/steps/in-doubt",
            "/v1/steps/{entry_id}/confirmation", "/v1/workflows/control-diff", "/v1/changes",
            "/v1/workflows/{workflow}/changes/{version}/decision", "/v1/cases/{case_id}/evidence-pack",
            "/v1/workflows/{workflow}/map", "/v1/workflows/{workflow}/map/report",
            "/v1/workflows/{workflow}/conformance"} <= set(document["paths"])
