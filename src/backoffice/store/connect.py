"""Open the engine's database: one SQLite file by default, or PostgreSQL by URL (psycopg 3).

SQLite runs in WAL mode (readers never wait for the writer), with a busy timeout (a writer
waits its turn instead of failing), foreign keys on, and full sync (a committed change
survives a power cut). Writing transactions begin with BEGIN IMMEDIATE: a transaction that
read first and wrote later would otherwise fail with "database is locked" when another
writer committed in between, instead of waiting.
"""

from __future__ import annotations

import sqlite3
import time
import weakref
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import make_url

from backoffice.errors import DatabaseUnavailable

DEFAULT_DATABASE = "backoffice.db"
BUSY_TIMEOUT_MS = 30_000
POOL_SIZE = 20
POOL_OVERFLOW = 20
WRITE = "backoffice_write"
"""The execution option that marks a connection's transaction as writing (BEGIN IMMEDIATE on SQLite)."""


def database_url(target: str | Path) -> str:
    """Return the SQLAlchemy URL for a file path or a URL.

    A path (`backoffice.db`, `/srv/ops/engine.db`) is a SQLite file; `postgresql://...` and
    `postgres://...` use psycopg 3.

    Raises:
        DatabaseUnavailable: a URL of a database the engine does not run on.
    """
    text = str(target).strip()
    if "://" not in text:
        return f"sqlite:///{Path(text).expanduser().resolve()}"
    scheme, rest = text.split("://", 1)
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        return f"postgresql+psycopg://{rest}"
    if scheme in ("sqlite", "sqlite+pysqlite"):
        return f"sqlite://{rest}"
    raise DatabaseUnavailable(shown(text), f"the engine runs on SQLite or PostgreSQL, not {scheme}")


def shown(url: str) -> str:
    """Return a URL as it may be printed: without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return url


def create_engine(target: str | Path) -> sa.Engine:
    """Return a SQLAlchemy engine for a file path or URL, set up for the engine's transactions."""
    url = database_url(target)
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError as exc:
        raise DatabaseUnavailable(shown(url), "the URL cannot be read") from exc
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not Path(database).parent.is_dir():
            raise DatabaseUnavailable(shown(url), f"the folder {Path(database).parent} does not exist")
        if database and database != ":memory:":
            _refuse_what_is_not_sqlite(Path(database), shown(url))
        engine = sa.create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_connect)  # a pool event: the engine's connections stay unlistened
        _begin_in_the_dialect(engine.dialect)
        return engine
    # A server process works on up to BACKOFFICE_REQUEST_THREADS requests at once (8 unless set higher),
    # each holding one connection at a time. With the default pool (5 kept, 10 more opened and closed again) a busy server kept opening
    # connections: a new PostgreSQL backend each time (a fork, a login, cold caches, statements prepared
    # again), one request in ten at 50 clients. Keeping 20 makes that rare; 20 more may open in a burst.
    engine = sa.create_engine(url, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW,
                              connect_args={"connect_timeout": 10})
    event.listen(engine.pool, "connect", _fresh)
    event.listen(engine.pool, "checkin", _fresh)
    event.listen(engine.pool, "checkout", _ping_if_idle)
    return engine


PING_AFTER_IDLE_S = 1.0
"""A pooled PostgreSQL connection idle this long is pinged before it is handed out; one back sooner is not."""


def _fresh(dbapi_connection, connection_record, *_args) -> None:
    connection_record.info["backoffice_used_at"] = time.monotonic()


def _ping_if_idle(dbapi_connection, connection_record, _proxy) -> None:
    """Check a connection that sat in the pool before handing it out; a dead one is replaced by a new one.

    What `pool_pre_ping` does, but only after PING_AFTER_IDLE_S in the pool: a server restart or
    an idle timeout leaves dead connections in the pool, and none is handed out unchecked. A
    connection back from a transaction a moment ago is not pinged again: that was one round trip
    more on every transaction of a busy writer (a BEGIN, the statements, the COMMIT, and the ping).
    """
    used_at = connection_record.info.get("backoffice_used_at")
    if used_at is not None and time.monotonic() - used_at < PING_AFTER_IDLE_S:
        return
    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SELECT 1")
        finally:
            cursor.close()
        if dbapi_connection.info.transaction_status != 0:  # the ping's own transaction, ended (0 is idle)
            dbapi_connection.rollback()
    except Exception as exc:
        # The pool drops this connection and hands out another (a new one when they are all dead).
        raise sa.exc.DisconnectionError(f"a pooled connection no longer answers: {exc}") from exc


SQLITE_HEADER = b"SQLite format 3\x00"


def _refuse_what_is_not_sqlite(path: Path, url: str) -> None:
    """Refuse a path that exists but holds no SQLite database, before the driver opens (and writes beside) it."""
    if not path.exists():
        return
    if not path.is_file():
        raise DatabaseUnavailable(url, f"{path} is not a file")
    try:
        with path.open("rb") as file:
            header = file.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise DatabaseUnavailable(url, f"cannot read {path} ({exc.strerror})") from exc
    # An empty file is a new database; anything else must start as every SQLite file does.
    if header and header != SQLITE_HEADER:
        raise DatabaseUnavailable(url, f"{path} is not a SQLite database (it does not start with the SQLite "
                                       f"header)")


def _sqlite_connect(dbapi_connection, connection_record) -> None:
    # Take BEGIN out of the driver's hands: _sqlite_begin says when and how a transaction starts.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in (f"busy_timeout = {BUSY_TIMEOUT_MS}", "foreign_keys = ON", "synchronous = FULL"):
        cursor.execute(f"PRAGMA {pragma}")
    _in_wal_mode(cursor)
    cursor.close()


def _in_wal_mode(cursor) -> None:
    """Put the file in WAL mode, once: the mode is kept in the file.

    Switching needs the file to itself, and SQLite answers "database is locked" at once, without
    its busy timeout, when another process opening the same new file switches it at that moment
    (seen when processes open a new database together): the mode is read again then, and the
    switch tried again a bounded number of times.
    """
    for attempt in range(50):
        if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
            return
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == 49:
                raise
            time.sleep(0.01 * (attempt + 1))


def _begin_in_the_dialect(dialect: sa.Dialect) -> None:
    """Make SQLite's transactions begin with BEGIN IMMEDIATE on a connection marked WRITE, with BEGIN on any other.

    The dialect's own `do_begin` sends it, rather than a `begin` listener on the engine (SQLAlchemy's
    recipe): any connection listener on an engine makes every connection of it dispatch events on
    each connect, begin, commit and statement, listened to or not. That bookkeeping cost about 15 us of
    CPU a transaction, against 20 us for all the rest of opening, beginning and committing one.
    A connection's WRITE option marks its checkout from the pool (a new one each time it is taken out),
    so the mark ends when the connection goes back.
    """
    writing: weakref.WeakSet = weakref.WeakSet()
    set_options = dialect.set_connection_execution_options

    def set_connection_execution_options(connection: sa.Connection, options) -> None:
        if WRITE in options:
            (writing.add if options[WRITE] else writing.discard)(connection.connection)
        set_options(connection, options)

    def do_begin(checkout) -> None:
        checkout.dbapi_connection.execute("BEGIN IMMEDIATE" if checkout in writing else "BEGIN")

    dialect.set_connection_execution_options = set_connection_execution_options
    dialect.do_begin = do_begin
