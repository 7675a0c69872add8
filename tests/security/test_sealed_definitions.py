"""A definition version or a workflow's mode edited in SQL is never run: the engine holds it to its audit seal.

A colleague with access to the database takes a control out of an approved, deployed version
(the rule that a requester may not approve their own request), or flips the workflow's mode.
`audit verify` names it afterwards; these tests show the engine refuses to run on it meanwhile,
from the Python API, the command line and HTTP, on both databases, and writes nothing. Redoing
the digests without the audit key does not help: the record's seal is an HMAC under that key.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from backoffice.engine import Actor, Engine
from backoffice.engine.audit import chain_hash
from backoffice.errors import DefinitionAltered, SeparationOfDuties
from backoffice.store import SqlStore
from backoffice.store.tables import approval_votes, audit_records, cases, workflow_modes, workflow_versions

from ..api.live_server import ADMIN as API_ADMIN, PAYLOAD, T0 as API_T0, in_process
from ..cli.test_engine_commands import backoffice, database  # noqa: F401 (fixtures: both databases)
from ..directory_fixtures import Login
from .spend import CAROL, OPERATOR, REQUESTER, T0, deployed, engine, in_approval, later, seed_database  # noqa: F401

SPEND = {"item": "laptops", "amount": 500.0}
NO_SEPARATION = ('"requester":true', '"requester":false')


def weaken(store: SqlStore, workflow: str = "spend-approval", change: tuple[str, str] = NO_SEPARATION) -> None:
    """Edit the deployed version's body in SQL, as a colleague with database access would."""
    with store.engine.begin() as connection:
        where = workflow_versions.c.workflow == workflow
        body = connection.execute(sa.select(workflow_versions.c.definition_json).where(where)).scalar_one()
        assert change[0] in body
        connection.execute(sa.update(workflow_versions).where(where)
                           .values(definition_json=body.replace(*change)))


def written(store: SqlStore) -> tuple[int, int, int]:
    """Return how many cases, votes and records of cases there are (a token made to log in is the system's)."""
    with store.engine.connect() as connection:
        return tuple(connection.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one()
                     for table, where in ((cases, ()), (approval_votes, ()),
                                          (audit_records, (audit_records.c.case_id.is_not(None),))))


def test_a_version_edited_in_sql_is_refused_by_a_new_engine_before_anything_is_written(engine):
    case = in_approval(deployed(engine), amount=500.0)   # approve-small: a manager's vote
    weaken(engine.store)
    before = written(engine.store)
    fresh = Engine(engine.store, audit_key=engine.audit_key)  # the next process over the database
    with pytest.raises(DefinitionAltered) as refused:
        fresh.start_case("spend-approval", SPEND, actor=REQUESTER, now=later(3))
    message = str(refused.value)
    assert "spend-approval version 1" in message and "field definition_json changed" in message, message
    # The requester approving his own request is what the edit was for: it is refused too, as is any move.
    with pytest.raises(DefinitionAltered):
        fresh.approve(case.id, actor=Actor("bob", "manager"), now=later(3))
    with pytest.raises(DefinitionAltered):
        fresh.approve(case.id, actor=Actor("erin", "manager"), now=later(3))
    assert written(engine.store) == before
    # The engine that loaded the version before the edit keeps running what was deployed, not the edit.
    with pytest.raises(SeparationOfDuties):
        engine.approve(case.id, actor=Actor("bob", "manager"), now=later(3))


