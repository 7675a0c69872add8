"""The databases storage tests run on: SQLite always, PostgreSQL when BACKOFFICE_TEST_POSTGRES_URL is set.

Each PostgreSQL test gets a schema of its own (through the connection's search_path), dropped
after it, so tests never see each other's rows and need no cleanup of their own.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from backoffice.store.connect import database_url

POSTGRES_ENV = "BACKOFFICE_TEST_POSTGRES_URL"
SKIP_REASON = (f"PostgreSQL tests need {POSTGRES_ENV}, such as postgresql+psycopg://postgres@127.0.0.1:5432/test "
               f"(.ci/run sets it when a server answers on 127.0.0.1:5432)")
DATABASES = ["sqlite", "postgresql"]


def database_target(kind: str, tmp_path: Path) -> Iterator[str]:
    """Yield a fresh database: a SQLite file path, or a PostgreSQL URL bound to a new schema."""
    if kind == "sqlite":
        yield str(tmp_path / "backoffice.db")
        return
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(SKIP_REASON)
    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(database_url(base))
    with admin.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = make_url(database_url(base)).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
