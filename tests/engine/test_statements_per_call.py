"""How many SQL statements each engine call of a queue-style case sends: a bound per call, so an N+1 cannot come back.

Issue 12's speed target is CPU per case, and most of it was statements: a queue-style case (start,
route to a queue, claim the next task, complete it) went from 64 statements to 35. These tests count
what the engine sends for each of the four calls with SQLAlchemy's `before_cursor_execute` event
(precompiled statements included, see store.precompiled), and hold each call to its bound. BEGIN is
not among them: on SQLite the dialect sends it (store.connect), as psycopg begins alone on PostgreSQL. The counts do not grow with the cases or tasks already in the database: the test runs
several cases, and counts the last.
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from backoffice.engine import Actor, Engine

from .service_request import ANN, DESK, later, payload

# The most statements each call may send: one above what it sends today with the service-request
# template (its timers, duplicate rule and SLA add to the benchmark approval process's 7, 10, 7, 11).
# PostgreSQL counts one fewer: a record's insert and its chain head's move are one statement there.
BOUNDS = {"sqlite": {"start_case": 11, "transition": 11, "next_task": 7, "complete": 12},
          "postgresql": {"start_case": 10, "transition": 10, "next_task": 6, "complete": 11}}
DORA = Actor("dora", "service-desk")


@contextmanager
def counting(engine: Engine):
    sent: list[str] = []

    def statement(conn, cursor, text, parameters, context, executemany) -> None:
        sent.append(text)

    sa.event.listen(engine.store.engine, "before_cursor_execute", statement)
    try:
        yield sent
    finally:
        sa.event.remove(engine.store.engine, "before_cursor_execute", statement)


def test_each_call_of_a_queue_style_case_stays_within_its_statements(deployed: Engine):
    counts: dict[str, int] = {}
    for number in range(3):
        with counting(deployed) as sent:
            case = deployed.start_case("service-request", payload(summary=f"case {number}"), actor=ANN, now=later(0))
        counts["start_case"] = len(sent)
        with counting(deployed) as sent:
            case = deployed.transition(case.id, "triage", actor=DESK, expected_version=case.version, now=later(0))
        counts["transition"] = len(sent)
        with counting(deployed) as sent:
            task = deployed.next_task("service-desk", actor=DORA, now=later(1))
        counts["next_task"] = len(sent)
        assert task is not None and task.case_id == case.id
        with counting(deployed) as sent:
            deployed.complete(task.id, actor=DORA, now=later(1), to="in-progress")
        counts["complete"] = len(sent)
        assert deployed.case(case.id).state == "in-progress"
    bounds = BOUNDS[deployed.store.engine.dialect.name]
    over = {call: (count, bounds[call]) for call, count in counts.items() if count > bounds[call]}
    assert not over, f"statements (sent, bound) over the bound: {over}"
