"""Nothing lost: a state change, its event and its audit record commit together or not at all."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from backoffice.store.sql_store import SqlTransaction
from backoffice.store.tables import audit_records, cases, events

from .service_request import ANN, DESK, T0, later, payload


def counts(store) -> tuple[int, int, int]:
    with store.engine.connect() as connection:
        return tuple(connection.execute(sa.select(sa.func.count()).select_from(table)).scalar()
                     for table in (cases, events, audit_records))


def test_a_failing_audit_insert_leaves_no_state_change_and_no_event(deployed, store, monkeypatch):
    case = deployed.start_case("service-request", payload(), actor=ANN, now=T0)
    before = counts(store)

    def fail(self, record):
        # The audit row is written, then the database fails before the change commits.
        self.connection.execute(sa.insert(audit_records).values(**record.__dict__))
        raise OSError("disk full")

    monkeypatch.setattr(SqlTransaction, "insert_audit", fail)
    with pytest.raises(OSError, match="disk full"):
        deployed.transition(case.id, "triage", actor=DESK, expected_version=1, now=later(1))
    monkeypatch.undo()
    assert deployed.case(case.id) == case
    assert counts(store) == before
    assert store.audit_head().seq == before[2]


def test_an_audit_insert_the_database_refuses_rolls_back_the_change(deployed, store):
    case = deployed.start_case("service-request", payload(), actor=ANN, now=T0)
    before = counts(store)
    head = store.audit_head()
    # A row already holding the next sequence number makes the engine's audit insert fail in the database.
    with store.engine.begin() as connection:
        connection.execute(sa.insert(audit_records).values(
            seq=head.seq + 1, action="squatter", actor="x", at=T0, detail="{}", prev_hash=head.hash,
            hash="f" * 64))
    with pytest.raises(sa.exc.IntegrityError):
        deployed.transition(case.id, "triage", actor=DESK, expected_version=1, now=later(1))
    assert deployed.case(case.id) == case
    assert counts(store)[:2] == before[:2]
    assert [event.activity for event in deployed.history(case.id)] == ["new"]


def test_a_failing_audit_insert_at_intake_leaves_no_case(deployed, store, monkeypatch):
    before = counts(store)
    monkeypatch.setattr(SqlTransaction, "insert_audit", lambda self, record: (_ for _ in ()).throw(OSError("io")))
    with pytest.raises(OSError):
        deployed.start_case("service-request", payload(), actor=ANN, now=T0, idempotency_key="k")
    monkeypatch.undo()
    assert counts(store) == before
    # The key was not used up: the retry starts the case.
    assert deployed.start_case("service-request", payload(), actor=ANN, now=T0, idempotency_key="k").id


def test_every_change_writes_one_event_and_one_audit_record(deployed, store):
    directory = store.audit_head().seq - 1   # the directory's records come before the deploy's
    case = deployed.start_case("service-request", payload(), actor=ANN, now=T0)
    deployed.transition(case.id, "triage", actor=DESK, expected_version=1, now=later(1))
    # One deploy, one intake, one transition.
    assert counts(store) == (1, 2, directory + 3)
    records = store.audit_records(after_seq=directory)
    assert [record.action for record in records] == ["workflow.deployed", "case.started", "case.transitioned"]
    event_ids = [event.id for event in deployed.history(case.id)]
    assert [f'"event_id":{event_id}' in record.detail for record, event_id in zip(records[1:], event_ids)] == \
        [True, True]
