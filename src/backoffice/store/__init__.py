"""The engine's storage: SQLAlchemy Core tables, Alembic migrations, and the store the engine runs on.

    store = SqlStore.open("backoffice.db")                       # SQLite, WAL mode
    store = SqlStore.open("postgresql://ops@db.internal/ops")    # PostgreSQL, psycopg 3

Opening a store migrates its tables first. See DESIGN.md, Storage and scale.
"""

from backoffice.store.connect import DEFAULT_DATABASE, create_engine, database_url
from backoffice.store.event_log import read_engine_log
from backoffice.store.migrate import migrate
from backoffice.store.sql_store import SqlStore

__all__ = ["DEFAULT_DATABASE", "SqlStore", "create_engine", "database_url", "migrate", "read_engine_log"]
