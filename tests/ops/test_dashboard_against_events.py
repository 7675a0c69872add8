"""The read models on a simulated desk agree with the same figures counted in Python from the engine's own events."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta

from backoffice.engine import Engine
from backoffice.ops.flow import throughput, time_in_state
from backoffice.ops.scope import Scope, Window
from backoffice.ops.workload import backlog

from .seeded_cases import NOW
from .simulated_desk import simulate_desk

ENDS = {"done", "cancelled"}


def nearest_rank(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[-(-int(share * 10) * len(ordered) // 10) - 1]


def test_throughput_time_in_state_and_backlog_match_a_count_of_the_events(store):
    engine = Engine(store)
    simulate_desk(engine, cases=30, weeks=4, now=NOW)
    window = Window.last_weeks(NOW, 3)
    scope = Scope.of(store, "service-request", window)
    with store.engine.connect() as connection:
        flows, times = throughput(connection, scope), time_in_state(connection, scope)
        standing = backlog(connection, scope)
    cases = engine.cases(workflow="service-request", limit=1000)
    started, ended, stays = Counter(), Counter(), defaultdict(list)
    for case in cases:
        if window.start <= case.created_at <= NOW:
            started[(case.created_at - window.start) // timedelta(weeks=1)] += 1
        moves = [e for e in engine.history(case.id) if window.start <= e.timestamp <= NOW
                 and e.attributes.get("to_state") and e.attributes.get("from_state") != e.attributes["to_state"]]
        for event in moves:
            if event.attributes["to_state"] in ENDS:
                ended[(event.timestamp - window.start) // timedelta(weeks=1)] += 1
        for entered, left in zip(moves, moves[1:]):
            if entered.attributes["to_state"] not in ENDS:
                stays[entered.attributes["to_state"]].append((left.timestamp - entered.timestamp).total_seconds())
    assert [(w.started, w.completed) for w in flows] == [(started[k], ended[k]) for k in range(3)]
    assert sum(w.started for w in flows) > 10 and sum(w.completed for w in flows) > 10  # a real sample
    assert len(times) >= 3
    assert {t.state: (t.stays, t.median_seconds, t.p90_seconds) for t in times} == {
        state: (len(values), round(nearest_rank(values, 0.5)), round(nearest_rank(values, 0.9)))
        for state, values in stays.items()}
    open_cases = Counter(case.state for case in cases if case.state not in ENDS)
    assert standing.by_state() == dict(open_cases)
