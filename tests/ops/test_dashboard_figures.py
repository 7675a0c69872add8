"""The dashboard's read models against figures worked out by hand (tests/ops/seeded_cases.py), on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backoffice.errors import UnknownWorkflow
from backoffice.ops.dashboard import read_dashboard
from backoffice.ops.exception_trend import exceptions_by_reason
from backoffice.ops.flow import throughput, time_in_state
from backoffice.ops.scope import Scope, Window
from backoffice.ops.sla_attainment import SlaClockName, sla_attainment
from backoffice.ops.workload import age_profile, backlog, work_in_progress

from .seeded_cases import NOW, WEEKS, at, seed_cases

HOUR = 3600.0


@pytest.fixture
def seeded(store):
    from backoffice.engine import Engine
    seed_cases(Engine(store))
    return store


def read(store, reader, *, now=NOW, weeks=3, version=None):
    scope = Scope.of(store, "service-request", Window.last_weeks(now, weeks), version=version)
    with store.engine.connect() as connection:
        return reader(connection, scope)


def test_the_window_is_whole_weeks_from_monday_up_to_now():
    window = Window.last_weeks(NOW, 3)
    assert window.start == WEEKS[0] and window.weeks == WEEKS


def test_the_backlog_counts_open_cases_by_queue_and_state(seeded):
    figures = read(seeded, backlog)
    assert {(c.queue, c.state): c.cases for c in figures.cells} == {
        ("service-desk", "new"): 1, ("resolver-groups", "blocked"): 1, ("service-desk", "waiting-on-requester"): 1}
    assert figures.by_state() == {"blocked": 1, "new": 1, "waiting-on-requester": 1}
    assert figures.total == 3


def test_the_age_profile_buckets_open_cases_by_time_since_intake(seeded):
    ages = {bucket.label: bucket.cases for bucket in read(seeded, age_profile)}
    # E and F came in 2 days 3 hours and 1 day 3 hours before NOW; G 7 days 3 hours before.
    assert ages == {"under 1 day": 0, "1 to 3 days": 2, "3 to 7 days": 0, "1 to 2 weeks": 1, "2 to 4 weeks": 0,
                    "over 4 weeks": 0}


def test_sla_attainment_counts_each_clock_in_the_week_it_stopped(seeded):
    first, resolution = read(seeded, sla_attainment)
    assert (first.clock, first.target) == (SlaClockName.FIRST_RESPONSE, "4h")
    # B took 9 working hours to leave intake; A, C, D, G and F under 4.
    assert [(w.week, w.met, w.missed) for w in first.weeks] == [(WEEKS[0], 2, 1), (WEEKS[1], 2, 0), (WEEKS[2], 1, 0)]
    assert (resolution.clock, resolution.target) == (SlaClockName.RESOLUTION, "3d")
    # C took 33 working hours; B 54, of which 36 paused on its requester: 18, within 27.
    assert [(w.week, w.met, w.missed) for w in resolution.weeks] == [(WEEKS[0], 1, 0), (WEEKS[1], 2, 1),
                                                                      (WEEKS[2], 0, 0)]
    assert resolution.weeks[2].share is None and resolution.weeks[1].share == pytest.approx(2 / 3)


def test_resolution_attainment_takes_off_the_time_the_engine_counted_as_paused(seeded):
    from backoffice.store.tables import sla_clocks
    import sqlalchemy as sa
    with seeded.engine.begin() as connection:  # as if B had never waited on its requester
        connection.execute(sa.update(sla_clocks).values(paused_seconds=0.0))
    resolution = read(seeded, sla_attainment)[1]
    assert [(w.met, w.missed) for w in resolution.weeks][1] == (1, 2)


def test_throughput_counts_cases_started_and_ended_per_week(seeded):
    assert [(w.week, w.started, w.completed) for w in read(seeded, throughput)] == [
        (WEEKS[0], 3, 1), (WEEKS[1], 2, 3), (WEEKS[2], 2, 0)]


def test_time_in_state_gives_the_median_and_p90_of_ended_stays(seeded):
    times = {s.state: (s.stays, s.median_seconds / HOUR, s.p90_seconds / HOUR) for s in read(seeded, time_in_state)}
    # new: 0.5 0.5 1 1 1 24; triage: 0.5 1 1 1 2 2 3; in progress: 1 1 20 22 125; waiting: B's 144 (G's still runs).
    assert times == {"new": (6, 1.0, 24.0), "triage": (7, 1.0, 3.0), "in-progress": (5, 20.0, 125.0),
                     "waiting-on-requester": (1, 144.0, 144.0)}
    assert list(times) == ["new", "triage", "in-progress", "waiting-on-requester"]  # the definition's order


def test_exceptions_by_reason_give_the_weekly_trend_and_those_open(seeded):
    trends = read(seeded, exceptions_by_reason)
    assert [(t.reason, t.weekly, t.open_now) for t in trends] == [("needs_info", [1, 1, 0], 1),
                                                                  ("third_party_delay", [0, 0, 1], 1)]


def test_work_in_progress_counts_live_claims_and_assigned_tasks_per_person(seeded):
    loads = read(seeded, work_in_progress)
    assert [(p.person, p.name, p.tasks, p.overdue) for p in loads] == [("ann", "Ann", 1, 1), ("carl", "Carl", 1, 0)]
    # Carl's lease runs out at 12:15: from then on F's task is anyone's to take, not his work.
    later = read(seeded, work_in_progress, now=at(20, 12.5))
    assert [(p.person, p.tasks) for p in later] == [("ann", 1)]


def test_a_narrower_window_leaves_earlier_weeks_out(seeded):
    flows = read(seeded, throughput, weeks=1)
    assert [(w.week, w.started, w.completed) for w in flows] == [(WEEKS[2], 2, 0)]
    first = read(seeded, sla_attainment, weeks=1)[0]
    assert [(w.met, w.missed) for w in first.weeks] == [(1, 0)]


def test_the_clock_decides_what_has_happened_yet(seeded):
    # As of Friday 8 March, only A had ended and only B's first response was late.
    earlier = at(8, 12)
    assert [(w.started, w.completed) for w in read(seeded, throughput, now=earlier, weeks=1)] == [(3, 1)]
    first, resolution = read(seeded, sla_attainment, now=earlier, weeks=1)
    assert [(w.met, w.missed) for w in first.weeks] == [(2, 1)]
    assert [(w.met, w.missed) for w in resolution.weeks] == [(1, 0)]


def test_one_version_keeps_to_its_cases_and_an_unknown_one_is_named(seeded):
    dashboard = read(seeded, read_dashboard, version=1)
    assert dashboard.backlog.total == 3
    with pytest.raises(UnknownWorkflow, match="2"):
        read(seeded, read_dashboard, version=2)
    with pytest.raises(UnknownWorkflow):
        Scope.of(seeded, "no-such-workflow", Window.last_weeks(NOW))


@pytest.mark.parametrize("weeks", [0, 105])
def test_a_window_outside_its_bounds_is_refused(weeks):
    with pytest.raises(ValueError, match="expected 1 to 104"):
        Window.last_weeks(NOW, weeks)


def test_a_moment_without_a_zone_is_refused():
    with pytest.raises(ValueError, match="no time zone"):
        Window.last_weeks(NOW.replace(tzinfo=None) + timedelta(0))
