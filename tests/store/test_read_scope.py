"""The reads of one request share one connection (PostgreSQL), see the request's own writes, and never wait holding it."""

from __future__ import annotations

import sqlalchemy as sa

from backoffice.engine import Actor
from backoffice.store.read_scope import shared_reader, shared_reads

from ..engine.service_request import ANN, DESK, T0, TEMPLATE, later, payload


def _checkouts(store) -> list[int]:
    taken: list[int] = []
    sa.event.listen(store.engine.pool, "checkout", lambda *args: taken.append(1))
    return taken


def test_reads_in_a_request_share_one_connection_and_see_its_own_writes(engine, database):
    engine.deploy(TEMPLATE, actor="lead", now=T0)
    case = engine.start_case("service-request", payload(), actor=ANN, now=T0)
    store = engine.store
    taken = _checkouts(store)
    with shared_reads():
        for _ in range(5):
            assert engine.case(case.id).state == "new"
        reads = len(taken)
        moved = engine.transition(case.id, "triage", actor=DESK, expected_version=case.version, now=later(1))
        # A read after the request's own write sees it (autocommit: each statement sees what is committed).
        assert engine.case(case.id).state == "triage" == moved.state
    if database.startswith("postgresql"):
        assert reads == 1
    else:
        # SQLite keeps a connection per read: a long reader would hold its snapshot past the request's writes.
        assert reads == 5


def test_a_write_hands_the_request_s_reader_back_before_taking_a_connection(engine, database):
    engine.deploy(TEMPLATE, actor="lead", now=T0)
    case = engine.start_case("service-request", payload(), actor=ANN, now=T0)
    store = engine.store
    with shared_reads():
        engine.case(case.id)
        reader = shared_reader(store.engine)
        engine.transition(case.id, "triage", actor=Actor("bob", "service-desk"), expected_version=case.version,
                          now=later(1))
        if reader is None:
            assert not database.startswith("postgresql")
            return
        # Released before the write waited for its own connection: the next read takes a reader again.
        assert reader.closed
        assert shared_reader(store.engine) is not reader
    assert reader.closed
