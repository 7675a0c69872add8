"""Fresh databases for the engine benchmark: a new SQLite file, or a new PostgreSQL schema dropped after.

The PostgreSQL schema is made as tests/databases.py makes one for each test: the connection's
search_path points at it, so the engine's tables land there and vanish with it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from backoffice.store.connect import database_url, shown

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CONNECT_TIMEOUT_S = 3


def fresh_sqlite(folder: Path, name: str) -> Path:
    """Return the path of a new, empty SQLite file in `folder` (an older one and its WAL are removed)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(f"{path}{suffix}"):
            os.remove(f"{path}{suffix}")
    return path


def postgres_unavailable(url: str) -> str | None:
    """Return why the PostgreSQL server at `url` cannot be used, or None when it answers."""
    admin = sa.create_engine(database_url(url), connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
    try:
        with admin.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        first_line = str(exc.orig or exc).strip().splitlines()[0] if str(exc.orig or exc).strip() else "no answer"
        return f"no PostgreSQL server answers at {shown(url)} ({first_line})"
    finally:
        admin.dispose()
    return None


@contextmanager
def fresh_postgres_schema(url: str, label: str) -> Iterator[str]:
    """Create a new schema, yield a URL whose connections use it, and drop it (with its tables) after."""
    schema = f"bench_{label}_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(database_url(url))
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        bound = make_url(database_url(url)).update_query_dict({"options": f"-csearch_path={schema}"})
        yield bound.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
