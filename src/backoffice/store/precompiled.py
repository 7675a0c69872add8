"""Statements compiled once per database dialect and run on the transaction's own driver cursor.

Every change runs the same few dozen statements. Through `Connection.execute`, SQLAlchemy
spends several times what SQLite or PostgreSQL spend running them on setting up each
execution (its cache key, the compiled statement's parameters, an execution context, the
result's metadata): most of the engine's CPU per call (benchmarks/profile_engine.py).
A `Precompiled` statement is compiled by SQLAlchemy, for the connection's dialect and the
parameter names given, once; each run then converts the values with the same type
processors SQLAlchemy would use (times to UTC, JSON to text...), executes the driver's
cursor of the connection the transaction holds (so it runs inside that transaction, its
savepoints included) and converts the rows back with the same result processors. The SQL
text, the values sent and the rows returned are SQLAlchemy's own; only the bookkeeping
between them is skipped (`tests/store/test_precompiled.py` checks the rows are the same).

What stays as SQLAlchemy does it: errors come out as SQLAlchemy's exception classes
(`sqlalchemy.exc.IntegrityError`...), and the connection's `before_cursor_execute` and
`after_cursor_execute` listeners see each statement (those that count statements count
these too; they are given no execution context).
"""

from __future__ import annotations

import weakref
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa

_ABSENT = object()


