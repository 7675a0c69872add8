"""Business time: working hours, weekends, holidays and closures, in the calendar's zone."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from backoffice.definitions.calendar import BusinessCalendar, Duration, TimeRange, Weekday

AMS = ZoneInfo("Europe/Amsterdam")
NL_OFFICE = BusinessCalendar(timezone="Europe/Amsterdam", working_hours=[TimeRange.parse("09:00-17:00")],
                             country="NL")


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=AMS)


def test_time_within_one_working_day():
    assert NL_OFFICE.add_business_time(at(2024, 3, 5, 10), 3 * 3600) == at(2024, 3, 5, 13)


def test_time_runs_over_the_night_into_the_next_morning():
    assert NL_OFFICE.add_business_time(at(2024, 3, 5, 16), 2 * 3600) == at(2024, 3, 6, 10)


def test_a_start_outside_working_hours_counts_from_the_next_opening():
    assert NL_OFFICE.add_business_time(at(2024, 3, 5, 20), 3600) == at(2024, 3, 6, 10)
    assert NL_OFFICE.add_business_time(at(2024, 3, 5, 7), 3600) == at(2024, 3, 5, 10)


def test_weekends_are_skipped():
    # Friday 8 March 2024, 16:00 + 2 h = Monday 10:00.
    assert NL_OFFICE.add_business_time(at(2024, 3, 8, 16), 2 * 3600) == at(2024, 3, 11, 10)


def test_public_holidays_of_the_country_are_skipped():
    # 25 and 26 December are Christmas holidays in the Netherlands.
    assert NL_OFFICE.add_business_time(at(2024, 12, 24, 16), 2 * 3600) == at(2024, 12, 27, 10)
    assert not NL_OFFICE.is_working_day(date(2024, 12, 25))


def test_extra_closure_dates_are_skipped():
    closed = BusinessCalendar(timezone="Europe/Amsterdam", extra_holidays=[date(2024, 3, 6)])
    assert closed.add_business_time(at(2024, 3, 5, 16), 2 * 3600) == at(2024, 3, 7, 10)


def test_split_working_hours_skip_the_lunch_break():
    lunch = BusinessCalendar(timezone="Europe/Amsterdam",
                             working_hours=[TimeRange.parse("09:00-12:00"), TimeRange.parse("13:00-17:00")])
    assert lunch.add_business_time(at(2024, 3, 5, 11), 2 * 3600) == at(2024, 3, 5, 14)
    assert lunch.business_seconds_between(at(2024, 3, 5, 11), at(2024, 3, 5, 14)) == 2 * 3600


def test_working_days_can_be_any_days():
    weekend_shop = BusinessCalendar(timezone="UTC", working_days=[Weekday.SAT, Weekday.SUN])
    start = datetime(2024, 3, 8, 10, tzinfo=timezone.utc)  # a Friday
    assert weekend_shop.add_business_time(start, 3600) == datetime(2024, 3, 9, 10, tzinfo=timezone.utc)


def test_seconds_between_count_only_working_time_and_keep_their_sign():
    friday, monday = at(2024, 3, 8, 16), at(2024, 3, 11, 10)
    assert NL_OFFICE.business_seconds_between(friday, monday) == 2 * 3600
    assert NL_OFFICE.business_seconds_between(monday, friday) == -2 * 3600
    assert NL_OFFICE.business_seconds_between(at(2024, 3, 9, 10), at(2024, 3, 9, 15)) == 0


def test_a_day_lasting_23_hours_at_the_clock_change_is_counted_as_it_is():
    # 31 March 2024: clocks go forward in Amsterdam, the day has 23 hours.
    always = BusinessCalendar(timezone="Europe/Amsterdam", working_hours=[TimeRange.parse("00:00-24:00")],
                              working_days=range(7))
    assert always.business_seconds_between(at(2024, 3, 31, 0), at(2024, 4, 1, 0)) == 23 * 3600


def test_days_in_a_duration_are_working_days():
    one_day = Duration.parse("1d")
    assert NL_OFFICE.business_seconds(one_day) == 8 * 3600
    assert NL_OFFICE.due(at(2024, 3, 5, 15), one_day) == at(2024, 3, 6, 15)
    assert NL_OFFICE.due(at(2024, 3, 5, 15), Duration.parse("1w")) == at(2024, 3, 12, 15)


def test_moments_without_a_zone_are_refused():
    with pytest.raises(ValueError, match="no time zone"):
        NL_OFFICE.add_business_time(datetime(2024, 3, 5, 10), 60)


@pytest.mark.parametrize("text", ["9-17", "17:00-09:00", "09:00-25:00", "09:60-10:00"])
def test_bad_working_hours_are_refused(text):
    with pytest.raises(ValueError, match="expected working hours"):
        TimeRange.parse(text)


def test_unknown_zone_and_country_are_refused_with_what_was_expected():
    with pytest.raises(ValueError, match="IANA"):
        BusinessCalendar(timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="did you mean 'NL'"):
        BusinessCalendar(country="nl")


@settings(max_examples=60, deadline=None)
@given(start=st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 12, 31),
                          timezones=st.just(AMS)),
       seconds=st.integers(min_value=1, max_value=40 * 8 * 3600))
def test_adding_then_counting_gives_back_the_same_seconds(start, seconds):
    due = NL_OFFICE.add_business_time(start, seconds)
    assert due > start
    assert NL_OFFICE.business_seconds_between(start, due) == pytest.approx(seconds)
    assert NL_OFFICE.is_working_time(due - timedelta(seconds=1))
