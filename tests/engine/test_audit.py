"""Proof: the audit chain verifies, and names the first record edited, re-hashed or removed in the database."""

from __future__ import annotations

import sqlalchemy as sa

from backoffice.engine import verify
from backoffice.engine.audit import GENESIS, chain_hash
from backoffice.store.tables import audit_head, audit_records

from .service_request import ANN, DESK, RESOLVER, T0, later, payload


def five_records(engine) -> None:
    """Deploy (1), start (2), and three moves (3, 4, 5)."""
    case = engine.start_case("service-request", payload(), actor=ANN, now=T0)
    case = engine.transition(case.id, "triage", actor=DESK, expected_version=1, now=later(1))
    case = engine.transition(case.id, "in-progress", actor=DESK, expected_version=2, now=later(2))
    engine.transition(case.id, "done", actor=RESOLVER, expected_version=3, now=later(3),
                      data={"resolution_note": "Fixed"})


def sql(store, statement) -> None:
    with store.engine.begin() as connection:
        connection.execute(statement)


def test_an_untouched_chain_verifies(deployed, store):
    five_records(deployed)
    report = verify(store)
    assert report.ok and report.records == 5 and report.head.seq == 5
    assert str(report).startswith("audit chain ok: 5 records")


def test_each_record_is_chained_to_the_one_before(deployed, store):
    five_records(deployed)
    records = store.audit_records()
    assert records[0].prev_hash == GENESIS
    assert all(later_record.prev_hash == earlier.hash for earlier, later_record in zip(records, records[1:]))
    assert all(record.hash == chain_hash(record.prev_hash, record.body()) for record in records)
    assert records[3].actor == "bob" and records[3].role == "service-desk" and records[3].at == later(2)


def test_a_record_edited_in_the_database_is_named(deployed, store):
    five_records(deployed)
    sql(store, sa.update(audit_records).where(audit_records.c.seq == 3).values(actor="mallory"))
    report = verify(store)
    assert not report.ok and report.first_altered == 3
    assert str(report) == "audit chain broken at record 3: record 3 was altered: its content no longer matches its hash"


def test_an_edit_that_recomputes_the_hash_is_caught_by_the_next_record(deployed, store):
    five_records(deployed)
    record = store.audit_records(after_seq=1, limit=1)[0]
    forged = record.body() | {"detail": record.detail.replace('"state":"new"', '"state":"triage"')}
    forged_hash = chain_hash(record.prev_hash, forged)
    sql(store, sa.update(audit_records).where(audit_records.c.seq == 2)
        .values(detail=forged["detail"], hash=forged_hash))
    report = verify(store)
    assert (report.ok, report.first_altered) == (False, 2)


def test_a_removed_record_is_named(deployed, store):
    five_records(deployed)
    sql(store, sa.delete(audit_records).where(audit_records.c.seq == 4))
    report = verify(store)
    assert (report.ok, report.first_altered) == (False, 4)
    assert "record 4 is missing" in report.problem


def test_records_cut_off_the_end_are_named(deployed, store):
    five_records(deployed)
    sql(store, sa.delete(audit_records).where(audit_records.c.seq >= 4))
    report = verify(store)
    assert (report.ok, report.first_altered) == (False, 4)
    assert "records 4 to 5 are missing" in report.problem


def test_a_rewritten_last_record_does_not_match_the_head(deployed, store):
    five_records(deployed)
    last = store.audit_records(after_seq=4)[0]
    forged = last.body() | {"actor": "mallory"}
    sql(store, sa.update(audit_records).where(audit_records.c.seq == 5)
        .values(actor="mallory", hash=chain_hash(last.prev_hash, forged)))
    report = verify(store)
    assert (report.ok, report.first_altered) == (False, 5)
    assert "chain head" in report.problem


def test_verify_reads_the_chain_in_batches(deployed, store):
    five_records(deployed)
    assert verify(store, batch=2).ok
    sql(store, sa.update(audit_records).where(audit_records.c.seq == 5).values(role="admin"))
    assert verify(store, batch=2).first_altered == 5


def test_an_empty_chain_verifies(store):
    report = verify(store)
    assert report.ok and report.records == 0 and report.head.hash == GENESIS
    with store.engine.connect() as connection:
        assert connection.execute(sa.select(audit_head.c.seq)).scalar() == 0
