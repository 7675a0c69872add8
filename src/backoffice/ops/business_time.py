"""Business time for many moments at once: the working seconds of a calendar up to each moment, in numpy.

SQL cannot count working hours across zones, weekends and public holidays; the calendar can,
but one moment at a time. A timeline lays the calendar's working intervals out once, with the
working seconds before each, so the business time between any two moments is a difference
of two lookups (a binary search each) over arrays of moments.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from backoffice.definitions.calendar import BusinessCalendar


class BusinessTimeline:
    """The working seconds of one calendar from a first to a last moment (see `worked`)."""

    def __init__(self, calendar: BusinessCalendar, first: datetime, last: datetime) -> None:
        # A day either side: a moment's local date may differ from its UTC date.
        days = (first.astimezone(calendar.zone).date() - timedelta(days=1),
                last.astimezone(calendar.zone).date() + timedelta(days=1))
        intervals = calendar.working_intervals(*days)
        self.starts = np.array([start.timestamp() for start, _ in intervals], dtype=float)
        self.lengths = np.array([(end - start).total_seconds() for start, end in intervals], dtype=float)
        self.before = np.concatenate(([0.0], np.cumsum(self.lengths)[:-1])) if intervals else self.lengths

    def worked(self, moments: np.ndarray) -> np.ndarray:
        """Return, for each moment (seconds since the epoch), the working seconds since the timeline's first."""
        moments = np.asarray(moments, dtype=float)
        if not len(self.starts):
            return np.zeros_like(moments)
        index = np.searchsorted(self.starts, moments, side="right") - 1
        safe = np.clip(index, 0, None)
        within = np.clip(moments - self.starts[safe], 0.0, self.lengths[safe])
        return np.where(index >= 0, self.before[safe] + within, 0.0)

    def between(self, earlier: np.ndarray, later: np.ndarray) -> np.ndarray:
        """Return the working seconds from each earlier moment to the later one beside it."""
        return self.worked(later) - self.worked(earlier)
