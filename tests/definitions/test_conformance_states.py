"""`conform` over a log that names its states by id, as the engine's own events do: exact, nothing guessed.

The events here are written as the engine writes them (the activity is the transition's
name, to_state the state entered, from_state the state left, a vote's state the approval),
so each behaviour is checked without a database; tests/cli/test_conform_db.py runs the same
through a real engine and store.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow as pa
import pytest

from backoffice.definitions import LIBRARY, load_definition
from backoffice.definitions.conformance import DeviationKind, StateColumns, conform
from backoffice.errors import LogFileError
from backoffice.events.schema import EventLog

SERVICE_REQUEST = load_definition(LIBRARY / "service-request.yaml")
PURCHASE = load_definition(Path(__file__).parents[1] / "engine" / "purchase-approval.yaml")
ENGINE = StateColumns(entered="to_state", acted_in=("from_state", "state"))
T0 = datetime(2024, 3, 4, 9, 0, tzinfo=timezone.utc)  # a Monday, 10:00 in Amsterdam


def hours(count: float) -> datetime:
    return T0 + timedelta(hours=count)


def engine_log(*events: tuple) -> EventLog:
    """Build a log from (case, activity, at, resource, from_state, to_state[, voted_in]) rows."""
    columns: dict[str, list] = {name: [] for name in ("case_id", "activity", "timestamp", "resource", "from_state",
                                                      "to_state", "state")}
    for case, activity, at, resource, left, entered, *voted_in in events:
        for name, value in zip(columns, (case, activity, at, resource, left, entered, voted_in[0] if voted_in
                                         else None), strict=True):
            columns[name].append(value)
    table = pa.table({name: pa.array(values, pa.timestamp("us", tz="UTC") if name == "timestamp" else pa.string())
                      for name, values in columns.items()})
    return EventLog.from_table(table, source="engine events")


def request(case: str, *moves: tuple[str, str, float, str], start: float = 0) -> list[tuple]:
    """A service request's intake by ann, then (activity, to_state, hours, resource) moves in order."""
    rows = [(case, "new", hours(start), "ann", None, "new")]
    state = "new"
    for activity, to, at, resource in moves:
        rows.append((case, activity, hours(at), resource, state, to))
        state = to
    return rows


BY_THE_BOOK = request("1", ("accept", "triage", 1, "bob"), ("assign", "in-progress", 2, "bob"),
                      ("resolve", "done", 3, "carl"))


def test_states_are_followed_by_id_whatever_the_activities_are_called():
    log = engine_log(*BY_THE_BOOK)
    exact = conform(log, SERVICE_REQUEST, states=ENGINE)
    assert (exact.cases, exact.conforming, exact.open_cases, exact.events_replayed) == (1, 1, 0, 4)
    assert exact.states_from == "to_state" and exact.activity_states == {} and exact.deviations == []
    # Matched by name instead, the transitions' names are no states: that is what the exact input spares.
    guessed = conform(log, SERVICE_REQUEST)
    assert set(guessed.unmapped_activities) == {"accept", "assign", "resolve"}


def test_an_event_that_enters_no_state_moves_nothing():
    vote = ("1", "note added", hours(1.5), "bob", None, None)
    report = conform(engine_log(*BY_THE_BOOK[:2], vote, *BY_THE_BOOK[2:]), SERVICE_REQUEST, states=ENGINE)
    assert (report.conforming, report.events, report.events_replayed) == (1, 5, 4)


def test_a_move_the_definition_does_not_allow_is_named_by_its_states():
    log = engine_log(*request("7", ("accept", "triage", 1, "bob"), ("resolve", "done", 2, "bob")))
    report = conform(log, SERVICE_REQUEST, states=ENGINE)
    assert report.case_ids(DeviationKind.DISALLOWED_TRANSITION, "triage -> done") == {"7"}


def test_a_running_case_is_open_where_it_is_and_not_closed_at_its_last_event():
    log = engine_log(*request("2", ("accept", "triage", 1, "bob"), ("assign", "in-progress", 2, "bob")))
    report = conform(log, SERVICE_REQUEST, states=ENGINE)
    assert (report.open_cases, report.open_states, report.conforming) == (1, {"in-progress": 1}, 1)
    # An exported log that never records Done is read as closed at its last event: the engine's never is.
    names_only = engine_log(*[(case, to_state.replace("-", " "), at, who, None, None)
                              for case, _, at, who, _, to_state in request("2", ("accept", "triage", 1, "bob"),
                                                                           ("assign", "in-progress", 2, "bob"))])
    assert conform(names_only, SERVICE_REQUEST).open_cases == 0


