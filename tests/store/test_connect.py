"""Opening the database: SQLite in WAL mode with a busy timeout and foreign keys, PostgreSQL by URL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from backoffice.errors import DatabaseUnavailable
from backoffice.store import SqlStore, create_engine, database_url
from backoffice.store.connect import WRITE


def test_a_path_is_a_sqlite_file_and_a_postgres_url_uses_psycopg(tmp_path):
    assert database_url(tmp_path / "ops.db") == f"sqlite:///{tmp_path / 'ops.db'}"
    assert database_url("postgresql://ops@db:5432/ops") == "postgresql+psycopg://ops@db:5432/ops"
    assert database_url("postgres://ops@db/ops") == "postgresql+psycopg://ops@db/ops"
    assert database_url("postgresql+psycopg://ops@db/ops") == "postgresql+psycopg://ops@db/ops"


def test_a_relative_path_is_in_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert database_url("backoffice.db") == f"sqlite:///{Path(tmp_path).resolve() / 'backoffice.db'}"


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout_and_foreign_keys(tmp_path):
    engine = create_engine(tmp_path / "ops.db")
    with engine.connect() as connection:
        pragma = lambda name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("busy_timeout") == 30000
        assert pragma("foreign_keys") == 1
        assert pragma("synchronous") == 2  # FULL: a committed change survives a power cut
    engine.dispose()


def _write_lock_free(path: Path) -> bool:
    """Whether another connection could take SQLite's write lock on the file now (without waiting)."""
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc)
        return False
    finally:
        other.close()


def test_a_sqlite_writing_transaction_takes_the_write_lock_as_it_begins_and_a_reading_one_reads_one_snapshot(
        tmp_path):
    path = tmp_path / "ops.db"
    engine = create_engine(path)
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    with engine.connect().execution_options(**{WRITE: True}) as connection, connection.begin():
        assert not _write_lock_free(path)  # BEGIN IMMEDIATE: held before any write
    with engine.connect() as connection, connection.begin():
        assert connection.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0
        assert _write_lock_free(path)  # a reader does not hold up writers (and the mark above went with its checkout)
        writer = sqlite3.connect(path, isolation_level=None)
        writer.execute("INSERT INTO t VALUES (1)")
        writer.close()
        assert connection.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0  # in a transaction (BEGIN)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM t").scalar() == 1
    engine.dispose()


def test_sqlite_enforces_foreign_keys(tmp_path):
    with SqlStore.open(tmp_path / "ops.db") as store, pytest.raises(sa.exc.IntegrityError):
        with store.engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO events (case_id, activity, timestamp, workflow, version, attributes) "
                "VALUES (99, 'x', '2024-01-01 00:00:00', 'w', 1, '{}')")


def test_a_database_in_a_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(DatabaseUnavailable, match="does not exist"):
        SqlStore.open(tmp_path / "nowhere" / "ops.db")


def test_a_server_that_does_not_answer_is_a_clear_error():
    with pytest.raises(DatabaseUnavailable) as refused:
        SqlStore.open("postgresql://ops:secret@127.0.0.1:1/ops")
    assert "secret" not in str(refused.value) and "127.0.0.1:1" in str(refused.value)


def test_a_database_the_engine_does_not_run_on_is_refused():
    with pytest.raises(DatabaseUnavailable, match="SQLite or PostgreSQL, not mysql"):
        database_url("mysql://ops@db/ops")


def _backend_pid(store: SqlStore) -> int:
    with store.engine.connect() as connection:
        return connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()


def test_on_postgresql_a_pooled_connection_that_died_while_idle_is_replaced_before_use(database, monkeypatch):
    # A server restart or an idle timeout kills pooled connections: one idle in the pool for a while is
    # pinged before it is handed out, and a dead one is replaced, so the next transaction does not fail.
    if not database.startswith("postgresql"):
        pytest.skip("SQLite opens a file: there is no server to lose")
    from backoffice.store import connect

    killer = create_engine(database)
    try:
        with SqlStore.open(database) as store:
            dead = _backend_pid(store)
            with killer.connect() as connection:
                assert connection.exec_driver_sql(f"SELECT pg_terminate_backend({dead})").scalar()
            monkeypatch.setattr(connect, "PING_AFTER_IDLE_S", 0.0)  # as if it had sat in the pool that long
            assert _backend_pid(store) != dead
    finally:
        killer.dispose()


def test_on_postgresql_a_connection_back_from_a_transaction_a_moment_ago_is_not_pinged(database, monkeypatch):
    # The ping is one round trip: a busy writer's connection, back in the pool a moment ago, goes without it.
    if not database.startswith("postgresql"):
        pytest.skip("SQLite connections are not pinged")
    import psycopg

    sent: list[str] = []
    original = psycopg.Cursor.execute

    def execute(cursor, query, *args, **kwargs):
        sent.append(str(query))
        return original(cursor, query, *args, **kwargs)

    with SqlStore.open(database) as store:
        _backend_pid(store)
        monkeypatch.setattr(psycopg.Cursor, "execute", execute)
        _backend_pid(store)
    assert sent == ["SELECT pg_backend_pid()"]
