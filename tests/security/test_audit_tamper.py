"""Attacks on the audit trail by someone who can write to the database, but not read the audit key nor write
to the checkpoint store: each is named by `audit verify` (Python API and command line), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from backoffice.cli.app import main
from backoffice.engine import Actor, Engine, checkpoint, verify
from backoffice.engine.audit import AuditRecord, canonical_json, chain_hash
from backoffice.engine.checkpoints import leaf_hash
from backoffice.engine.evidence_pack import export_pack, verify_pack
from backoffice.store import SqlStore
from backoffice.store.tables import (approval_votes, audit_chains, audit_records, case_exceptions, cases, events,
                                     evidence, group_members, people, role_grants, tasks)

from ..databases import DATABASES, database_target
from ..directory_fixtures import ADMIN, Login, TokenBook

PURCHASE = Path(__file__).resolve().parents[1] / "engine" / "purchase-approval.yaml"
T0 = datetime(2024, 3, 4, 9, 0, tzinfo=timezone.utc)
REQUESTER, BUYER = Actor("ann", "budget-holder"), Actor("bea", "buyer")
HANA, IVAN = Actor("hana", "budget-holder"), Actor("ivan", "budget-holder")


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


@pytest.fixture
def purchase(engine: Engine) -> Engine:
    engine.deploy(PURCHASE, actor="lead", now=T0)
    return engine


def approved_case(engine: Engine) -> int:
    """A purchase requested, prepared, its quote attached, one vote cast, then approved by a second: 7 records."""
    case = engine.start_case("purchase-approval", {"item": "laptop", "amount": 1800}, actor=REQUESTER, now=T0)
    case = engine.transition(case.id, "prepare", actor=BUYER, expected_version=case.version, now=at(1))
    case = engine.transition(case.id, "approve", actor=BUYER, expected_version=case.version, now=at(2),
                             data={"supplier": "Acme"})
    engine.attach_evidence(case.id, "quote", actor=BUYER, now=at(3), reference="dms://quotes/77")
    engine.approve(case.id, actor=HANA, now=at(4))
    assert engine.approve(case.id, actor=IVAN, now=at(5)).state == "ordered"
    return case.id


def sql(store: SqlStore, *statements) -> None:
    with store.engine.begin() as connection:
        for statement in statements:
            connection.execute(statement)


def chain(store: SqlStore, case_id: int) -> list[AuditRecord]:
    return list(store.audit_records(chain=f"case:{case_id}"))


def broken(store: SqlStore) -> str:
    report = verify(store)
    assert not report.ok
    return str(report.first)


# --- the happy path ---

def test_an_untouched_trail_verifies_and_its_checkpoint_holds(purchase, store):
    case_id = approved_case(purchase)
    signed = checkpoint(store, now=at(6))
    report = verify(store)
    assert report.ok, str(report)
    assert report.checkpoint == signed
    assert report.records == len(store.audit_records(chain="system")) + len(chain(store, case_id))
    assert report.rows > 10


# --- every bound table, changed outside the engine ---

@pytest.mark.parametrize("table, column, value, field", [
    (cases, cases.c.state, "approve", "state"),
    (cases, cases.c.data, {"item": "laptop", "amount": 180, "supplier": "Acme"}, "data"),
    (events, events.c.resource, "mallory", "resource"),
    (tasks, tasks.c.closed_by, "mallory", "closed_by"),
    (approval_votes, approval_votes.c.approver, "mallory", "approver"),
    (evidence, evidence.c.reference, "dms://quotes/forged", "reference"),
], ids=["case-state", "case-data", "event-actor", "task", "vote", "evidence"])
def test_a_bound_row_changed_in_the_database_is_named_with_its_field(purchase, store, table, column, value, field):
    approved_case(purchase)
    with store.engine.connect() as connection:
        row_id = connection.execute(sa.select(table.c.id).order_by(table.c.id.desc()).limit(1)).scalar()
    sql(store, sa.update(table).where(table.c.id == row_id).values({column.name: value}))
    report = verify(store)
    assert not report.ok
    problem = report.first
    assert (problem.table, problem.key, problem.field) == (table.name, row_id, field)
    assert f"{table.name} row {row_id} was changed outside the engine: field {field} changed" in str(problem)


def test_an_event_removed_in_the_database_is_named(purchase, store):
    case_id = approved_case(purchase)
    last = purchase.history(case_id)[-1]
    sql(store, sa.delete(events).where(events.c.id == last.id))
    assert f"events row {last.id} was removed outside the engine" in broken(store)


def test_a_row_added_in_the_database_is_named(purchase, store):
    case_id = approved_case(purchase)
    sql(store, sa.insert(evidence).values(case_id=case_id, name="quote", reference="dms://quotes/fake",
                                          attached_by="mallory", attached_at=at(5)))
    assert f"of case {case_id} was added outside the engine: no audit record wrote it" in broken(store)


def test_a_case_added_in_the_database_with_no_record_at_all_is_named(purchase, store):
    approved_case(purchase)
    with store.engine.connect() as connection:
        row = dict(connection.execute(sa.select(cases)).one()._mapping)
    sql(store, sa.insert(cases).values({**row, "id": 99, "idempotency_key": None, "state": "ordered"}))
    assert "cases row 99 of case 99 was added outside the engine" in broken(store)


def test_an_old_row_restored_with_its_old_values_is_named(purchase, store):
    case_id = approved_case(purchase)
    with store.engine.connect() as connection:
        first_state = connection.execute(sa.select(cases.c.state, cases.c.version)).one()
    assert first_state.state == "ordered"
    # A whole row put back as an earlier record wrote it: the latest record says otherwise.
    sql(store, sa.update(cases).where(cases.c.id == case_id).values(state="approve", previous_state="prepare",
                                                                    version=3))
    assert f"cases row {case_id} was changed outside the engine" in broken(store)


def test_an_exception_changed_in_the_database_is_named(engine, store):
    from backoffice.definitions import LIBRARY
    engine.deploy(LIBRARY / "service-request.yaml", actor="lead", now=T0)
    case = engine.start_case("service-request", {"summary": "Printer jammed", "description": "3rd floor",
                                                 "category": "it", "urgency": "normal",
                                                 "requester_email": "ann@example.com"}, actor=Actor("ann"), now=T0)
    desk = Actor("bob", "service-desk")
    case = engine.transition(case.id, "triage", actor=desk, expected_version=1, now=at(1))
    engine.raise_exception(case.id, "needs_info", actor=desk, now=at(2), note="which printer?")
    sql(store, sa.update(case_exceptions).values(raised_by="mallory"))
    assert "case_exceptions row 1 was changed outside the engine: field raised_by changed" in broken(store)


# --- the chain itself ---

def rehash_from(store: SqlStore, records: list[AuditRecord], index: int, **changes) -> None:
    """Edit one record and re-hash it and every later one with plain sha256, moving the head: no key needed."""
    previous_hash = records[index - 1].hash if index else records[0].prev_hash
    statements = []
    for position in range(index, len(records)):
        record = records[position]
        record = replace(record, prev_hash=previous_hash, **(changes if position == index else {}))
        record = replace(record, hash=chain_hash(record.prev_hash, record.body()))
        statements.append(sa.update(audit_records).where(audit_records.c.id == record.id)
                          .values(prev_hash=record.prev_hash, hash=record.hash, actor=record.actor))
        previous_hash = record.hash
    statements.append(sa.update(audit_chains).where(audit_chains.c.chain == records[0].chain)
                      .values(hash=previous_hash))
    sql(store, *statements)


# --- the directory: who may act, and as what ---

def test_a_role_grant_inserted_in_the_database_is_named(purchase, store):
    # Mallory makes himself an administrator without the engine: `verify` names the row, and the gate refuses
    # to act on it (DirectoryAltered, nothing written; see test_sealed_directory.py).
    sql(store, sa.insert(role_grants).values(grantee_kind="person", grantee="bea", role="administrator", workflow="",
                                             granted_by="admin", granted_at=T0))
    with store.engine.connect() as connection:
        forged = connection.execute(sa.select(sa.func.max(role_grants.c.id))).scalar()
    assert broken(store) == f"role_grants row {forged} was added outside the engine: no audit record wrote it"


def test_a_person_deactivated_or_reactivated_in_the_database_is_named(purchase, store):
    purchase.set_active("ivan", False, actor=ADMIN, now=T0)
    assert verify(store).ok
    sql(store, sa.update(people).where(people.c.id == "ivan").values(active=True))
    message = broken(store)
    assert message.startswith("people row ivan was changed outside the engine: field active changed (not as the "
                              "system chain, record #")


def test_a_grant_revoked_by_the_engine_and_put_back_by_hand_is_named(purchase, store):
    [grant] = [grant for grant in store.grants("ivan") if grant.role == "budget-holder"]
    purchase.grant("budget-holder", to="ivan", actor=ADMIN, now=T0, revoke=True)
    assert verify(store).ok
    sql(store, sa.insert(role_grants).values(id=grant.id, grantee_kind="person", grantee="ivan",
                                             role="budget-holder", workflow="", granted_by="admin", granted_at=T0))
    assert broken(store).startswith(f"role_grants row {grant.id} was put back outside the engine (the system chain, "
                                    f"record #")


def test_a_group_membership_added_in_the_database_is_named(purchase, store):
    purchase.add_group("approvers", actor=ADMIN, now=T0)
    purchase.grant("budget-holder", to="approvers", actor=ADMIN, now=T0)
    purchase.add_to_group("approvers", "ivan", actor=ADMIN, now=T0)
    purchase.add_to_group("approvers", "ivan", actor=ADMIN, now=T0, remove=True)
    assert verify(store).ok
    sql(store, sa.insert(group_members).values(group_id="approvers", person_id="bea"))
    assert broken(store) == 'group_members row ["approvers","bea"] was added outside the engine: no audit record wrote it'


def test_an_edit_re_hashed_with_plain_sha256_is_named_at_the_record_edited(purchase, store):
    case_id = approved_case(purchase)
    records = chain(store, case_id)
    rehash_from(store, records, 2, actor="mallory")
    problem = verify(store).first
    assert (problem.chain, problem.seq) == (f"case:{case_id}", 3)
    assert f"case {case_id}, record #3 (id {records[2].id}) was forged or re-hashed: its seal does not match" \
        in str(problem)


def test_a_record_edited_without_re_hashing_is_named(purchase, store):
    case_id = approved_case(purchase)
    records = chain(store, case_id)
    sql(store, sa.update(audit_records).where(audit_records.c.id == records[1].id).values(actor="mallory"))
    assert f"case {case_id}, record #2 (id {records[1].id}) was altered: its content no longer matches its hash" \
        in broken(store)


def test_a_forged_record_appended_with_valid_links_is_named(purchase, store):
    case_id = approved_case(purchase)
    last = chain(store, case_id)[-1]
    forged = replace(last, seq=last.seq + 1, prev_hash=last.hash, actor="mallory", action="approval.voted",
                     detail='{"decision":"approve"}', rows="[]", mac=secrets.token_hex(32), id=None)
    forged = replace(forged, hash=chain_hash(forged.prev_hash, forged.body()))
    sql(store, sa.insert(audit_records).values({k: v for k, v in forged.__dict__.items() if k != "id"}),
        sa.update(audit_chains).where(audit_chains.c.chain == forged.chain).values(seq=forged.seq, hash=forged.hash))
    assert f"case {case_id}, record #{forged.seq}" in broken(store)
    assert "was forged or re-hashed" in broken(store)


def test_records_cut_off_the_end_with_the_head_moved_back_are_named(purchase, store):
    case_id = approved_case(purchase)
    checkpoint(store, now=at(6))
    records = chain(store, case_id)
    keep = records[3]
    sql(store, sa.delete(audit_records).where(audit_records.c.chain == keep.chain, audit_records.c.seq > keep.seq),
        sa.update(audit_chains).where(audit_chains.c.chain == keep.chain).values(seq=keep.seq, hash=keep.hash))
    problems = [str(problem) for problem in verify(store).problems]
    assert problems[0] == (f"records #5 to #{len(records)} of case {case_id} were removed: the signed checkpoint "
                           f"saw case {case_id} up to #{len(records)}")
    # The rows those records wrote are still there, and now unbound: named too.
    assert any("was added outside the engine" in problem or "was changed outside" in problem for problem in problems)


def test_a_cut_chain_written_on_again_by_the_engine_is_named(purchase, store):
    case = purchase.start_case("purchase-approval", {"item": "desk", "amount": 300}, actor=REQUESTER, now=T0)
    with store.engine.connect() as connection:  # the case row as record #1 wrote it, kept by the attacker
        as_started = dict(connection.execute(sa.select(cases).where(cases.c.id == case.id)).one()._mapping)
    purchase.transition(case.id, "prepare", actor=BUYER, expected_version=1, now=at(1))
    checkpoint(store, now=at(2))
    first = chain(store, case.id)[0]
    # Put back exactly as #1 wrote it (a row edited otherwise is refused by the engine: test_sealed_cases).
    sql(store, sa.delete(audit_records).where(audit_records.c.chain == first.chain, audit_records.c.seq > 1),
        sa.update(audit_chains).where(audit_chains.c.chain == first.chain).values(seq=1, hash=first.hash),
        sa.update(cases).where(cases.c.id == case.id).values(**as_started))
    # The engine writes #2 again, sealed with the key: only the checkpoint knows it is not the #2 it signed.
    purchase.attach_evidence(case.id, "quote", actor=BUYER, now=at(3), reference="dms://q/1")
    assert f"case {case.id}, record #2" in broken(store)
    assert "is not the record the signed checkpoint saw there" in broken(store)
    with pytest.raises(Exception, match="holds another record #2"):
        checkpoint(store, now=at(4))


def test_a_wiped_trail_is_named_from_the_checkpoint(purchase, store):
    case_id = approved_case(purchase)
    system = len(store.audit_records(chain="system"))  # the directory's records and the deploy
    checkpoint(store, now=at(6))
    sql(store, sa.delete(audit_records), sa.delete(audit_chains))
    problems = [str(problem) for problem in verify(store).problems]
    assert problems[0] == f"the whole trail of the system chain (#1 to #{system}) was removed: the signed " \
                          f"checkpoint saw the system chain up to #{system}"
    assert any(problem.startswith(f"the whole trail of case {case_id}") for problem in problems)


def test_a_database_emptied_of_everything_is_named_from_the_checkpoint(purchase, store):
    approved_case(purchase)
    checkpoint(store, now=at(6))
    sql(store, *(sa.delete(table) for table in (approval_votes, evidence, tasks, events, audit_records,
                                               audit_chains, case_exceptions)))
    sql(store, sa.text("DELETE FROM sla_clocks"), sa.text("DELETE FROM timers"), sa.text("DELETE FROM outbox"),
        sa.delete(cases))
    assert "was removed: the signed checkpoint saw" in broken(store)


# --- evidence packs ---

def test_an_evidence_pack_verifies_offline_and_names_what_was_edited(purchase, store):
    case_id = approved_case(purchase)
    pack = export_pack(store, case_id, now=at(6))
    key = purchase.audit_key
    assert verify_pack(json.loads(json.dumps(pack)), public_key=key.public).ok
    assert {row["table"] for row in pack["rows"]} >= {"cases", "events", "tasks", "approval_votes", "evidence"}

    edited = json.loads(json.dumps(pack))
    next(row for row in edited["rows"] if row["table"] == "approval_votes")["values"]["approver"] = "mallory"
    assert "field approver changed" in str(verify_pack(edited))

    edited = json.loads(json.dumps(pack))
    edited["records"][2]["actor"] = "mallory"
    assert "record #3 was altered" in str(verify_pack(edited))

    edited = json.loads(json.dumps(pack))
    edited["records"].pop()
    assert "is not the head the signed checkpoint holds" in str(verify_pack(edited))

    edited = json.loads(json.dumps(pack))
    edited["checkpoint"]["statement"]["root"] = "0" * 64
    assert "signature does not match" in str(verify_pack(edited))

    # A pack rebuilt whole and re-signed by someone else's key proves nothing about this trail: checked
    # against the published key it is refused; unpinned, the report names the key that signed it.
    mallory = type(key).generate()
    forged = json.loads(json.dumps(pack))
    previous = forged["records"][1]["hash"]
    for position, value in enumerate(forged["records"][2:], start=2):
        record = AuditRecord.from_json({**value, "actor": "mallory" if position == 2 else value["actor"],
                                        "prev_hash": previous})
        record = replace(record, hash=chain_hash(record.prev_hash, record.body()))
        forged["records"][position] = record.as_json()
        previous = record.hash
    last = forged["records"][-1]
    statement = {**forged["checkpoint"]["statement"], "key_id": mallory.key_id,
                 "root": leaf_hash(forged["chain"], last["seq"], last["hash"])}
    forged["proof"] = []
    forged["checkpoint"] = {"statement": statement, "public_key": mallory.public.text(),
                            "signature": base64.b64encode(mallory.sign(canonical_json(statement).encode())).decode()}
    unpinned = verify_pack(forged)
    assert unpinned.key_id == mallory.key_id != key.key_id and "compare it with your organisation's" in str(unpinned)
    pinned = verify_pack(forged, public_key=key.public)
    assert not pinned.ok and f"signed by key {mallory.key_id}, not by the key you gave ({key.key_id})" in str(pinned)


def test_no_pack_is_exported_over_a_tampered_case(purchase, store):
    case_id = approved_case(purchase)
    sql(store, sa.update(events).where(events.c.case_id == case_id).values(resource="mallory"))
    with pytest.raises(Exception, match="does not verify, so nothing was exported"):
        export_pack(store, case_id, now=at(6))


# --- the command line ---

@pytest.fixture(params=DATABASES)
def cli_database(request, tmp_path: Path, monkeypatch):
    for target in database_target(request.param, tmp_path):
        monkeypatch.setenv("BACKOFFICE_DB", target)
        yield target


@pytest.fixture
def backoffice(capsys, monkeypatch):
    """Run the command line in this process; `Login("bob")` among the arguments runs it with bob's token."""
    book = TokenBook()

    def run(*args: str | Path | Login) -> tuple[int, str, str]:
        for login in (arg for arg in args if isinstance(arg, Login)):
            monkeypatch.setenv("BACKOFFICE_TOKEN", book.token(os.environ["BACKOFFICE_DB"], login.person))
        args = tuple(arg for arg in args if not isinstance(arg, Login))
        try:
            main([str(arg) for arg in args])
            status = 0
        except SystemExit as exit_:
            status = exit_.code or 0
        captured = capsys.readouterr()
        return status, captured.out, captured.err
    return run


