"""Business time for many moments at once agrees with the calendar's own count, one moment at a time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
from hypothesis import given, settings, strategies as st

from backoffice.definitions.calendar import BusinessCalendar, TimeRange
from backoffice.ops.business_time import BusinessTimeline

START = datetime(2024, 3, 1, tzinfo=timezone.utc)
# Amsterdam with Dutch holidays, a split day, and the change to summer time on 31 March 2024 inside the span.
CALENDAR = BusinessCalendar(timezone="Europe/Amsterdam", working_hours=(TimeRange(510, 720), TimeRange(780, 1050)),
                            country="NL")
moments = st.integers(0, 60 * 24 * 3600).map(lambda seconds: START + timedelta(seconds=seconds))


@settings(max_examples=60, deadline=None)
@given(pairs=st.lists(st.tuples(moments, moments), min_size=1, max_size=20))
def test_the_timeline_counts_what_the_calendar_counts(pairs):
    earlier = [min(a, b) for a, b in pairs]
    later = [max(a, b) for a, b in pairs]
    timeline = BusinessTimeline(CALENDAR, min(earlier), max(later))
    counted = timeline.between(np.array([m.timestamp() for m in earlier]), np.array([m.timestamp() for m in later]))
    expected = [CALENDAR.business_seconds_between(a, b) for a, b in zip(earlier, later, strict=True)]
    assert np.allclose(counted, expected, atol=1e-3)


def test_easter_monday_and_the_weekend_count_nothing():
    timeline = BusinessTimeline(CALENDAR, START, START + timedelta(days=60))
    friday_evening = datetime(2024, 3, 29, 18, 0, tzinfo=timezone.utc)  # after hours; Monday 1 April is a holiday
    tuesday_morning = datetime(2024, 4, 2, 7, 0, tzinfo=timezone.utc)   # 09:00 in Amsterdam, summer time
    assert timeline.between(np.array([friday_evening.timestamp()]), np.array([tuesday_morning.timestamp()]))[0] == \
        CALENDAR.business_seconds_between(friday_evening, tuesday_morning) == 30 * 60
