"""The engine's own events read back as an event log: the as-is map of live work, one call away."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from backoffice.definitions import LIBRARY
from backoffice.engine import Actor, Engine
from backoffice.events.schema import Column
from backoffice.mapping import analyze
from backoffice.store import read_engine_log

from ..directory_fixtures import seed

T0 = datetime(2024, 3, 4, 9, 0, tzinfo=timezone.utc)
DESK, RESOLVER = Actor("bob", "service-desk"), Actor("carl", "resolver")


def run_cases(store, count: int) -> None:
    engine = seed(Engine(store))
    engine.deploy(LIBRARY / "service-request.yaml", actor="lead", now=T0)
    for number in range(count):
        at = T0 + timedelta(hours=number)
        case = engine.start_case("service-request", {
            "summary": f"Request {number}", "description": "-", "category": "it", "urgency": "normal",
            "requester_email": "ann@example.com"}, actor=Actor("ann"), now=at)
        case = engine.transition(case.id, "triage", actor=DESK, expected_version=1, now=at + timedelta(minutes=10))
        if number % 3 == 0:
            engine.transition(case.id, "cancelled", actor=DESK, expected_version=2, now=at + timedelta(minutes=20))
            continue
        case = engine.transition(case.id, "in-progress", actor=DESK, expected_version=2,
                                 now=at + timedelta(minutes=30))
        engine.transition(case.id, "done", actor=RESOLVER, expected_version=3, now=at + timedelta(hours=2),
                          data={"resolution_note": "Done"})


def test_the_engine_events_read_back_in_the_event_schema(store):
    run_cases(store, 2)
    log = read_engine_log(store)
    table = log.table
    assert len(log) == 7
    assert table.column(Column.CASE_ID).to_pylist() == ["1"] * 3 + ["2"] * 4
    assert table.column(Column.ACTIVITY).to_pylist() == ["new", "accept", "withdraw",
                                                         "new", "accept", "assign", "resolve"]
    assert table.column(Column.TIMESTAMP).to_pylist()[0] == T0
    assert set(table.column(Column.SYSTEM).to_pylist()) == {"backoffice"}
    assert table.column(Column.ROLE).to_pylist()[-1] == "resolver"
    assert table.column("workflow").to_pylist() == ["service-request"] * 7
    assert table.column("to_state").to_pylist()[-1] == "done"


def test_the_engine_events_map_like_any_log(store):
    run_cases(store, 6)
    process_map = analyze(read_engine_log(store))
    assert process_map.summary.cases == 6 and process_map.summary.events == 2 * 3 + 4 * 4
    assert {activity.name for activity in process_map.activities} == {"new", "accept", "assign", "resolve",
                                                                      "withdraw"}
    edges = {(edge.source, edge.target): edge.count for edge in process_map.edges}
    assert edges[("accept", "assign")] == 4 and edges[("accept", "withdraw")] == 2
    assert process_map.lanes == "role"
    assert any(handoff for handoff in process_map.handoffs)


def test_a_database_path_is_opened_and_read(database):
    from backoffice.store import SqlStore
    with SqlStore.open(database) as store:
        run_cases(store, 1)
    assert len(read_engine_log(database, workflow="service-request")) == 3
    assert len(read_engine_log(database, workflow="purchase-request")) == 0


@pytest.mark.parametrize("count", [0])
def test_an_empty_store_gives_an_empty_log(store, count):
    run_cases(store, count)
    assert len(read_engine_log(store)) == 0