def test_the_command_line_names_a_tampered_event_and_exits_1(cli_database, backoffice):
    assert backoffice("deploy", PURCHASE, Login("lead"))[0] == 0
    assert backoffice("case", "start", "purchase-approval", "--data", '{"item": "pen", "amount": 10}', Login("ann"),
                      "--role", "budget-holder")[0] == 0
    with SqlStore.open(cli_database) as store:
        system = len(store.audit_records(chain="system"))  # the directory's records (cast, tokens) and the deploy
    status, out, _ = backoffice("audit", "verify")
    assert status == 0 and out.startswith(f"audit trail ok: {system + 1} records in 2 chains")
    assert "signed checkpoint 1" in out
    with SqlStore.open(cli_database) as store:
        sql(store, sa.update(events).values(resource="mallory"))
    status, out, err = backoffice("audit", "verify")
    assert status == 1 and "Traceback" not in err
    assert "audit trail broken: events row 1 was changed outside the engine: field resource changed" in err
    with SqlStore.open(cli_database) as store:
        sql(store, sa.delete(audit_records), sa.delete(audit_chains))
    status, _, err = backoffice("audit", "verify")
    assert status == 1 and f"the whole trail of the system chain (#1 to #{system}) was removed" in err


def test_the_command_line_exports_a_pack_and_checks_it_offline(cli_database, backoffice, tmp_path):
    assert backoffice("deploy", PURCHASE, Login("lead"))[0] == 0
    assert backoffice("case", "start", "purchase-approval", "--data", '{"item": "pen", "amount": 10}', Login("ann"),
                      "--role", "budget-holder")[0] == 0
    pack = tmp_path / "case-1.json"
    status, out, err = backoffice("audit", "export", "1", "-o", pack)
    assert status == 0, err
    assert out.startswith(f"wrote {pack}: case 1, 1 records")
    status, out, _ = backoffice("audit", "key")
    public = out.split()[2]
    status, out, _ = backoffice("audit", "verify", "--pack", pack, "--public-key", public)
    assert status == 0 and out.startswith("evidence pack ok: case 1, 1 records")
    edited = json.loads(pack.read_text())
    next(row for row in edited["rows"] if row["table"] == "events")["values"]["resource"] = "mallory"
    pack.write_text(json.dumps(edited))
    status, _, err = backoffice("audit", "verify", "--pack", pack)
    assert status == 1 and "evidence pack broken: events row 1 is not as record #1 wrote it: field resource changed" in err
    pack.write_text("{not json")
    status, _, err = backoffice("audit", "verify", "--pack", pack)
    assert status == 2 and "not JSON" in err and "Traceback" not in err


