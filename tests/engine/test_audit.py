"""Proof: one sealed chain per case, records bound to the rows they wrote, checkpoints signed outside the database."""

from __future__ import annotations

import json
import os
import stat
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from backoffice.engine import AuditKey, AuditLocations, CheckpointStore, checkpoint, verify
from backoffice.engine.audit import GENESIS, chain_hash, seal_row
from backoffice.engine.checkpoints import leaf_hash, leaves, merkle_proof, merkle_root, root_from_proof
from backoffice.engine import Engine
from backoffice.errors import AuditKeyError, TrailWentBack
from backoffice.store import SqlStore
from backoffice.store.sql_store import SqlTransaction
from backoffice.store.tables import audit_records, cases

from .service_request import ANN, DESK, RESOLVER, T0, later, payload
from ..directory_fixtures import WORKER_ACCOUNT


def five_records(engine) -> int:
    """Deploy (system #1), start (case #1), and three moves (case #2, #3, #4); return the case id."""
    case = engine.start_case("service-request", payload(), actor=ANN, now=T0)
    case = engine.transition(case.id, "triage", actor=DESK, expected_version=1, now=later(1))
    case = engine.transition(case.id, "in-progress", actor=DESK, expected_version=2, now=later(2))
    engine.transition(case.id, "done", actor=RESOLVER, expected_version=3, now=later(3),
                      data={"resolution_note": "Fixed"})
    return case.id


def system_records(store) -> int:
    """The records of the system chain: the directory's (the cast seeded) and the deploy, last."""
    return len(store.audit_records(chain="system"))


def sql(store, statement) -> None:
    with store.engine.begin() as connection:
        connection.execute(statement)


def test_an_untouched_trail_verifies(deployed, store):
    five_records(deployed)
    report = verify(store)
    total = system_records(store) + 4
    assert report.ok and (report.records, report.chains) == (total, 2)
    assert str(report).startswith(f"audit trail ok: {total} records in 2 chains, ")


def test_each_case_has_a_chain_of_its_own_linked_and_sealed(deployed, store):
    case_id = five_records(deployed)
    records = store.audit_records(chain=f"case:{case_id}")
    assert [record.seq for record in records] == [1, 2, 3, 4]
    assert records[0].prev_hash == GENESIS
    assert all(later_record.prev_hash == earlier.hash for earlier, later_record in zip(records, records[1:]))
    assert all(record.hash == chain_hash(record.prev_hash, record.body()) for record in records)
    key = deployed.audit_key
    assert all(record.key_id == key.key_id and record.mac == key.mac(record.hash) for record in records)
    assert records[2].actor == "bob" and records[2].role == "service-desk" and records[2].at == later(2)
    *directory, deploy = store.audit_records(chain="system")
    assert (deploy.seq, deploy.action) == (len(directory) + 1, "workflow.deployed")
    assert directory[0].action == "directory.bootstrapped" and directory[0].seq == 1


def test_a_record_lists_the_rows_its_change_wrote_as_they_were_written(deployed, store):
    case_id = five_records(deployed)
    moved = store.audit_records(chain=f"case:{case_id}")[1]
    listed = {(table, key): digest for table, key, digest, _ in moved.bound_rows()}
    assert {table for table, _ in listed} == {"cases", "events", "tasks"}
    with store.engine.connect() as connection:
        # The case changed since (two more moves): the digest is of the case at version 2.
        assert connection.execute(sa.select(cases.c.version)).scalar() == 4
    history = deployed.history(case_id)
    event = next(e for e in history if e.attributes.get("case_version") == 2)
    row = next(r for r in store.bound_rows([case_id]) if (r.table, r.key) == ("events", event.id))
    assert listed[("events", event.id)] == row.digest


def test_a_row_digest_leaves_null_fields_out_so_a_new_nullable_column_changes_nothing():
    assert seal_row("tasks", 1, {"a": 1, "b": None}, case_id=1).digest == \
        seal_row("tasks", 1, {"a": 1}, case_id=1).digest
    assert seal_row("tasks", 1, {"a": 1}, case_id=1).digest != seal_row("tasks", 1, {"a": 2}, case_id=1).digest


def test_writers_on_different_cases_lock_different_chain_heads(deployed, store):
    first = deployed.start_case("service-request", payload(), actor=ANN, now=T0)
    second = deployed.start_case("service-request", payload(summary="Other"), actor=ANN, now=T0)
    heads = store.audit_heads()
    assert set(heads) == {"system", f"case:{first.id}", f"case:{second.id}"}
    assert heads[f"case:{first.id}"].seq == heads[f"case:{second.id}"].seq == 1


