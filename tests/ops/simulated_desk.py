"""A busy service desk for pictures and load: hundreds of service requests over weeks, from a seeded simulation.

Each request is worked through the engine (so every event, task, SLA pause and exception is the
engine's own): most are accepted within hours, some withdrawn, some wait on their requester or a
third party, most are resolved within days, and the latest stay open, some claimed by the people
working them. The same seed gives the same desk.

    simulate_desk(engine, cases=400, weeks=12, now=NOW)
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from backoffice.definitions import LIBRARY
from backoffice.engine import Actor, Engine
from backoffice.errors import BackofficeError

from ..directory_fixtures import ADMIN, SEEDED_AT

DESK = ("bob", "dora", "eve", "desk-dan")
RESOLVERS = ("carl", "rita", "sven", "priya", "tomasz", "ines")
CATEGORIES = ("it", "facilities", "finance", "hr")


def simulate_desk(engine: Engine, *, cases: int, weeks: int, now: datetime, seed_number: int = 7,
                  admin: str = ADMIN) -> None:
    """Deploy the service-request template and run `cases` requests that arrived over the `weeks` before `now`.

    The desk's people are added to the directory by `admin` (bootstrapped first when the directory is empty).
    """
    if engine.store.count_people() == 0:
        engine.bootstrap(admin, now=SEEDED_AT, name="Administrator")
    people = {"ann": (), **{name: ("service-desk",) for name in DESK}, **{name: ("resolver",) for name in RESOLVERS}}
    for person, roles in people.items():
        if engine.store.principal(person) is None:
            engine.add_person(person, name=person.replace("-", " ").title(), actor=admin, now=SEEDED_AT)
        for role in roles:
            engine.grant(role, to=person, actor=admin, now=SEEDED_AT)
    engine.deploy(LIBRARY / "service-request.yaml", actor=admin, now=now - timedelta(weeks=weeks + 1))
    rng = random.Random(seed_number)
    start = now - timedelta(weeks=weeks)
    arrivals = sorted(start + timedelta(seconds=rng.uniform(0, (now - start).total_seconds() - 3600))
                      for _ in range(cases))
    for arrival in arrivals:
        try:
            _work(engine, rng, arrival, now)
        except BackofficeError:
            continue  # a step the simulation drew that the definition refuses (rare): the case stays where it is


def _work(engine: Engine, rng: random.Random, moment: datetime, now: datetime) -> None:
    category = rng.choices(CATEGORIES, weights=(6, 2, 1, 1))[0]
    case = engine.start_case("service-request", {
        "summary": f"{category} request", "description": "-", "category": category,
        "urgency": rng.choice(("low", "normal", "normal", "high")), "requester_email": "ann@example.com"},
        actor=Actor("ann"), now=moment)
    desk = Actor(rng.choice(DESK), "service-desk")
    resolver = Actor(rng.choice(RESOLVERS), "resolver")

    def step(hours: float) -> datetime | None:
        nonlocal moment
        moment = moment + timedelta(hours=hours)
        return moment if moment < now else None

    def move(to: str, actor: Actor, hours: float, **data: str) -> bool:
        at = step(hours)
        if at is None:
            return False
        engine.transition(case.id, to, actor=actor, expected_version=engine.case(case.id).version, now=at,
                          data=data or None)
        return True

    if not move("triage", desk, rng.expovariate(1 / 2.5)):
        return
    if rng.random() < 0.08:
        move("cancelled", desk, rng.uniform(0.2, 4))
        return
    if rng.random() < 0.04:
        at = step(rng.uniform(0.2, 2))
        if at is not None:
            engine.raise_exception(case.id, rng.choice(("duplicate", "out_of_scope")), actor=desk, now=at)
        return
    if not move("in-progress", desk, rng.expovariate(1 / 3)):
        _claim_open(engine, rng, case.id, desk, now)
        return
    if rng.random() < 0.15:
        at = step(rng.uniform(0.5, 8))
        if at is None:
            return
        engine.raise_exception(case.id, "needs_info", actor=resolver, now=at)
        at = step(rng.expovariate(1 / 40))
        if at is None:
            return
        engine.resolve_exception(case.id, actor=Actor("ann"), now=at)
        if not move("in-progress", desk, rng.expovariate(1 / 2)):
            return
    if rng.random() < 0.1:
        at = step(rng.uniform(1, 10))
        if at is None:
            return
        engine.raise_exception(case.id, "third_party_delay", actor=resolver, now=at)
        at = step(rng.expovariate(1 / 60))
        if at is None:
            return
        engine.resolve_exception(case.id, actor=resolver, now=at)
    if not move("done", resolver, rng.lognormvariate(3.2, 0.9), resolution_note="Done"):
        _claim_open(engine, rng, case.id, resolver, now)


def _claim_open(engine: Engine, rng: random.Random, case_id: int, actor: Actor, now: datetime) -> None:
    """Most open work is in someone's hands: claim the case's open task just before `now`."""
    tasks = engine.tasks(case_id=case_id)
    if tasks and rng.random() < 0.7:
        engine.claim(tasks[-1].id, actor=actor, now=now - timedelta(minutes=rng.uniform(1, 25)))
