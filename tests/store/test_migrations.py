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
    assert current_revision(engine) == head_revision() == "0006"
    assert set(sa.inspect(engine).get_table_names()) >= {"workflow_versions", "cases", "events", "audit_records",
                                                          "audit_head", VERSION_TABLE}
    engine.dispose()


def test_migrating_again_changes_nothing(store, database):
    with store.engine.begin() as connection:
        connection.execute(sa.text("UPDATE audit_head SET seq = 0"))
    assert migrate(database) == "0006"
    assert store.audit_head().seq == 0


def test_the_migrated_tables_match_the_tables_in_the_code(store):
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_processes_opening_a_new_database_at_once_migrate_it_once(database):
    def open_store(_: int) -> str:
        with SqlStore.open(database) as store:
            return str(store.audit_head())

    with ThreadPoolExecutor(6) as pool:
        heads = set(pool.map(open_store, range(6)))
    assert len(heads) == 1
    engine = create_engine(database)
    assert current_revision(engine) == "0006"
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM audit_head")).scalar() == 1
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
