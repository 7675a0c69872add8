"""The engine's events follow the one event schema of DESIGN.md, and the engine never reads the clock."""

from __future__ import annotations

import re
from pathlib import Path

import backoffice.engine
from backoffice.engine import EngineEvent

from .service_request import ANN, DESK, T0, later, payload

ENGINE_SOURCE = Path(backoffice.engine.__file__).parent


def test_each_change_is_an_event_in_the_schema(deployed):
    case = deployed.start_case("service-request", payload(category="facilities"), actor=ANN, now=T0)
    deployed.transition(case.id, "triage", actor=DESK, expected_version=1, now=later(1),
                        data={"department": "Finance"})
    start, accept = deployed.history(case.id)
    assert start == EngineEvent(
        case_id=case.id, activity="new", timestamp=T0, workflow="service-request", version=1, resource="ann",
        role="requester", system="backoffice", lifecycle="complete", reason=None, id=start.id,
        attributes={"from_state": None, "to_state": "new", "case_version": 1, "queue": "facilities",
                    "priority": "normal", "owner": None})
    assert (accept.activity, accept.timestamp, accept.resource, accept.role) == ("accept", later(1), "bob",
                                                                                 "service-desk")
    assert dict(accept.attributes) == {"from_state": "new", "to_state": "triage", "case_version": 2,
                                       "queue": "service-desk", "priority": "normal", "owner": None,
                                       "transition": "accept", "data": {"department": "Finance"}}
    assert accept.id > start.id
    assert accept.timestamp.utcoffset().total_seconds() == 0


def test_an_unnamed_transition_is_recorded_as_the_state_it_enters(deployed, engine, definition_copy):
    engine.deploy(definition_copy(("version: 1", "version: 2"), ("{from: new, to: triage, name: accept}",
                                                                 "{from: new, to: triage}")),
                  actor="lead", now=T0)
    case = engine.start_case("service-request", payload(), actor=ANN, now=T0)
    engine.transition(case.id, "triage", actor=DESK, expected_version=1, now=later(1))
    assert [event.activity for event in engine.history(case.id)] == ["new", "triage"]


def test_the_engine_never_reads_the_clock():
    # Time is passed in (STYLE.md): tests run on a fixed clock, and a replay gives the same result.
    reads = re.compile(r"datetime\.(now|utcnow|today)\(|time\.time\(|date\.today\(")
    offenders = [f"{path.name}:{number}" for path in ENGINE_SOURCE.rglob("*.py")
                 for number, line in enumerate(path.read_text().splitlines(), start=1) if reads.search(line)]
    assert offenders == []


def test_the_engine_core_imports_no_database_library():
    offenders = [path.name for path in ENGINE_SOURCE.rglob("*.py")
                 if re.search(r"^\s*(import|from)\s+(sqlalchemy|psycopg|alembic|sqlite3)", path.read_text(), re.M)]
    assert offenders == []


def test_the_public_names_of_the_engine_and_the_store():
    import backoffice.store
    assert set(backoffice.engine.__all__) == {
        "ActionCall", "ActionFailed", "ActionRegistry", "Actor", "AuditAction", "AuditHead", "AuditKey",
        "AuditLocations", "AuditProblem", "AuditRecord", "AuditReport", "Case", "Checkpoint", "CheckpointStore",
        "Decision", "DeployedVersion", "Engine", "EngineEvent", "OutboxEntry", "OutboxStatus", "Store",
        "StoreTransaction", "StoredVersion", "Worker", "WorkerReport", "checkpoint", "verify"}
    assert set(backoffice.store.__all__) == {"DEFAULT_DATABASE", "SqlStore", "create_engine", "database_url",
                                             "migrate", "read_engine_log"}