def test_concurrent_moves_on_many_cases_keep_every_chain_whole(deployed, store):
    started = [deployed.start_case("service-request", payload(summary=f"n{i}"), actor=ANN, now=T0)
               for i in range(8)]

    def walk(case) -> None:
        deployed.transition(case.id, "triage", actor=DESK, expected_version=1, now=later(1))
        deployed.transition(case.id, "in-progress", actor=DESK, expected_version=2, now=later(2))

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(walk, started))
    report = verify(store)
    assert report.ok, str(report)
    assert report.records == system_records(store) + 8 * 3


def test_a_checkpoint_signs_every_head_and_proves_one_by_its_merkle_path(deployed, store):
    five_records(deployed)
    signed = checkpoint(store, now=later(4))
    key = deployed.audit_key
    assert signed.number == 1 and signed.signed_by(key.public)
    assert signed.heads["system"][0] == system_records(store) and signed.heads["case:1"][0] == 4
    path = signed.proof("case:1")
    assert root_from_proof(leaf_hash("case:1", *signed.heads["case:1"]), path) == signed.root
    assert not signed.signed_by(AuditKey.generate().public)
    again = checkpoint(store, now=later(5))
    assert again.number == 2 and again.previous == signed.digest()


@pytest.mark.parametrize("count", [1, 2, 3, 5, 8, 13])
def test_every_leaf_of_a_merkle_tree_proves_its_root(count):
    heads = {f"case:{i}": (i, f"{i:064x}") for i in range(count)}
    level = leaves(heads)
    root = merkle_root(level)
    assert all(root_from_proof(level[i], merkle_proof(level, i)) == root for i in range(count))
    assert root_from_proof(level[0], merkle_proof(level, 0)) != merkle_root(leaves({**heads, "case:0": (9, "f" * 64)}))


def test_a_checkpoint_is_not_signed_over_a_chain_cut_back(deployed, store):
    case_id = five_records(deployed)
    checkpoint(store, now=later(4))
    sql(store, sa.delete(audit_records).where(audit_records.c.chain == f"case:{case_id}", audit_records.c.seq >= 3))
    with pytest.raises(TrailWentBack, match=f"case:{case_id} ends at #2, checkpoint 1 saw #4"):
        checkpoint(store, now=later(5))
    assert CheckpointStore(AuditLocations.for_database(store.url).checkpoints).numbers() == [1]


def test_the_audit_key_is_created_once_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "keys" / "audit.key"
    key = AuditKey.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert AuditKey.load_or_create(path).key_id == key.key_id
    os.chmod(path, 0o644)
    with pytest.raises(AuditKeyError, match="readable by others"):
        AuditKey.load(path)
    path.write_text("not a key")
    os.chmod(path, 0o600)
    with pytest.raises(AuditKeyError, match="not a PEM private key"):
        AuditKey.load(path)


def test_the_default_locations_are_keyed_by_the_database(monkeypatch, tmp_path):
    monkeypatch.delenv("BACKOFFICE_AUDIT_KEY")
    monkeypatch.delenv("BACKOFFICE_CHECKPOINTS")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    one = AuditLocations.for_database("sqlite:////srv/ops/engine.db")
    other = AuditLocations.for_database("sqlite:////srv/hr/engine.db")
    assert one.key.parent == tmp_path / "config" / "backoffice" / "audit-keys"
    assert one.key.name.startswith("engine.db-") and one.key != other.key
    assert one.checkpoints.parent == tmp_path / "data" / "backoffice" / "checkpoints"
    assert one.checkpoints != other.checkpoints


def test_an_empty_trail_verifies(store):
    report = verify(store)
    assert report.ok and report.records == 0 and report.checkpoint is None


def test_a_change_that_writes_rows_without_an_audit_record_is_refused(deployed, store):
    case = deployed.start_case("service-request", payload(), actor=ANN, now=T0)
    with pytest.raises(RuntimeError, match="rows written without an audit record"):
        with store.transaction() as tx:
            tx.insert_evidence(case.id, "scan", reference=None, by="ann", at=T0)
    assert deployed.store.evidence_names(case.id) == set()


def test_on_postgresql_a_writer_holding_one_case_chain_does_not_block_another_case(deployed, store):
    if store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time, whatever is locked")
    first = deployed.start_case("service-request", payload(), actor=ANN, now=T0)
    second = deployed.start_case("service-request", payload(summary="Other"), actor=ANN, now=T0)
    with store.transaction() as holding:
        holding.lock_audit_chain(f"case:{first.id}", first.id)
        # While the first case's chain is held, a move of the second case commits; with one head for
        # every writer it would wait until this transaction ends.
        pool = ThreadPoolExecutor(1)
        try:
            moving = pool.submit(deployed.transition, second.id, "triage", actor=DESK, expected_version=1,
                                 now=later(1))
            assert moving.result(timeout=20).version == 2
        finally:
            pool.shutdown(wait=False)  # a blocked move ends when this transaction does
        with store.engine.connect() as connection, connection.begin():
            connection.execute(sa.text("SET LOCAL lock_timeout = '200ms'"))
            with pytest.raises(sa.exc.OperationalError, match="lock timeout"):
                connection.execute(sa.text("SELECT seq FROM audit_chains WHERE chain = :c FOR UPDATE"),
                                   {"c": f"case:{first.id}"})
    assert verify(store).ok


