"""Rows forged in SQL, as a colleague with database access writes them, and what refusing them must show.

The sealed-directory tests (test_sealed_directory, test_sealed_memberships, test_sealed_web_grants)
all forge a row, act, and expect the act refused with the row named and nothing written:
`refused_naming` says that once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from backoffice.engine import verify
from backoffice.errors import DirectoryAltered
from backoffice.store import SqlStore
from backoffice.store.tables import api_tokens, audit_records, delegations, role_grants


def sql(store: SqlStore, statement) -> int | None:
    """Run one statement in SQL, as a colleague with database access would; return an inserted row's id."""
    with store.engine.begin() as connection:
        result = connection.execute(statement)
        return result.inserted_primary_key[0] if statement.is_insert and result.inserted_primary_key else None


def everything_written(store: SqlStore) -> tuple[int, ...]:
    """How many audit records, grants, tokens and delegations there are: a refused act adds none."""
    with store.engine.connect() as connection:
        return tuple(connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                     for table in (audit_records, role_grants, api_tokens, delegations))


def named_by_verify(store: SqlStore, table: str, key: object) -> str:
    """`audit verify` fails, and its first problem is the row `key` of `table`; return that problem."""
    report = verify(store)
    assert not report.ok
    problem = str(report.first)
    assert problem.startswith(f"{table} row {key} "), problem
    return problem


def refused_naming(store: SqlStore, act: Callable[[], Any], row_text: str) -> Any:
    """Run `act` against a forged row: it is refused naming the row, and nothing is written; return the refusal.

    The refusal is the engine's `DirectoryAltered` (returned, for the caller's further checks), or,
    when `act` answers an HTTP request (the API, the web app), its 409 response (returned).
    """
    before = everything_written(store)
    try:
        answer = act()
    except DirectoryAltered as altered:
        refusal, text = altered, str(altered)
    else:
        status = getattr(answer, "status_code", None)
        assert status == 409, f"expected DirectoryAltered or a 409 answer, got {answer!r}: " \
                              f"{getattr(answer, 'text', '')}"
        refusal, text = answer, answer.text
    assert row_text in text, text
    assert everything_written(store) == before
    return refusal

