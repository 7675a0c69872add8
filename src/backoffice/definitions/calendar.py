"""Business time: durations, working hours, working days and holidays, for SLA due times.

Everything here is pure: the moment to count from is passed in, never read from a clock.
A `BusinessCalendar` counts only the working hours of working days that are not public
holidays (through `holidays`, by country and subdivision) nor extra closure dates.

Durations read as an operations lead means them on a business calendar: "4h" is four working
hours; "3d" is three working days (three times the length of a working day), so a request in
at 15:00 on Tuesday with a 1d SLA is due at 15:00 on Wednesday; "1w" is one working week.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone as dt_timezone
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_library

from backoffice.errors import BadOption
from backoffice.mapping.durations import parse_duration

_PART = re.compile(r"(\d+(?:\.\d+)?)([wdhms])")
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
# A calendar with a working hour in it is found within a year and a bit, unless every day is a
# holiday: this bound turns such a calendar into an error instead of an endless loop.
_MAX_DAYS_SCANNED = 3 * 366


class Weekday(StrEnum):
    """A day of the week, as written in a calendar: mon ... sun."""

    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"

    @property
    def index(self) -> int:
        """Monday is 0, as `date.weekday()` counts."""
        return list(Weekday).index(self)


@dataclass(frozen=True)
class Duration:
    """A duration as written ("4h", "3d", "1d12h"): calendar parts kept apart from clock time.

    `seconds` is the wall-clock reading (a day is 24 hours), for retries and backoff;
    `BusinessCalendar.business_seconds` reads weeks and days as working weeks and days.
    """

    text: str
    weeks: float = 0.0
    days: float = 0.0
    clock_seconds: float = 0.0

    @classmethod
    def parse(cls, text: str) -> Duration:
        """Read a duration such as 4h, 3d, 1d12h, 90m or 2w.

        Raises:
            ValueError: the text is not a positive duration (the message says what was expected).
        """
        if not isinstance(text, str):
            raise ValueError(f"{text!r} is not a duration; expected a duration such as 4h, 3d, 1d12h, 90m or 2w")
        try:
            parse_duration(text, option="duration")
        except BadOption as exc:
            raise ValueError(f"{text!r} is not a duration; expected {exc.expected}") from None
        weeks = days = clock = 0.0
        for number, unit in _PART.findall(text.strip().lower().replace(" ", "")):
            value = float(number)
            if unit == "w":
                weeks += value
            elif unit == "d":
                days += value
            else:
                clock += value * {"h": 3600, "m": 60, "s": 1}[unit]
        return cls(text.strip(), weeks, days, clock)

    @property
    def seconds(self) -> float:
        """Return the wall-clock length in seconds (a day is 24 hours)."""
        return self.weeks * 604800 + self.days * 86400 + self.clock_seconds

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class TimeRange:
    """A span of working time within a day, in minutes from midnight: "09:00-17:00"."""

    start_minute: int
    end_minute: int

    @classmethod
    def parse(cls, text: str) -> TimeRange:
        """Read "HH:MM-HH:MM" (24:00 may end the day).

        Raises:
            ValueError: the text is not a range that starts before it ends.
        """
        match = _RANGE.match(text) if isinstance(text, str) else None
        expected = "working hours such as 09:00-17:00 (start before end, within one day)"
        if not match:
            raise ValueError(f"{text!r} is not a time range; expected {expected}")
        h1, m1, h2, m2 = (int(part) for part in match.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if h1 > 23 or m1 > 59 or m2 > 59 or end > 24 * 60 or start >= end:
            raise ValueError(f"{text!r} is not a time range within one day; expected {expected}")
        return cls(start, end)

    def __str__(self) -> str:
        return (f"{self.start_minute // 60:02d}:{self.start_minute % 60:02d}-"
                f"{self.end_minute // 60:02d}:{self.end_minute % 60:02d}")


def check_holiday_region(country: str, subdivision: str | None) -> None:
    """Raise ValueError unless `holidays` knows the country (and its subdivision)."""
    supported = holidays_library.list_supported_countries()
    if country not in supported:
        from backoffice.errors import suggest
        close = suggest(country, supported)
        hint = f" (did you mean {close!r}?)" if close else ""
        raise ValueError(f"holidays country {country!r} is not known{hint}; "
                         f"expected an ISO 3166 code that the holidays library supports, such as NL, DE, GB or US")
    if subdivision is not None and subdivision not in supported[country]:
        shown = ", ".join(supported[country][:20]) + (" ..." if len(supported[country]) > 20 else "")
        raise ValueError(f"{country} has no subdivision {subdivision!r}; expected one of {shown or 'none'}")


class BusinessCalendar:
    """Working time in one time zone: count it, and add it to a moment.

    Arguments are typed keywords; a moment given to a method must carry its zone
    (naive datetimes are refused, since their meaning depends on the machine).
    """

    def __init__(self, *, timezone: str = "UTC", working_hours: Iterable[TimeRange] = (TimeRange(540, 1020),),
                 working_days: Iterable[Weekday | int] = (0, 1, 2, 3, 4), country: str | None = None,
                 subdivision: str | None = None, extra_holidays: Iterable[date] = ()) -> None:
        try:
            self.zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {timezone!r}; expected an IANA name such as Europe/Amsterdam") from exc
        self.timezone = timezone
        self.working_hours = tuple(sorted(working_hours, key=lambda r: r.start_minute))
        self.working_days = frozenset(day.index if isinstance(day, Weekday) else int(day) for day in working_days)
        for earlier, later in zip(self.working_hours, self.working_hours[1:]):
            if later.start_minute < earlier.end_minute:
                raise ValueError(f"working hours {earlier} and {later} overlap; expected separate ranges")
        if not self.working_hours or not self.working_days:
            raise ValueError("a calendar needs working hours and working days")
        self.day_seconds = float(sum(r.end_minute - r.start_minute for r in self.working_hours) * 60)
        self.extra_holidays = frozenset(extra_holidays)
        self._holidays = None
        if country:
            check_holiday_region(country, subdivision)
            self._holidays = holidays_library.country_holidays(country, subdiv=subdivision)

    def is_working_day(self, day: date) -> bool:
        """Say whether the day is a working weekday that is no holiday nor closure."""
        if day.weekday() not in self.working_days or day in self.extra_holidays:
            return False
        return self._holidays is None or day not in self._holidays

    def is_working_time(self, moment: datetime) -> bool:
        """Say whether the moment falls inside working hours."""
        moment = self._utc(moment)
        return any(start <= moment < end for start, end in self._intervals(moment.astimezone(self.zone).date()))

    def business_seconds(self, duration: Duration) -> float:
        """Return the working seconds in a duration: weeks and days read as working weeks and days."""
        working_days = duration.weeks * len(self.working_days) + duration.days
        return working_days * self.day_seconds + duration.clock_seconds

    def due(self, start: datetime, duration: Duration) -> datetime:
        """Return when a duration of business time that starts at `start` runs out."""
        return self.add_business_time(start, self.business_seconds(duration))

    def add_business_time(self, start: datetime, seconds: float) -> datetime:
        """Return the moment `seconds` of working time after `start`, in the calendar's zone.

        Raises:
            ValueError: start is naive, seconds is negative, or no working time is found.
        """
        if seconds < 0:
            raise ValueError(f"cannot add {seconds} seconds of business time; expected zero or more")
        start = self._utc(start)
        if seconds == 0:
            return start.astimezone(self.zone)
        remaining = float(seconds)
        for day in self._days_from(start.astimezone(self.zone).date()):
            for interval_start, interval_end in self._intervals(day):
                if interval_end <= start:
                    continue
                begin = max(interval_start, start)
                available = (interval_end - begin).total_seconds()
                if remaining <= available:
                    return (begin + timedelta(seconds=remaining)).astimezone(self.zone)
                remaining -= available
        raise ValueError("no working time found within three years; expected a calendar with working days")

    def business_seconds_between(self, a: datetime, b: datetime) -> float:
        """Return the working seconds from a to b (negative when b is before a)."""
        a, b = self._utc(a), self._utc(b)
        if b < a:
            return -self.business_seconds_between(b, a)
        total = 0.0
        day, last = a.astimezone(self.zone).date(), b.astimezone(self.zone).date()
        while day <= last:
            for interval_start, interval_end in self._intervals(day):
                overlap = (min(interval_end, b) - max(interval_start, a)).total_seconds()
                if overlap > 0:
                    total += overlap
            day += timedelta(days=1)
        return total

    def working_intervals(self, first: date, last: date) -> list[tuple[datetime, datetime]]:
        """Return the working intervals (UTC start and end) of the days from first to last, in order.

        For counting business time over many moments at once (a dashboard's SLA attainment):
        the working seconds up to a moment are those of the intervals before it.
        """
        intervals: list[tuple[datetime, datetime]] = []
        day = first
        while day <= last:
            intervals += self._intervals(day)
            day += timedelta(days=1)
        return intervals

    def _days_from(self, first: date) -> Iterator[date]:
        for offset in range(_MAX_DAYS_SCANNED):
            yield first + timedelta(days=offset)

    def _intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        # Local wall times converted to UTC, so spans across a DST change have their true length.
        if not self.is_working_day(day):
            return []
        return [(self._local(day, r.start_minute), self._local(day, r.end_minute)) for r in self.working_hours]

    def _local(self, day: date, minute: int) -> datetime:
        if minute >= 24 * 60:
            day, minute = day + timedelta(days=1), minute - 24 * 60
        local = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=self.zone)
        return local.astimezone(dt_timezone.utc)

    @staticmethod
    def _utc(moment: datetime) -> datetime:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"{moment.isoformat()} has no time zone; expected an aware datetime")
        return moment.astimezone(dt_timezone.utc)