class PrecompiledRow(tuple):
    """A row: its values by position and by column name (`row.id`, `row._mapping`), as SQLAlchemy's Row gives them."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()

    @property
    def _mapping(self) -> dict[str, Any]:
        return dict(zip(self._fields, self))


def _row_class(keys: Sequence[str]) -> type:
    base = namedtuple("Row", keys)  # noqa: PYI024 - attribute access by column name, built once per statement
    return type("Row", (base, PrecompiledRow), {"__slots__": ()})


class PrecompiledResult:
    """The rows a run returned (all fetched), and the number of rows it changed."""

    __slots__ = ("rows", "rowcount")

    def __init__(self, rows: list, rowcount: int) -> None:
        self.rows = rows
        self.rowcount = rowcount

    def first(self) -> Any:
        return self.rows[0] if self.rows else None

    def one(self) -> Any:
        if len(self.rows) != 1:
            raise sa.exc.NoResultFound("no row") if not self.rows else sa.exc.MultipleResultsFound("rows")
        return self.rows[0]

    def all(self) -> list:
        return self.rows

    def scalar(self) -> Any:
        return self.rows[0][0] if self.rows else None

    def scalars(self) -> list:
        return [row[0] for row in self.rows]

    def __iter__(self):
        return iter(self.rows)


class _Plan:
    """One statement compiled for one dialect and one set of parameter names."""

    __slots__ = ("sql", "names", "positional", "processors", "fixed", "keys", "row", "result_types", "returns",
                 "result_processors", "_simple", "_converted")

    def __init__(self, statement: sa.Executable, dialect: sa.Dialect, keys: Sequence[str]) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("a statement with expanding or literal-execute parameters cannot be precompiled")
        self.sql = compiled.string
        self.positional = dialect.positional
        names = list(compiled.positiontup) if dialect.positional else list(compiled.binds)
        escaped = compiled.escaped_bind_names or {}
        processors = compiled._bind_processors
        self.names = [escaped.get(name, name) for name in names]
        # For each parameter the driver gets: the caller's value (by key), or the value fixed in the statement.
        self.keys, self.fixed, self.processors = [], [], []
        for name in names:
            bind = compiled.binds[name]
            key = bind.key if bind.key in keys else name if name in keys else None
            if key is None and (bind.required or bind.callable is not None):
                raise ValueError(f"no value for the parameter {name!r}")
            self.keys.append(key)
            self.fixed.append(None if key is not None else bind.value)
            self.processors.append(_time_memo(processors.get(name), bind.type, dialect, "bind"))
        # The common shape, every value the caller's (none fixed in the statement): taken in one step,
        # then only the values with a type processor (times, JSON) converted.
        self._simple = all(key is not None for key in self.keys)
        self._converted = [(index, processor) for index, processor in enumerate(self.processors)
                           if processor is not None]
        self.returns = bool(compiled._result_columns)
        self.result_types = [entry[3] for entry in compiled._result_columns]
        self.row = _row_class([entry[0] for entry in compiled._result_columns]) if self.returns else None
        self.result_processors: list | None = None

    def values(self, parameters: Mapping[str, Any]) -> Any:
        if self._simple:
            values = [parameters[key] for key in self.keys]
            for index, processor in self._converted:
                values[index] = processor(values[index])
            return tuple(values) if self.positional else dict(zip(self.names, values))
        values = []
        for key, fixed, processor in zip(self.keys, self.fixed, self.processors):
            value = parameters[key] if key is not None else fixed
            values.append(processor(value) if processor is not None else value)
        return tuple(values) if self.positional else dict(zip(self.names, values))

    def rows(self, cursor: Any, dialect: sa.Dialect) -> list:
        fetched = cursor.fetchall()
        if self.result_processors is None:
            # Per column type and the driver's type code, as SQLAlchemy's result metadata picks them.
            self.result_processors = [
                _time_memo(type_._cached_result_processor(dialect, described[1]), type_, dialect, "result")
                for type_, described in zip(self.result_types, cursor.description)]
        processors = self.result_processors
        make = self.row._make
        if not any(processors):
            return [make(row) for row in fetched]
        return [make([value if processor is None else processor(value)
                      for processor, value in zip(processors, row)]) for row in fetched]


# Times converted, by the kind of time type and dialect (see `_time_memo`): each change binds its `now` and reads
# back the same few times in several columns (created, updated, closed, the event's), and SQLAlchemy's
# conversion of one (the time zone check and shift, then formatting or parsing SQLite's text) cost more than a
# lookup. Bounded: cleared when full.
_TIME_MEMOS: dict[tuple, dict[Any, Any]] = {}
_TIME_MEMO_LIMIT = 512


def _time_memo(processor: Callable[[Any], Any] | None, type_: Any, dialect: sa.Dialect,
               way: str) -> Callable[[Any], Any] | None:
    """`processor`, remembering what it gave for a time (bind: an aware UTC datetime) or a text (result: SQLite's
    stored time), when `type_` is a time type whose conversion depends on nothing but the value and the dialect.

    Only those inputs, whose equality says the conversion is the same: an aware time in another zone compares
    equal to the UTC time of the same instant, and one in a zone with daylight saving to times an hour apart (its
    `fold` aside), so those are converted as before. A datetime is immutable: sharing the one remembered is safe.
    """
    if processor is None:
        return None
    impl = type_.impl_instance if isinstance(type_, sa.TypeDecorator) else type_
    if not isinstance(impl, sa.DateTime) or type(type_).__init__ not in (sa.TypeDecorator.__init__,
                                                                         sa.DateTime.__init__):
        return processor
    # By the dialect's kind, not the object: a memo must not keep a closed engine's dialect alive.
    memo = _TIME_MEMOS.setdefault((type(type_), repr(impl), type(dialect), dialect.name, way), {})
    utc = timezone.utc

    def remember(value: Any) -> Any:
        found = memo[value] = processor(value)
        if len(memo) > _TIME_MEMO_LIMIT:
            memo.clear()
        return found

    def bound(value: Any) -> Any:
        if type(value) is not datetime or value.tzinfo is not utc:
            return processor(value)
        found = memo.get(value)
        return found if found is not None else remember(value)

    def read(value: Any) -> Any:
        if type(value) is not str:
            return processor(value)
        found = memo.get(value)
        return found if found is not None else remember(value)
    return bound if way == "bind" else read


class Precompiled:
    """A statement built once, compiled once per dialect and parameter names, and run without SQLAlchemy's
    execution machinery on the connection's own transaction."""

    def __init__(self, statement: sa.Executable) -> None:
        self.statement = statement
        self._plans: weakref.WeakKeyDictionary[sa.Dialect, dict[tuple[str, ...], _Plan]] = weakref.WeakKeyDictionary()
        self._last: tuple[weakref.ref, dict[tuple[str, ...], _Plan]] | None = None

    def plan(self, dialect: sa.Dialect, keys: tuple[str, ...]) -> _Plan:
        # The plans of the dialect last run on, kept by a weak reference (a process runs on one database).
        last = self._last
        if last is not None and last[0]() is dialect:
            plans = last[1]
        else:
            plans = self._plans.get(dialect)
            if plans is None:
                plans = self._plans[dialect] = {}
            self._last = (weakref.ref(dialect), plans)
        plan = plans.get(keys)
        if plan is None:
            plan = plans[keys] = _Plan(self.statement, dialect, keys)
        return plan

    def run(self, connection: sa.Connection, parameters: Mapping[str, Any] | None = None) -> PrecompiledResult:
        """Run the statement with these values in the connection's transaction; every returned row fetched."""
        parameters = parameters or {}
        if not connection.in_transaction():
            connection.begin()  # as Connection.execute would (autobegin): the driver's statement is then in it
        dialect = connection.dialect
        # Keyed by the names in the order given (each caller gives them in its own fixed order): no sort per run.
        plan = self.plan(dialect, tuple(parameters))
        sql, values = plan.sql, plan.values(parameters)
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            # Listened to only when someone listens for statements (an engine's `begin` listener is no reason).
            if connection._has_events or connection.engine._has_events:
                dispatch = connection.dispatch
                listened = bool(dispatch.before_cursor_execute) or bool(dispatch.after_cursor_execute)
            else:
                listened = False
            if listened:
                for listener in connection.dispatch.before_cursor_execute:
                    sql, values = listener(connection, cursor, sql, values, None, False)
            try:
                cursor.execute(sql, values)
                rows = plan.rows(cursor, dialect) if plan.returns else []
            except dialect.loaded_dbapi.Error as error:
                raise sa.exc.DBAPIError.instance(sql, values, error, dialect.loaded_dbapi.Error,
                                                 dialect=dialect) from error
            if listened:
                connection.dispatch.after_cursor_execute(connection, cursor, sql, values, None, False)
            return PrecompiledResult(rows, cursor.rowcount)
        finally:
            cursor.close()


def sql_text(text: str) -> sa.ColumnElement:
    """A fixed text written into the statement, not bound as a parameter.

    SQLite prepares a statement again on every run when a parameter stands on the right of a
    LIKE, or is compared with the column of a partial index's condition (`audit_records.chain`,
    by ix_audit_records_system_...): such values are written into the SQL instead.
    """
    return sa.literal_column("'" + text.replace("'", "''") + "'", sa.Text)


def case_chain(case_id: sa.ColumnElement) -> sa.ColumnElement:
    """The name of a case's audit chain (`engine.audit.chain_of`), built in SQL from its id (see `sql_text`)."""
    from backoffice.engine.audit import chain_of

    return sql_text(chain_of(0)[:-1]) + sa.cast(case_id, sa.Text)
