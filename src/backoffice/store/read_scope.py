"""One connection for the reads of one request, on PostgreSQL: checked out (and pinged) once, not per read.

    with shared_reads():
        ...   # every store read in this context (and the threads it hands work to) uses one connection

A request of the API or the web app makes a dozen or two small reads (who holds the token,
their roles and queues, the case, its events, tasks, votes...). Each read through
`SqlStore._connect` used to check a connection out of the pool, which pinged the server first
(then on every checkout; now only after a second idle, see `store.connect`) and rolls back when it
goes back: three round trips and the pool's Python for each query, a third of a request's time at scale. Inside `shared_reads`, the reads of one store
share one connection, opened at the first read and closed when the block ends.

The shared connection is in autocommit: each statement sees what is committed when it starts,
exactly as a fresh connection per read did, so a read after the request's own write sees it,
and no transaction stays open between reads. Writes never go through it (`_writing` opens its
own transaction). Only PostgreSQL: a SQLite reader would hold a snapshot for as long as it
stays open, and a SQLite file has no round trip to save.

A request never holds its read connection while it waits for another: `_writing` hands it
back to the pool (`release_shared_reader`) before it takes a connection to write with, and the
next read takes one again. Two requests holding a reader each and each waiting for a writer
would otherwise starve the pool (seen under 50 clients: every pooled connection a reader,
every request waiting).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import sqlalchemy as sa

_current: ContextVar[dict[int, sa.Connection] | None] = ContextVar("backoffice_shared_reads", default=None)


@contextmanager
def shared_reads() -> Iterator[None]:
    """Share one read connection per store for the duration of the block (contextvars carry it into worker threads)."""
    connections: dict[int, sa.Connection] = {}
    token = _current.set(connections)
    try:
        yield
    finally:
        _current.reset(token)
        for connection in connections.values():
            connection.close()


def shared_reader(engine: sa.Engine) -> sa.Connection | None:
    """Return the block's read connection to `engine` (opened now if need be), or None outside a block or on SQLite."""
    connections = _current.get()
    if connections is None or engine.dialect.name != "postgresql":
        return None
    connection = connections.get(id(engine))
    if connection is None or connection.closed or connection.invalidated:
        connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        connections[id(engine)] = connection
    return connection


def release_shared_reader(engine: sa.Engine) -> None:
    """Hand the block's read connection to `engine` back to the pool (before waiting for a connection to write with)."""
    connections = _current.get()
    if connections:
        connection = connections.pop(id(engine), None)
        if connection is not None:
            connection.close()


class SharedReads:
    """An ASGI middleware: each HTTP request's reads share one connection (see `shared_reads`)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with shared_reads():
            await self.app(scope, receive, send)
