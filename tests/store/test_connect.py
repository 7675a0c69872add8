"""Opening the database: SQLite in WAL mode with a busy timeout and foreign keys, PostgreSQL by URL."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from backoffice.errors import DatabaseUnavailable
from backoffice.store import SqlStore, create_engine, database_url


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
