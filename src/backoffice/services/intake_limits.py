"""Rate limits on intake: at most N cases started per caller per minute, per server process.

A sliding window of the times of each caller's recent starts, kept in memory: a runaway
script or a flood of webhooks gets 429 with Retry-After instead of filling the queues. Behind
several server processes each enforces its own share; a shared limit (a proxy's, or one kept
in the database) is the way to bound the sum.
"""

from __future__ import annotations

import threading
from collections import deque
from datetime import datetime, timedelta

from backoffice.errors import TooManyRequests

WINDOW = timedelta(minutes=1)


class IntakeLimiter:
    """Counts each caller's starts in the last minute."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._starts: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def admit(self, caller: str, now: datetime) -> None:
        """Count one start by `caller` at `now`.

        Raises:
            TooManyRequests: when they started `per_minute` cases in the last minute, with when to retry.
        """
        with self._lock:
            starts = self._starts.setdefault(caller, deque())
            while starts and starts[0] <= now - WINDOW:
                starts.popleft()
            if len(starts) >= self.per_minute:
                retry = max(1, int((starts[0] + WINDOW - now).total_seconds()) + 1)
                raise TooManyRequests(f"{caller} started {len(starts)} cases in the last minute, the most this "
                                      f"server takes from one caller", retry_after=retry,
                                      expected=f"at most {self.per_minute} a minute; retry in {retry} s")
            starts.append(now)
            if len(self._starts) > 100_000:
                # Forget callers idle for a minute, so the table cannot grow without end.
                self._starts = {key: value for key, value in self._starts.items() if value and value[-1] > now - WINDOW}