def test_hostile_packs_and_a_missing_database_get_one_line_and_status_2(backoffice, tmp_path, monkeypatch):
    pack = tmp_path / "pack.json"
    for text in ("[" * 100_000 + "]" * 100_000, '{"format": "backoffice-evidence-pack/1"}',
                 '{"format": "backoffice-evidence-pack/1", "checkpoint": {"statement": [], "public_key": 7}, '
                 '"chain": "case:1", "records": [1], "rows": {}}', '"just a string"', "\ud800".encode("utf-8",
                 "surrogatepass").decode("latin-1")):
        pack.write_text(text, encoding="utf-8")
        status, _, err = backoffice("audit", "verify", "--pack", pack)
        assert status == 2 and "Traceback" not in err and str(pack) in err, (text[:40], err)
    monkeypatch.setenv("BACKOFFICE_DB", str(tmp_path / "typo.db"))
    status, _, err = backoffice("audit", "verify")
    assert status == 2 and "no such file" in err
    assert not (tmp_path / "typo.db").exists()


def test_a_forged_legacy_chain_cannot_vouch_for_a_forged_row(purchase, store):
    from backoffice.engine.audit import GENESIS

    case_id = approved_case(purchase)
    checkpoint(store, now=at(6))
    sql(store, sa.insert(approval_votes).values(case_id=case_id, state="approve", round=99, task_id=1,
                                                approver="mallory", decision="approve", at=at(6)))
    with store.engine.connect() as connection:
        vote = dict(connection.execute(sa.select(approval_votes).where(approval_votes.c.approver == "mallory")).one()
                    ._mapping)
    from backoffice.engine.audit import seal_row
    row = seal_row("approval_votes", vote["id"], vote, case_id=case_id)
    forged = AuditRecord(chain="legacy", seq=1, action="approval.voted", actor="mallory", at=at(6), role=None,
                         case_id=case_id, workflow=None, version=None, detail="{}",
                         rows=json.dumps([row.listed()]), prev_hash=GENESIS, hash="")
    forged = replace(forged, hash=forged.expected_hash())
    sql(store, sa.insert(audit_records).values({k: v for k, v in forged.__dict__.items() if k != "id"}))
    problems = [str(problem) for problem in verify(store).problems]
    assert any("the legacy chain, record #1" in problem and "was forged" in problem for problem in problems)
    assert any(f"approval_votes row {vote['id']} of case {case_id} was added outside the engine" in problem
               for problem in problems)
