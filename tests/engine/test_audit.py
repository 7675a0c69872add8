"""Proof: the audit chain verifies, and names the first record edited, re-hashed or removed in the database."""

from __future__ import annotations

import sqlalchemy as sa

from backoffice.engine import verify
from backoffice.engine.audit import GENESIS, chain_hash
from backoffice.store.tables import audit_head, audit_records

from .service_request import ANN, DESK, RESOLVER, T0, later, payload


def five_records(engine) -> int:
    """Deploy (1), start (2), and three moves (3, 4, 5); return the offset of record 1 (the directory's come first).

    Record k of the five has sequence number offset + k.
    """
    offset = engine.store.audit_head().seq - 1
    case = engine.start_case("service-request", payload(), actor=ANN, now=T0)
    case = engine.transition(case.id, "triage", actor=DESK, expected_version=1, now=later(1))
    case = engine.transition(case.id, "in-progress", actor=DESK, expected_version=2, now=later(2))
    engine.transition(case.id, "done", actor=RESOLVER, expected_version=3, now=later(3),
                      data={"resolution_note": "Fixed"})
    return offset


def sql(store, statement) -> None:
    with store.engine.begin() as connection:
        connection.execute(statement)


def test_an_untouched_chain_verifies(deployed, store):
    o = five_records(deployed)
    report = verify(store)
    assert report.ok and report.records == o + 5 and report.head.seq == o + 5
    assert str(report).startswith(f"audit chain ok: {o + 5} records")


def test_each_record_is_chained_to_the_one_before(deployed, store):
    o = five_records(deployed)
    records = store.audit_records()
    assert records[0].prev_hash == GENESIS
    assert all(later_record.prev_hash == earlier.hash for earlier, later_record in zip(records, records[1:]))
    assert all(record.hash == chain_hash(record.prev_hash, record.body()) for record in records)
    assert records[o + 3].actor == "bob" and records[o + 3].role == "service-desk" \
        and records[o + 3].at == later(2)


def test_a_record_edited_in_the_database_is_named(deployed, store):
    o = five_records(deployed)
    sql(store, sa.update(audit_records).where(audit_records.c.seq == o + 3).values(actor="mallory"))
    report = verify(store)
    assert not report.ok and report.first_altered == o + 3
    assert str(report) == (f"audit chain broken at record {o + 3}: record {o + 3} was altered: its content no longer "
                           f"matches its hash")


def test_an_edit_that_recomputes_the_hash_is_caught_by_the_next_record(deployed, store):
    o = five_records(deployed)
    record = store.audit_records(after_seq=o + 1, limit=1)[0]
    forged = record.body() | {"detail": record.detail.replace('"state":"new"', '"state":"triage"')}
    forged_hash = chain_hash(record.prev_hash, forged)
    sql(store, sa.update(audit_records).where(audit_records.c.seq == o + 2)
        .values(detail=forged["detail"], hash=forged_hash))
    report = verify(store)
    assert (report.ok, report.first_altered) == (False, o + 2)


def test_a_removed_record_is_named(deployed, store):
    o = five_records(deployed)
    sql(store, sa.delete(audit_records).where(audit_records.c.seq == o + 4))
    report = verify(store)
    assert (report.ok, report.first_altered) == (False, o + 4)
    assert f"record {o + 4} is missing" in report.problem


def test_records_cut_off_the_end_are_named(deployed, store):
    o = five_records(deployed)
    sql(store, sa.delete(audit_records).where(audit_records.c.seq >= o + 4))
    report = verify(store)
    assert (report.ok, report.first_altered) == (False, o + 4)
    assert f"records {o + 4} to {o + 5} are missing" in report.problem


def test_a_rewritten_last_record_does_not_match_the_head(deployed, store):
    o = five_records(deployed)
    last = store.audit_records(after_seq=o + 4)[0]
    forged = last.body() | {"actor": "mallory"}
    sql(store, sa.update(audit_records).where(audit_records.c.seq == o + 5)
        .values(actor="mallory", hash=chain_hash(last.prev_hash, forged)))
    report = verify(store)
    assert (report.ok, report.first_altered) == (False, o + 5)
    assert "chain head" in report.problem


def test_verify_reads_the_chain_in_batches(deployed, store):
    o = five_records(deployed)
    assert verify(store, batch=2).ok
    sql(store, sa.update(audit_records).where(audit_records.c.seq == o + 5).values(role="admin"))
    assert verify(store, batch=2).first_altered == o + 5


def test_an_empty_chain_verifies(store):
    report = verify(store)
    assert report.ok and report.records == 0 and report.head.hash == GENESIS
    with store.engine.connect() as connection:
        assert connection.execute(sa.select(audit_head.c.seq)).scalar() == 0
