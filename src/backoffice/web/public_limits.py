"""The abuse limits of the public forms: starts per client address an hour, and starts per workflow a day.

A public form has no account behind it, so the limits are what stands between it and a flood:
each client address may start `per_address_per_hour` cases an hour, and the form as a whole
`daily_cap` a day (both from the definition's `public_intake`). Counted in memory by each server
process, like the intake limit of signed-in people: behind several processes each keeps its own
count, so a proxy's limit (or one kept in the database) bounds the sum. Only starts count: a form
sent back with errors beside its fields costs nothing.
"""

from __future__ import annotations

import threading
from collections import deque
from datetime import datetime, timedelta

from backoffice.errors import TooManyRequests

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
# Beyond this many counted keys, those idle for a whole window are forgotten, so the table cannot grow without end.
MAX_KEYS = 100_000


class WindowLimiter:
    """Counts starts per key in a sliding window; refuses the one past the limit."""

    def __init__(self, window: timedelta, *, what: str) -> None:
        self.window = window
        self.what = what
        self._starts: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def admit(self, key: str, limit: int, now: datetime) -> None:
        """Count one start for `key` at `now`, at most `limit` in the window.

        Raises:
            TooManyRequests: the key has `limit` starts in the window, with the seconds until one leaves it.
        """
        with self._lock:
            starts = self._starts.setdefault(key, deque())
            while starts and starts[0] <= now - self.window:
                starts.popleft()
            if len(starts) >= limit:
                retry = max(1, int((starts[0] + self.window - now).total_seconds()) + 1)
                raise TooManyRequests(f"{self.what} reached its limit of {limit}", retry_after=retry,
                                      expected=f"at most {limit} per {_spoken(self.window)}; retry in {retry} s")
            starts.append(now)
            if len(self._starts) > MAX_KEYS:
                self._starts = {k: v for k, v in self._starts.items() if v and v[-1] > now - self.window}


class PublicLimits:
    """The two limits of every public form of one server process."""

    def __init__(self) -> None:
        self.per_address = WindowLimiter(HOUR, what="requests from this address in the last hour")
        self.per_workflow = WindowLimiter(DAY, what="requests through this public form in the last day")

    def admit(self, workflow: str, address: str, *, per_address_per_hour: int, daily_cap: int, now: datetime) -> None:
        """Count one public start of `workflow` from `address`; the address's limit is checked first.

        Raises:
            TooManyRequests: either limit is reached (a start refused by the daily cap still counts
                against its address: a flood at the cap stays slowed).
        """
        self.per_address.admit(f"{workflow}\n{address}", per_address_per_hour, now)
        self.per_workflow.admit(workflow, daily_cap, now)


def _spoken(window: timedelta) -> str:
    return "hour" if window == HOUR else "day" if window == DAY else f"{int(window.total_seconds())} s"
