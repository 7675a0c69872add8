"""Bring a database's tables up to date with Alembic, programmatically, on first use.

Nobody runs `alembic upgrade` by hand: opening a store migrates it. Several processes opening
one PostgreSQL database at once take an advisory lock, so one migrates and the others find
it done; on SQLite, BEGIN IMMEDIATE serializes them the same way.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from backoffice.errors import DatabaseUnavailable
from backoffice.store.connect import WRITE, create_engine, shown

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "backoffice_schema_version"
# pg_advisory_xact_lock takes a 64-bit key: this one is "backoffice" in ASCII, cut to fit.
_LOCK_KEY = int.from_bytes(b"backoffi", "big") >> 1


def alembic_config() -> Config:
    """Return the Alembic configuration of the engine's migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """Return the newest migration's revision id."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head() or ""


def current_revision(engine: sa.Engine) -> str | None:
    """Return the revision the database is at, or None when it has no engine tables yet."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE}).get_current_revision()


def migrate(target: str | Path | sa.Engine) -> str:
    """Upgrade the database to the newest revision, if it is not there yet; return that revision.

    Raises:
        DatabaseUnavailable: the database cannot be reached or opened.
    """
    engine = target if isinstance(target, sa.Engine) else create_engine(target)
    config = alembic_config()
    head = ScriptDirectory.from_config(config).get_current_head()
    try:
        with engine.connect().execution_options(**{WRITE: True}) as connection, connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            if context.get_current_revision() != head:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
    except (sa.exc.DatabaseError, sa.exc.InterfaceError) as exc:
        raise DatabaseUnavailable(shown(str(engine.url.render_as_string(hide_password=False))),
                                  _reason(exc)) from exc
    finally:
        if not isinstance(target, sa.Engine):
            engine.dispose()
    return head or ""


def _reason(exc: sa.exc.DBAPIError) -> str:
    # The driver's first line says what went wrong ("connection refused", "unable to open database file").
    return str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