def test_verify_without_the_key_that_sealed_the_trail_says_where_it_looked(deployed, store, monkeypatch, tmp_path):
    five_records(deployed)
    monkeypatch.setenv("BACKOFFICE_AUDIT_KEY", str(tmp_path / "elsewhere.key"))
    with pytest.raises(AuditKeyError, match="there is no audit key here, yet the trail was sealed with one"):
        verify(store)
    assert not (tmp_path / "elsewhere.key").exists()
    AuditKey.load_or_create(tmp_path / "elsewhere.key")
    report = verify(store)
    assert "is sealed by audit key" in str(report.first) and "not by this one" in str(report.first)


def test_the_worker_signs_checkpoints_on_its_schedule_and_refuses_over_a_trail_cut_back(deployed, store):
    from datetime import timedelta

    from backoffice.engine import ActionRegistry, Worker

    case_id = five_records(deployed)
    worker = Worker(deployed, ActionRegistry(), account=WORKER_ACCOUNT, checkpoint_every=timedelta(minutes=5))
    assert worker.run_once(later(4)).checkpoint == 1
    assert worker.run_once(later(4) + timedelta(minutes=4)).checkpoint is None
    assert worker.run_once(later(4) + timedelta(minutes=5)).checkpoint == 2
    sql(store, sa.delete(audit_records).where(audit_records.c.chain == f"case:{case_id}", audit_records.c.seq == 4))
    report = worker.run_once(later(5))
    assert report.checkpoint is None
    assert f"case:{case_id} ends at #3, checkpoint 2 saw #4" in report.checkpoint_refused


def test_two_engines_moving_one_case_in_turn_keep_its_chain_linked(deployed, database, store):
    # Each store seals after the head its own last record left; the other engine's moves make that
    # head stale, so the head's compare-and-set refuses the record and it is sealed again after the
    # head as it is.
    other = Engine(SqlStore.open(database, upgrade=False), audit_key=deployed.audit_key)
    try:
        case = deployed.start_case("service-request", payload(), actor=ANN, now=T0)
        other.transition(case.id, "triage", actor=DESK, expected_version=1, now=later(1))
        deployed.transition(case.id, "in-progress", actor=DESK, expected_version=2, now=later(2))
        other.transition(case.id, "done", actor=RESOLVER, expected_version=3, now=later(3),
                         data={"resolution_note": "Fixed"})
    finally:
        other.store.close()
    records = store.audit_records(chain=f"case:{case.id}")
    assert [record.seq for record in records] == [1, 2, 3, 4]
    assert all(later_record.prev_hash == earlier.hash for earlier, later_record in zip(records, records[1:]))
    assert store.audit_heads()[f"case:{case.id}"].hash == records[-1].hash
    assert verify(store).ok


def test_a_move_rolled_back_after_its_record_leaves_the_next_record_linked_to_the_real_head(deployed, store,
                                                                                           monkeypatch):
    case = deployed.start_case("service-request", payload(), actor=ANN, now=T0)
    # The record is appended, then the change fails before its commit: the store's memory of the
    # head now names a record that was rolled back.
    with monkeypatch.context() as patched, pytest.raises(OSError, match="disk full"):
        patched.setattr(SqlTransaction, "unbound_writes", lambda self: (_ for _ in ()).throw(OSError("disk full")))
        deployed.transition(case.id, "triage", actor=DESK, expected_version=1, now=later(1))
    assert store.audit_records(chain=f"case:{case.id}")[-1].seq == 1
    deployed.transition(case.id, "triage", actor=DESK, expected_version=1, now=later(2))
    records = store.audit_records(chain=f"case:{case.id}")
    assert [record.seq for record in records] == [1, 2]
    assert records[1].prev_hash == records[0].hash and records[1].at == later(2)
    assert verify(store).ok


def test_the_audit_record_binds_each_row_as_a_read_gives_it_back(deployed, store):
    # The writes return their rows (RETURNING); the record's digests must be those of the rows as stored.
    case = deployed.start_case("service-request", payload(), actor=ANN, now=T0)
    deployed.transition(case.id, "triage", actor=DESK, expected_version=1, now=later(1))
    [record] = [r for r in store.audit_records(chain=f"case:{case.id}") if r.seq == 2]
    listed = {(table, key): digest for table, key, digest, _fields in record.bound_rows()}
    with store.engine.connect() as connection:
        row = connection.execute(sa.select(cases).where(cases.c.id == case.id)).one()
    assert listed[("cases", case.id)] == seal_row("cases", case.id, dict(row._mapping), case_id=case.id).digest
    assert {table for table, _key in listed} == {"cases", "events", "tasks"}
