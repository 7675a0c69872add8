"""Migrations run by themselves on first use, once, and build exactly the tables the code describes."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from backoffice.store import SqlStore, create_engine, migrate
from backoffice.store.migrate import VERSION_TABLE, current_revision, head_revision
from backoffice.store.tables import metadata


def test_opening_a_new_database_migrates_it_to_the_newest_revision(database):
    engine = create_engine(database)
    assert current_revision(engine) is None
    SqlStore.open(database).close()
    assert current_revision(engine) == head_revision() == "0014"
    assert set(sa.inspect(engine).get_table_names()) >= {"workflow_versions", "cases", "events", "audit_records",
                                                          "audit_chains", VERSION_TABLE}
    engine.dispose()


def test_migrating_again_changes_nothing(store, database):
    with store.engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO audit_chains (chain, seq, hash) VALUES ('case:7', 3, 'h')"))
    assert migrate(database) == "0014"
    assert store.audit_heads()["case:7"].seq == 3


def test_the_migrated_tables_match_the_tables_in_the_code(store):
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_processes_opening_a_new_database_at_once_migrate_it_once(database):
    def open_store(_: int) -> str:
        with SqlStore.open(database) as store:
            return str(store.audit_heads())

    with ThreadPoolExecutor(6) as pool:
        heads = set(pool.map(open_store, range(6)))
    assert len(heads) == 1
    engine = create_engine(database)
    assert current_revision(engine) == "0014"
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM audit_chains")).scalar() == 0
    engine.dispose()


def test_outbox_entries_written_before_notifications_existed_read_back_as_automated_steps(database):
    from datetime import datetime, timezone

    from alembic import command

    from backoffice.engine.outbox import OutboxKind
    from backoffice.store.migrate import WRITE, alembic_config

    engine = create_engine(database)
    config = alembic_config()
    with engine.connect().execution_options(**{WRITE: True}) as connection, connection.begin():
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
        at = datetime(2024, 3, 4, tzinfo=timezone.utc).replace(tzinfo=None)
        connection.execute(sa.text(
            "INSERT INTO workflow_versions (workflow, version, status, content_hash, definition_json, source,"
            " deployed_by, deployed_at) VALUES ('w', 1, 'active', 'h', '{}', '', 'x', :at)"), {"at": at})
        connection.execute(sa.text(
            "INSERT INTO cases (workflow, definition_version, workflow_version_id, state, data, requester, priority,"
            " version, created_at, updated_at) VALUES ('w', 1, 1, 's', '{}', 'ann', 'normal', 1, :at, :at)"),
            {"at": at})
        connection.execute(sa.text(
            "INSERT INTO outbox (case_id, workflow, state, action, idempotency_key, status, attempts, max_attempts,"
            " next_attempt_at, created_at) VALUES (1, 'w', 's', 'post', 'k', 'pending', 0, 3, :at, :at)"),
            {"at": at})
    engine.dispose()
    with SqlStore.open(database) as store:
        [entry] = store.outbox_entries()
        assert (entry.kind, entry.payload, entry.idempotency_key) == (OutboxKind.STEP, None, "k")


def test_a_trail_written_before_chains_were_keyed_becomes_the_legacy_chain_and_still_verifies(database):
    from backoffice.definitions import LIBRARY
    from backoffice.engine import Actor, Engine, checkpoint, verify

    from ..directory_fixtures import seed
    from backoffice.store.migrate import WRITE, alembic_config
    from alembic import command

    # A database at 0005 with its single chain: written by a checkout of that revision would be best;
    # the old chain's format is rebuilt here, as `engine/audit.py` keeps it for the legacy chain.
    from datetime import datetime, timezone
    from backoffice.engine.audit import GENESIS, chain_hash

    engine = create_engine(database)
    config = alembic_config()
    at = datetime(2024, 3, 4, tzinfo=timezone.utc)
    previous = GENESIS
    with engine.connect().execution_options(**{WRITE: True}) as connection, connection.begin():
        config.attributes["connection"] = connection
        command.upgrade(config, "0005")
        for seq, action in enumerate(["workflow.deployed", "case.started"], start=1):
            body = {"seq": seq, "action": action, "actor": "lead", "at": "2024-03-04T00:00:00.000000Z", "role": None,
                    "case_id": None, "workflow": "w", "version": 1, "detail": "{}", "prev_hash": previous}
            record_hash = chain_hash(previous, body)
            connection.execute(sa.text(
                "INSERT INTO audit_records (seq, action, actor, at, workflow, version, detail, prev_hash, hash) "
                "VALUES (:seq, :action, 'lead', :at, 'w', 1, '{}', :prev, :hash)"),
                {"seq": seq, "action": action, "at": at.replace(tzinfo=None) if engine.dialect.name == "sqlite"
                 else at, "prev": previous, "hash": record_hash})
            previous = record_hash
        connection.execute(sa.text("UPDATE audit_head SET seq = 2, hash = :hash"), {"hash": previous})
        stamp = at.replace(tzinfo=None) if engine.dialect.name == "sqlite" else at
        connection.execute(sa.text(
            "INSERT INTO workflow_versions (workflow, version, status, content_hash, definition_json, source,"
            " deployed_by, deployed_at) VALUES ('w', 1, 'active', 'h', '{}', '', 'x', :at)"), {"at": stamp})
        connection.execute(sa.text(
            "INSERT INTO cases (workflow, definition_version, workflow_version_id, state, data, requester, priority,"
            " version, created_at, updated_at) VALUES ('w', 1, 1, 's', '{}', 'ann', 'normal', 1, :at, :at)"),
            {"at": stamp})
    engine.dispose()
    with SqlStore.open(database) as store:
        report = verify(store)
        assert report.ok, str(report)
        assert report.records == 2 and store.audit_heads()["legacy"].seq == 2
        # The rows from before binding are counted apart, not called forged.
        assert report.legacy_rows == 2 and "2 rows from before binding not covered" in str(report)
        engine = seed(Engine(store), {"lead": ()}, service_accounts=())  # the directory's records: system chain
        engine.deploy(LIBRARY / "service-request.yaml", actor=Actor("lead").id, now=at)
        signed = checkpoint(store, now=at)
        assert signed.heads["legacy"] == (2, previous)
        assert signed.heads["system"][0] == len(store.audit_records(chain="system")) == 3  # bootstrap, add, deploy
        assert signed.heads["legacy-rows:cases"][0] == 1
        with store.engine.begin() as connection:
            # Moving the mark up would pass a forged row off as an old one: the checkpoint pinned it.
            connection.execute(sa.text("UPDATE audit_legacy_rows SET last_id = 5 WHERE table_name = 'cases'"))
        assert "the mark of cases rows written before binding says 5, the signed checkpoint saw 1" in \
            str(verify(store).first)
        with store.engine.begin() as connection:
            connection.execute(sa.text("UPDATE audit_legacy_rows SET last_id = 1 WHERE table_name = 'cases'"))
        with store.engine.begin() as connection:
            connection.execute(sa.text("UPDATE audit_records SET actor = 'mallory' WHERE chain = 'legacy' AND seq = 2"))
        assert "the legacy chain, record #2" in str(verify(store).first)
