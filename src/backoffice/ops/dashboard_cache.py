"""Dashboards read a moment ago, kept for a few minutes: a team opening the page all day does not re-read the year.

At scale a dashboard sorts a few hundred thousand events (time in state, SLA clocks); the
figures of a few minutes ago serve a team lead as well as this second's. Entries are per
scope (workflow, version, weeks), and the page says when its figures were read. The clock is
passed in, as everywhere: an entry read at T serves the requests up to T + `fresh_for`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime, timedelta
from typing import Generic, TypeVar

FRESH_FOR = timedelta(minutes=5)
MAX_ENTRIES = 64

T = TypeVar("T")


class RecentReads(Generic[T]):
    """A small map of recent reads, each good for `fresh_for` after it was read; the least recently used goes first."""

    def __init__(self, *, fresh_for: timedelta = FRESH_FOR, size: int = MAX_ENTRIES) -> None:
        self.fresh_for = fresh_for
        self.size = size
        self._entries: OrderedDict[Hashable, tuple[datetime, T]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, now: datetime, read: Callable[[], T]) -> tuple[T, datetime]:
        """Return the value for `key` and when it was read: a fresh entry's, or `read()`'s now (kept)."""
        with self._lock:
            found = self._entries.get(key)
            if found is not None and found[0] <= now < found[0] + self.fresh_for:
                self._entries.move_to_end(key)
                return found[1], found[0]
        # Read outside the lock: one slow dashboard must not hold up every other one.
        value = read()
        with self._lock:
            self._entries[key] = (now, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value, now