def test_open_cases_are_judged_at_the_moment_given_with_their_clocks_still_running():
    waiting_for_triage = request("3")
    in_progress_since_monday = request("4", ("accept", "triage", 1, "bob"), ("assign", "in-progress", 2, "bob"))
    log = engine_log(*waiting_for_triage, *in_progress_since_monday)
    # Monday 13:00 in Amsterdam: three business hours since intake, within the 4h first response.
    assert conform(log, SERVICE_REQUEST, states=ENGINE, as_of=hours(3)).deviations == []
    # Monday 15:00: case 3 has had no response for five business hours.
    report = conform(log, SERVICE_REQUEST, states=ENGINE, as_of=hours(5))
    assert [(d.kind, d.detail, d.case_ids) for d in report.deviations] == [
        (DeviationKind.SLA_FIRST_RESPONSE, "over 4h of business time, still open", ["3"])]
    # The next Monday: both are over the 3 business days of resolution, and still open.
    late = conform(log, SERVICE_REQUEST, states=ENGINE, as_of=hours(24 * 7))
    assert late.case_ids(DeviationKind.SLA_RESOLUTION, "over 3d of business time, still open") == {"3", "4"}
    # Without a moment, an open case is counted, not judged.
    assert conform(log, SERVICE_REQUEST, states=ENGINE).deviations == []


def test_time_waiting_on_the_requester_stops_an_open_cases_clock():
    log = engine_log(*request("5", ("accept", "triage", 1, "bob"),
                              ("raise needs_info", "waiting-on-requester", 2, "bob")))
    # A week waiting on the requester: two business hours of work, no breach.
    assert conform(log, SERVICE_REQUEST, states=ENGINE, as_of=hours(24 * 7)).deviations == []


def purchase(case: str, *, voter: str = "ivan", submitter: str = "bea") -> list[tuple]:
    return [(case, "new", hours(0), "ann", None, "new"),
            (case, "accept", hours(1), "bea", "new", "prepare"),
            (case, "submit", hours(2), submitter, "prepare", "approve"),
            (case, "approve vote", hours(3), "hana", None, None, "approve"),
            (case, "approve", hours(4), voter, "approve", "ordered")]


def test_separation_of_duties_is_judged_on_who_voted_not_on_who_submitted():
    # ann requested; bea prepared and submitted, entering the approval without approving anything.
    report = conform(engine_log(*purchase("1")), PURCHASE, states=ENGINE)
    assert report.deviations == [] and report.approvals_unjudged == 0


def test_separation_of_duties_names_a_vote_by_the_requester_or_by_who_prepared():
    report = conform(engine_log(*purchase("1", voter="ann"), *purchase("2", voter="bea"), *purchase("3")), PURCHASE,
                     states=ENGINE)
    assert report.case_ids(DeviationKind.SEPARATION_OF_DUTIES, "approve: approved by the requester") == {"1"}
    assert report.case_ids(DeviationKind.SEPARATION_OF_DUTIES, "approve: approved by whoever did prepare") == {"2"}
    assert report.conforming == 1


def test_a_skipped_approval_is_named_with_the_approval():
    rows = purchase("1")[:2] + [("1", "approve", hours(2), "bea", "prepare", "ordered")]
    report = conform(engine_log(*rows), PURCHASE, states=ENGINE)
    assert [(d.kind, d.detail) for d in report.deviations] == [
        (DeviationKind.SKIPPED_APPROVAL, "approve, on prepare -> ordered")]


def test_a_state_the_definition_lacks_is_named_and_the_case_is_open_there():
    log = engine_log(*request("6", ("accept", "triage", 1, "bob"), ("assign", "in-progress", 2, "bob"),
                              ("park", "on-hold", 3, "carl")))
    report = conform(log, SERVICE_REQUEST, states=ENGINE)
    assert [(d.kind, d.detail) for d in report.deviations] == [(DeviationKind.UNKNOWN_STATE, "on-hold")]
    assert (report.unknown_states, report.unmapped_activities, report.open_states) == (
        {"on-hold": 1}, {}, {"on-hold": 1})
    # Leaving it is not judged again: the definition says nothing of a state it lacks.
    back = conform(engine_log(*request("6", ("accept", "triage", 1, "bob"), ("park", "on-hold", 2, "carl"),
                                       ("resolve", "done", 3, "carl"))), SERVICE_REQUEST, states=ENGINE)
    assert [d.kind for d in back.deviations] == [DeviationKind.UNKNOWN_STATE] and back.open_cases == 0


def test_a_log_without_the_state_column_is_refused_by_name():
    names_only = EventLog.from_table(pa.table({"case_id": ["1"], "activity": ["New"],
                                               "timestamp": pa.array([T0], pa.timestamp("us", tz="UTC"))}),
                                     source="requests.csv")
    with pytest.raises(LogFileError, match=r"requests.csv: no 'to_state' column naming the state each event entered"):
        conform(names_only, SERVICE_REQUEST, states=ENGINE)
