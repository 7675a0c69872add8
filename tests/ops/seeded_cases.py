"""A small, hand-checkable set of service requests, worked through the engine over three weeks of March 2024.

The service-request template counts business time 08:30-17:30 Amsterdam (07:30-16:30 UTC in
March), Monday to Friday; its SLAs are a 4h first response and a 3d (27 working hours)
resolution, paused in waiting-on-requester and blocked. Every figure the dashboard tests
expect is worked out beside the case that makes it.

    A  Mon 4 Mar 09:00 new; triage 10:00 (responded in 1h: met); in progress 11:00;
       done Tue 5 Mar 09:00 (7.5h + 1.5h = 9h: met).                        week 0
    B  Mon 4 Mar 10:00 new; triage Tue 5 Mar 10:00 (6.5h + 2.5h = 9h: first response missed, week 0);
       in progress 11:00; needs_info raised 12:00 (waiting-on-requester, paused) and resolved
       Mon 11 Mar 12:00 (paused 4.5h + 3 x 9h + 4.5h = 36h), back in triage; in progress 14:00;
       done Tue 12 Mar 10:00: 6.5h + 4 x 9h + 9h + 2.5h = 54h, less 36h paused = 18h: met.   week 1
    C  Wed 6 Mar 09:00 new; triage 09:30 (met, week 0); in progress 10:00;
       done Mon 11 Mar 15:00: 7.5h + 9h + 9h + 7.5h = 33h: missed.          week 1
    D  Tue 12 Mar 09:00 new; triage 10:00 (met, week 1); withdrawn 13:00 (cancelled: 4h, met). week 1
    E  Mon 18 Mar 09:00 new, still there: no response yet.
    F  Tue 19 Mar 09:00 new; triage 10:00 (met, week 2); in progress 12:00;
       third_party_delay raised 13:00 (blocked), still open; Carl claims its task Wed 20 Mar 11:45
       (a 30-minute lease: his until 12:15).
    G  Wed 13 Mar 09:00 new; triage 09:30 (met, week 1); needs_info raised 10:30, still open:
       its task is Ann's (the requester's), due Mon 18 Mar, so overdue.

The dashboard is read as of NOW, Wed 20 Mar 12:00 UTC, over the three weeks from Mon 4 Mar.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from backoffice.definitions import LIBRARY
from backoffice.engine import Actor, Engine
from backoffice.store.tables import events

from ..directory_fixtures import seed

NOW = datetime(2024, 3, 20, 12, 0, tzinfo=timezone.utc)
WEEKS = [datetime(2024, 3, day, tzinfo=timezone.utc) for day in (4, 11, 18)]
DESK, RESOLVER, LEAD = Actor("bob", "service-desk"), Actor("carl", "resolver"), Actor("lead", "service-desk")
ANN = Actor("ann")


def at(day: int, hour: float) -> datetime:
    """Return a moment in March 2024, UTC."""
    return datetime(2024, 3, day, tzinfo=timezone.utc) + timedelta(hours=hour)


def seed_cases(engine: Engine, *, deployer: str = "lead") -> dict[str, int]:
    """Deploy the service-request template and work the cases above; return each letter's case id.

    The directory must hold bob (service-desk), carl (resolver) and ann, and the deployer; an
    empty one gets the suite's cast (tests/directory_fixtures.py).
    """
    if engine.store.count_people() == 0:
        seed(engine)
    engine.deploy(LIBRARY / "service-request.yaml", actor=deployer, now=at(1, 9))
    ids: dict[str, int] = {}

    def start(letter: str, day: int, hour: float) -> int:
        case = engine.start_case("service-request", {
            "summary": f"Request {letter}", "description": "-", "category": "it", "urgency": "normal",
            "requester_email": "ann@example.com"}, actor=ANN, now=at(day, hour))
        ids[letter] = case.id
        return case.id

    def move(case_id: int, to: str, actor: Actor, moment: datetime, **data: str) -> None:
        engine.transition(case_id, to, actor=actor, expected_version=engine.case(case_id).version, now=moment,
                          data=data or None)

    a = start("A", 4, 9)
    move(a, "triage", DESK, at(4, 10))
    move(a, "in-progress", DESK, at(4, 11))
    move(a, "done", RESOLVER, at(5, 9), resolution_note="Fixed")

    b = start("B", 4, 10)
    move(b, "triage", DESK, at(5, 10))
    move(b, "in-progress", DESK, at(5, 11))
    engine.raise_exception(b, "needs_info", actor=RESOLVER, now=at(5, 12))
    engine.resolve_exception(b, actor=ANN, now=at(11, 12))
    move(b, "in-progress", DESK, at(11, 14))
    move(b, "done", RESOLVER, at(12, 10), resolution_note="Fixed")

    c = start("C", 6, 9)
    move(c, "triage", DESK, at(6, 9.5))
    move(c, "in-progress", DESK, at(6, 10))
    move(c, "done", RESOLVER, at(11, 15), resolution_note="Fixed")

    d = start("D", 12, 9)
    move(d, "triage", DESK, at(12, 10))
    move(d, "cancelled", DESK, at(12, 13))

    start("E", 18, 9)

    f = start("F", 19, 9)
    move(f, "triage", DESK, at(19, 10))
    move(f, "in-progress", DESK, at(19, 12))
    engine.raise_exception(f, "third_party_delay", actor=RESOLVER, now=at(19, 13))

    # Carl works F's blocked exception: a claim of 30 minutes, live at NOW.
    engine.claim(engine.tasks(case_id=f)[-1].id, actor=RESOLVER, now=at(20, 11.75))

    g = start("G", 13, 9)
    move(g, "triage", DESK, at(13, 9.5))
    engine.raise_exception(g, "needs_info", actor=DESK, now=at(13, 10.5))
    return ids


def forge_move(store, case_id: int, *, activity: str, from_state: str, to_state: str, moment) -> None:
    """Write a move the engine would refuse, as an import from another system or a hand edit of the table would."""
    with store.engine.begin() as connection:
        connection.execute(sa.insert(events).values(
            case_id=case_id, activity=activity, timestamp=moment, resource="mallory", role="service-desk",
            system="backoffice", lifecycle="complete", reason=None, workflow="service-request", version=1,
            attributes={"from_state": from_state, "to_state": to_state, "case_version": 9}))
