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
    assert current_revision(engine) == head_revision() == "0003"
    assert set(sa.inspect(engine).get_table_names()) >= {"workflow_versions", "cases", "events", "audit_records",
                                                          "audit_head", VERSION_TABLE}
    engine.dispose()


def test_migrating_again_changes_nothing(store, database):
    with store.engine.begin() as connection:
        connection.execute(sa.text("UPDATE audit_head SET seq = 0"))
    assert migrate(database) == "0003"
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
    assert current_revision(engine) == "0003"
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM audit_head")).scalar() == 1
    engine.dispose()
