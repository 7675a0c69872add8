"""Group commit: the changes of many concurrent callers committed together, each acknowledged once durable.

    committer = GroupCommitter(store)
    case = committer.run(lambda: engine.start_case("purchase-request", data, actor=ann, now=now))
    committer.close()

A commit that reaches the disk (fsync on SQLite, the WAL flush on PostgreSQL) costs about the
same for one change as for sixty-four. Under load, a server or a worker with many requests in
flight hands each one to the committer: one thread runs the operations waiting at that moment
one after another inside ONE database transaction, each in a SAVEPOINT of its own, then commits
once. So:

- every operation keeps its own guarantees: its state change, event and audit record are
  written together or not at all (a failing operation's savepoint is rolled back, and its
  caller gets its error; the others in the batch go on);
- nothing is acknowledged before it is durable: `run` returns only after the COMMIT that holds
  the change, and a batch whose COMMIT fails gives every caller in it that error;
- an operation sees the batch's earlier changes: while the committer runs it, the store's reads
  on that thread go through the batch's connection (see `SqlStore._connect`).

Operations run one at a time on the committer's thread (SQLite has one writer anyway; on
PostgreSQL several committers, one per process, share the database as several workers do).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa

from backoffice.store.connect import WRITE

if TYPE_CHECKING:
    from backoffice.store.sql_store import SqlStore

T = TypeVar("T")

DEFAULT_MAX_BATCH = 64
"""Operations in one transaction at most: enough to amortise the commit, few enough to keep each wait short."""

_STOP = object()
_batch = threading.local()


def batch_connection(store: SqlStore) -> sa.Connection | None:
    """The connection of the batch (or writing transaction) this thread is running for `store`, or None."""
    shared = getattr(_batch, "connections", None)
    return shared.get(id(store)) if shared else None


@contextmanager
def bound_to_thread(store: SqlStore, connection: sa.Connection) -> Iterator[None]:
    """Make `connection` the one this thread's reads and writes of `store` go through, while the block runs."""
    if not hasattr(_batch, "connections"):
        _batch.connections = {}
    _batch.connections[id(store)] = connection
    try:
        yield
    finally:
        del _batch.connections[id(store)]


class GroupCommitter:
    """Runs operations on one thread, a batch of them per committed transaction (see the module's text).

    Args:
        store: the store the operations write to (through the engine over it).
        max_batch: the most operations committed together.
    """

    def __init__(self, store: SqlStore, *, max_batch: int = DEFAULT_MAX_BATCH) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, not {max_batch}")
        self.store = store
        self.max_batch = max_batch
        self.batches = 0
        self.operations = 0
        self._waiting: queue.SimpleQueue = queue.SimpleQueue()
        self._closed = False
        self._thread = threading.Thread(target=self._serve, name="group-commit", daemon=True)
        self._thread.start()

    def submit(self, operation: Callable[[], T]) -> Future[T]:
        """Queue `operation`; its future resolves once the transaction holding its changes has committed."""
        if self._closed:
            raise RuntimeError("the group committer is closed")
        future: Future[T] = Future()
        self._waiting.put((future, operation))
        return future

    def run(self, operation: Callable[[], T]) -> T:
        """Run `operation` in the next batch and return its result once durable (or raise its error)."""
        return self.submit(operation).result()

    def close(self) -> None:
        """Finish the operations already queued, then stop the committer's thread."""
        if not self._closed:
            self._closed = True
            self._waiting.put(_STOP)
            self._thread.join()

    def __enter__(self) -> GroupCommitter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _serve(self) -> None:
        stopping = False
        while not stopping:
            batch = [self._waiting.get()]
            # Whatever else waits now joins this batch: no timer, so a lone caller is never delayed.
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._waiting.get_nowait())
                except queue.Empty:
                    break
            if _STOP in batch:
                stopping = True
                batch = [item for item in batch if item is not _STOP]
            if batch:
                self._commit(batch)

    def _commit(self, batch: list[tuple[Future, Callable[[], Any]]]) -> None:
        outcomes: list[tuple[Future, bool, Any]] = []
        try:
            with self.store.engine.connect().execution_options(**{WRITE: True}) as connection, \
                    connection.begin(), bound_to_thread(self.store, connection):
                for future, operation in batch:
                    if not future.set_running_or_notify_cancel():
                        continue
                    try:
                        outcomes.append((future, True, operation()))
                    except BaseException as error:  # the caller's error to get, its savepoint rolled back
                        outcomes.append((future, False, error))
        except BaseException as error:  # the COMMIT (or BEGIN) failed: nothing of the batch is durable
            for future, _ in batch:
                if future.running():
                    future.set_exception(error)
            return
        self.batches += 1
        self.operations += len(outcomes)
        for future, succeeded, value in outcomes:
            if succeeded:
                future.set_result(value)
            else:
                future.set_exception(value)
