"""Precompiled statements give what SQLAlchemy's own execution gives: the same rows, the same errors, seen by listeners.

The engine's hot statements run through `store.precompiled` (compiled once, run on the transaction's
driver cursor). These tests run the same statements both ways on SQLite and PostgreSQL and compare
the rows value for value (types included: aware UTC times, JSON data as dicts), check that a refused
write raises SQLAlchemy's exception class with the constraint's name, and that statement listeners
count them.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from backoffice.store import SqlStore
from backoffice.store.precompiled import Precompiled
from backoffice.store.sql_store import UNIQUE_KEY, constraint_name
from backoffice.store.tables import cases, events, tasks, workflow_versions

T0 = datetime(2024, 3, 4, 9, 0, 0, 123456, tzinfo=timezone.utc)

SELECT_CASE = sa.select(cases).where(cases.c.id == sa.bindparam("b_id"))
INSERT_CASE = sa.insert(cases).returning(*cases.c)
UPDATE_CASE = (sa.update(cases).where(cases.c.id == sa.bindparam("b_id"), cases.c.version == sa.bindparam("b_v"))
               .returning(*cases.c))
INSERT_EVENT = sa.insert(events).returning(*events.c)
INSERT_TASK = sa.insert(tasks).returning(*tasks.c)
OPEN_TASKS = sa.select(tasks).where(tasks.c.case_id == sa.bindparam("b_case"), tasks.c.status == "open")


def _version(connection: sa.Connection) -> int:
    """A deployed version for the cases to point at."""
    return connection.execute(sa.insert(workflow_versions).values(
        workflow="w", version=1, content_hash="0" * 64, status="active", definition_json="{}", source="",
        deployed_at=T0, deployed_by="lead")).inserted_primary_key[0]


def _case_values(key: str, version_id: int, **changes) -> dict:
    values = dict(workflow="w", definition_version=1, workflow_version_id=version_id, state="received",
                  previous_state=None, data={"amount": 12.5, "who": "Zoë", "nested": {"b": [1, None, True]}},
                  priority="normal", queue="desk", owner=None, requester="ann", version=1, idempotency_key=key,
                  intake_hash="h", created_at=T0, updated_at=T0 + timedelta(hours=2, microseconds=1))
    values.update(changes)
    return values


def _same(precompiled_row, sqlalchemy_row) -> None:
    assert tuple(precompiled_row) == tuple(sqlalchemy_row)
    assert precompiled_row._mapping == dict(sqlalchemy_row._mapping)
    for name, value in sqlalchemy_row._mapping.items():
        assert type(getattr(precompiled_row, name)) is type(value), name


def test_a_precompiled_write_returns_the_row_sqlalchemy_reads_back(database):
    with SqlStore.open(database) as store, store.engine.begin() as connection:
        written = Precompiled(INSERT_CASE).run(connection, _case_values("a", _version(connection))).one()
        read = connection.execute(SELECT_CASE, {"b_id": written.id}).one()
        _same(written, read)
        assert written.created_at == T0 and written.created_at.tzinfo is not None
        assert written.data == {"amount": 12.5, "who": "Zoë", "nested": {"b": [1, None, True]}}

        moved = Precompiled(UPDATE_CASE).run(connection, dict(b_id=written.id, b_v=1, state="review", version=2,
                                                              data={"x": "y"}, updated_at=T0)).one()
        _same(moved, connection.execute(SELECT_CASE, {"b_id": written.id}).one())
        assert (moved.state, moved.version, moved.data, moved.previous_state) == ("review", 2, {"x": "y"}, None)
        # A conditional update that matches nothing returns no row, as through SQLAlchemy.
        assert Precompiled(UPDATE_CASE).run(connection, dict(b_id=written.id, b_v=1, state="x")).first() is None


def test_a_precompiled_read_gives_the_rows_sqlalchemy_gives(database):
    with SqlStore.open(database) as store, store.engine.begin() as connection:
        case_id = connection.execute(INSERT_CASE, _case_values("b", _version(connection))).one().id
        connection.execute(INSERT_EVENT, dict(case_id=case_id, activity="received", timestamp=T0, resource="ann",
                                              role=None, system=None, lifecycle="complete", reason=None,
                                              workflow="w", version=1, attributes={"k": [1, 2]}, branch=None))
        for number in range(3):
            connection.execute(INSERT_TASK, dict(case_id=case_id, workflow="w", state="review", round=1,
                                                 kind="step", status="open", queue="desk", role="r", assignee=None,
                                                 priority="normal", priority_rank=number, due_at=None,
                                                 created_at=T0, reason=None, escalate_at=None, escalated=False))
        _same(Precompiled(SELECT_CASE).run(connection, {"b_id": case_id}).one(),
              connection.execute(SELECT_CASE, {"b_id": case_id}).one())
        every_event = sa.select(events).where(events.c.case_id == sa.bindparam("b_case"))
        _same(Precompiled(every_event).run(connection, {"b_case": case_id}).one(),
              connection.execute(every_event, {"b_case": case_id}).one())
        # A value fixed in the statement ("open") and one given; several rows, in the same order.
        both = zip(Precompiled(OPEN_TASKS.order_by(tasks.c.id)).run(connection, {"b_case": case_id}).all(),
                   connection.execute(OPEN_TASKS.order_by(tasks.c.id), {"b_case": case_id}).all(), strict=True)
        for precompiled_row, sqlalchemy_row in both:
            _same(precompiled_row, sqlalchemy_row)
        assert Precompiled(SELECT_CASE).run(connection, {"b_id": case_id + 100}).first() is None


def test_a_refused_precompiled_write_raises_sqlalchemys_error_naming_the_constraint(database):
    with SqlStore.open(database) as store, store.engine.connect() as connection:
        with connection.begin():
            version_id = _version(connection)
            Precompiled(INSERT_CASE).run(connection, _case_values("same-key", version_id))
        with pytest.raises(sa.exc.IntegrityError) as refused, connection.begin():
            Precompiled(INSERT_CASE).run(connection, _case_values("same-key", version_id))
        assert constraint_name(refused.value) == UNIQUE_KEY
        # The refused transaction rolled back; the connection goes on.
        with connection.begin():
            assert connection.execute(sa.select(sa.func.count()).select_from(cases)).scalar() == 1


def test_statement_listeners_see_precompiled_statements(database):
    seen: list[str] = []

    def listen(conn, cursor, statement, parameters, context, executemany) -> None:
        seen.append(statement)

    with SqlStore.open(database) as store:
        sa.event.listen(store.engine, "before_cursor_execute", listen)
        with store.engine.begin() as connection:
            Precompiled(SELECT_CASE).run(connection, {"b_id": 1})
        assert sum(statement.startswith("SELECT cases.id") for statement in seen) == 1


def test_a_statement_with_a_list_parameter_is_refused_at_its_first_run(database):
    expanding = sa.select(cases).where(cases.c.id.in_(sa.bindparam("b_ids", expanding=True)))
    with SqlStore.open(database) as store, store.engine.begin() as connection:
        with pytest.raises(ValueError, match="expanding"):
            Precompiled(expanding).run(connection, {"b_ids": [1, 2]})


def test_times_bound_and_read_again_convert_as_sqlalchemy_converts_them(database):
    """The conversions of times are remembered (`precompiled._time_memo`): the same instant given in UTC and in
    another zone, given again, and read back again, gives what SQLAlchemy gives every time; a naive time is
    still refused."""
    plus_two = timezone(timedelta(hours=2))
    instants = [T0, T0.astimezone(plus_two), T0, T0 + timedelta(microseconds=1), T0.astimezone(plus_two), T0]
    with SqlStore.open(database) as store, store.engine.begin() as connection:
        version_id = _version(connection)
        for number, moment in enumerate(instants):
            written = Precompiled(INSERT_CASE).run(
                connection, _case_values(f"t{number}", version_id, created_at=moment, updated_at=moment)).one()
            read = connection.execute(SELECT_CASE, {"b_id": written.id}).one()
            _same(written, read)
            _same(Precompiled(SELECT_CASE).run(connection, {"b_id": written.id}).one(), read)
            assert written.created_at == moment and written.created_at.tzinfo == timezone.utc
        with pytest.raises(ValueError, match="no time zone"):
            Precompiled(INSERT_CASE).run(connection, _case_values("naive", version_id,
                                                                  created_at=T0.replace(tzinfo=None)))