def test_a_version_and_its_record_rehashed_without_the_audit_key_are_still_refused(engine):
    deployed(engine)
    weaken(engine.store)
    # The attacker also rewrites the deploy record: the row's new digest listed, the record's hash redone.
    version_row = Engine(engine.store)  # reads the edited row as it is now
    from dataclasses import asdict

    from backoffice.engine.audit import seal_row
    stored = version_row.store.version("spend-approval", 1)
    forged = seal_row("workflow_versions", stored.id, asdict(stored), case_id=None)
    with engine.store.engine.begin() as connection:
        record = connection.execute(sa.select(audit_records).where(audit_records.c.action == "workflow.deployed")
                                    ).one()
        rows = json.dumps([forged.listed()], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        body = {"chain": record.chain, "seq": record.seq, "action": record.action, "actor": record.actor,
                "at": record.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "role": record.role, "case_id": record.case_id,
                "workflow": record.workflow, "version": record.version, "detail": record.detail, "rows": rows,
                "prev_hash": record.prev_hash, "key_id": record.key_id}
        connection.execute(sa.update(audit_records).where(audit_records.c.id == record.id)
                           .values(rows=rows, hash=chain_hash(record.prev_hash, body)))
    with pytest.raises(DefinitionAltered, match="not sealed by this database's audit key"):
        Engine(engine.store, audit_key=engine.audit_key).start_case("spend-approval", SPEND, actor=REQUESTER,
                                                                     now=later(3))


def test_a_mode_flipped_in_sql_is_refused_even_by_the_engine_that_checked_it(engine):
    deployed(engine)
    engine.set_mode("spend-approval", manual=True, now=later(1), actor=OPERATOR)
    engine.set_mode("spend-approval", manual=False, now=later(2), actor=OPERATOR)
    assert engine.manual_mode("spend-approval") is False
    # Changed through another engine (another process): a legitimate change, read without complaint.
    Engine(engine.store, audit_key=engine.audit_key).set_mode("spend-approval", manual=True, now=later(3),
                                                              actor=OPERATOR)
    assert engine.manual_mode("spend-approval") is True
    with engine.store.engine.begin() as connection:
        connection.execute(sa.update(workflow_modes).values(manual=False))
    for reader in (engine, Engine(engine.store, audit_key=engine.audit_key)):
        with pytest.raises(DefinitionAltered, match="the mode of spend-approval .*field manual changed"):
            reader.manual_mode("spend-approval")
    # Deleted by hand (back to automatic, as if never set): refused too.
    with engine.store.engine.begin() as connection:
        connection.execute(sa.delete(workflow_modes))
    with pytest.raises(DefinitionAltered, match="removed from the database outside the engine"):
        engine.manual_mode("spend-approval")


def test_legitimate_changes_run_as_before(engine):
    deployed(engine)
    case = in_approval(engine)
    fresh = Engine(engine.store, audit_key=engine.audit_key)
    assert fresh.approve(case.id, actor=CAROL, now=later(3)).id == case.id
    assert fresh.manual_mode("spend-approval") is False      # never set: automatic
    fresh.set_mode("spend-approval", manual=True, now=later(4), actor=OPERATOR)
    assert Engine(engine.store, audit_key=engine.audit_key).manual_mode("spend-approval") is True


def test_an_edited_version_is_refused_on_the_command_line(database, backoffice):  # noqa: F811
    seed_database(database)
    with SqlStore.open(database) as store:
        deployed(Engine(store))
        weaken(store)
        before = written(store)
    status, out, err = backoffice("case", "start", "spend-approval", "--data", '{"item": "laptops", "amount": 500}',
                                  Login("bob"))
    assert status == 1, (out, err)
    assert "spend-approval version 1" in err and "definition_json" in err and "audit verify" in err, err
    assert "Traceback" not in err
    with SqlStore.open(database) as store:
        assert written(store) == before


def test_an_edited_version_is_refused_over_http(database, tmp_path):  # noqa: F811
    def edit(engine: Engine) -> None:
        weaken(engine.store, "purchase-approval", ('"kind":"approval"', '"kind":"human_task"'))

    with in_process(database, tmp_path, arrange=edit) as (engine, _, client):
        before = written(engine.store)
        token = engine.create_token("alice", actor=API_ADMIN, now=API_T0).secret
        answer = client.post("/v1/workflows/purchase-approval/cases", json=PAYLOAD,
                             headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 409, answer.text
        assert "purchase-approval version 1" in answer.text and "definition_json" in answer.text
        assert written(engine.store) == before


def test_a_process_reading_another_audit_key_is_told_which_key_to_read(engine):
    from backoffice.engine.audit_keys import AuditKey

    deployed(engine)
    stranger = AuditKey.generate()
    with pytest.raises(DefinitionAltered, match=f"sealed by audit key {engine.audit_key.key_id}, not by the key "
                                                f"this process reads \\({stranger.key_id}\\): set BACKOFFICE_AUDIT_KEY"):
        Engine(engine.store, audit_key=stranger).start_case("spend-approval", SPEND, actor=REQUESTER, now=later(1))


def test_a_pending_change_edited_in_sql_is_never_deployed_under_the_hash_that_was_reviewed(engine, tmp_path):
    from backoffice.store.tables import definition_changes

    from .spend import LOWER_QUORUM, PAT, version_text

    deployed(engine)
    path = tmp_path / "spend-approval.yaml"
    path.write_text(version_text(LOWER_QUORUM))
    pending = engine.deploy(path, actor="lead", now=later(1))
    assert pending.pending
    # The body waiting for the second person loses the requester rule; the content hash column is left as reviewed.
    with engine.store.engine.begin() as connection:
        body = connection.execute(sa.select(definition_changes.c.definition_json)).scalar_one()
        assert NO_SEPARATION[0] in body
        connection.execute(sa.update(definition_changes).values(definition_json=body.replace(*NO_SEPARATION)))
    with pytest.raises(DefinitionAltered, match="spend-approval version 2 .*definition_changes.*definition_json"):
        engine.approve_change("spend-approval", 2, content_hash=pending.content_hash, actor=PAT, now=later(2))
    assert [v.version for v in engine.versions("spend-approval")] == [1]
    assert [change.status for change in engine.store.changes("spend-approval")] == ["pending"]
