"""A timer row edited or added in SQL is never fired: the engine holds it to the record of the change that wrote it.

The `timers` table was not held to the trail: a colleague with database access moved a
reminder's due time back (`UPDATE timers SET due_at = ...`) and `tick` sent it at once, made a
reminder an escalation (the case and its tasks raised a priority), pointed a timer at another case
(an escalation of a case nobody was late on), or inserted a timer of his own. Now every change
that writes a timer (a start, a move, a pause, a migration, a firing) lists it in its record, and
the engine holds the timer to the newest record of its case that lists it before it fires it:
refused (CaseAltered), nothing written, the timer left pending; the other timers of the tick fire,
and `audit verify` names the timer. From the Python API and the command line (`backoffice worker
--once`), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from backoffice.definitions.model import Priority, TimerKind
from backoffice.engine import Engine
from backoffice.engine.evidence_pack import export_pack
from backoffice.engine.timers import TimerStatus
from backoffice.errors import AuditTrailBroken, CaseAltered
from backoffice.services.case_view import case_audit
from backoffice.store import SqlStore
from backoffice.store.tables import audit_records, outbox, timers

from ..cli.test_engine_commands import PAYLOAD, TEMPLATE, backoffice, database  # noqa: F401 (fixtures)
from ..directory_fixtures import WORKER_ACCOUNT, Login
from ..engine.service_request import ANN, T0, payload
from ..engine.test_timers import FIRST_RESPONSE_DUE, LATE_DUE
from .forged_rows import named_by_verify, sql


@pytest.fixture
def deployed(engine: Engine) -> Engine:
    engine.deploy(TEMPLATE, actor="lead", now=T0)
    return engine


def timer_named(engine: Engine, case_id: int, name: str):
    [timer] = [timer for timer in engine.timers(case_id) if timer.name == name]
    return timer


def everything_written(store: SqlStore) -> tuple[int, ...]:
    """How many audit records and outbox entries there are, and every timer row: a refused firing changes none."""
    with store.engine.connect() as connection:
        counts = tuple(connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                       for table in (audit_records, outbox))
        return counts + tuple(tuple(row) for row in connection.execute(sa.select(timers).order_by(timers.c.id)))


def refused_naming(engine: Engine, timer_id: int, case_id: int, problem: str, *, now: datetime) -> None:
    """Fire the timers due by `now`: the forged one is refused (CaseAltered naming it) and nothing is written."""
    before = everything_written(engine.store)
    assert [fired.timer.id for fired in engine.fire_timers(now)] == []
    assert everything_written(engine.store) == before
    with pytest.raises(CaseAltered) as refused:
        engine._fire(engine.store.timer_as_written(timer_id)[0], now)
    message = str(refused.value)
    assert message.startswith(f"case {case_id} has a timer whose row (timers {timer_id}) {problem}"), message
    assert "nothing was written" in message and "audit verify" in message, message
    assert everything_written(engine.store) == before


def test_a_due_time_moved_back_in_sql_fires_nothing(deployed):
    case = deployed.start_case("service-request", payload(), actor=ANN, now=T0)
    late = timer_named(deployed, case.id, "late")
    sql(deployed.store, sa.update(timers).where(timers.c.id == late.id).values(due_at=T0))
    for engine in (deployed, Engine(deployed.store, audit_key=deployed.audit_key)):   # this process, and the next
        refused_naming(engine, late.id, case.id, "was changed in the database outside the engine: field due_at "
                                                 "changed", now=T0 + timedelta(minutes=1))
    assert deployed.case(case.id).priority is Priority.NORMAL
    assert timer_named(deployed, case.id, "late").status is TimerStatus.PENDING
    assert "field due_at changed" in named_by_verify(deployed.store, "timers", late.id)


def test_a_reminder_made_an_escalation_in_sql_raises_no_priority(deployed):
    case = deployed.start_case("service-request", payload(), actor=ANN, now=T0)
    first = timer_named(deployed, case.id, "first response due soon")
    assert first.kind is TimerKind.REMINDER
    sql(deployed.store, sa.update(timers).where(timers.c.id == first.id).values(kind=str(TimerKind.ESCALATION)))
    refused_naming(deployed, first.id, case.id, "was changed in the database outside the engine: field kind changed",
                   now=FIRST_RESPONSE_DUE)
    assert deployed.case(case.id).priority is Priority.NORMAL
    named_by_verify(deployed.store, "timers", first.id)


def test_a_timer_moved_in_sql_to_another_case_or_timer_is_refused_and_the_others_fire(deployed):
    other = deployed.start_case("service-request", payload(summary="Other"), actor=ANN, now=T0)
    quiet = deployed.start_case("service-request", payload(), actor=ANN, now=T0 + timedelta(hours=1))
    moved = timer_named(deployed, other.id, "first response due soon")   # due at 12:00, quiet's at 13:00
    sql(deployed.store, sa.update(timers).where(timers.c.id == moved.id).values(case_id=quiet.id))
    refused_naming(deployed, moved.id, quiet.id, "was added to the database outside the engine: no audit record of "
                                                 f"case {quiet.id} wrote it", now=FIRST_RESPONSE_DUE)
    named_by_verify(deployed.store, "timers", moved.id)
    sql(deployed.store, sa.update(timers).where(timers.c.id == moved.id).values(case_id=other.id))
    # The definition's place of another timer (another kind, another target): the same.
    first = timer_named(deployed, quiet.id, "first response due soon")
    late = timer_named(deployed, quiet.id, "late")
    sql(deployed.store, sa.update(timers).where(timers.c.id == first.id).values(timer=late.timer))
    due = {timer.id for case in (other, quiet) for timer in deployed.timers(case.id)
           if timer.status is TimerStatus.PENDING and timer.due_at <= LATE_DUE}
    fired = {f.timer.id for f in deployed.fire_timers(LATE_DUE)}   # the tick goes on with every other timer
    assert fired == due - {first.id} and first.id in due
    assert deployed.case(other.id).priority is Priority.HIGH and deployed.case(quiet.id).priority is Priority.NORMAL
    assert timer_named(deployed, quiet.id, "first response due soon").status is TimerStatus.PENDING
    with pytest.raises(CaseAltered, match=f"timers {first.id}.*field timer changed"):
        deployed._fire(deployed.store.timer_as_written(first.id)[0], LATE_DUE)


def test_a_timer_inserted_in_sql_fires_nothing(deployed):
    case = deployed.start_case("service-request", payload(), actor=ANN, now=T0)
    late = timer_named(deployed, case.id, "late")
    forged = sql(deployed.store, sa.insert(timers).values(
        case_id=case.id, workflow="service-request", timer=late.timer, name="late", kind=str(TimerKind.ESCALATION),
        clock="resolution", status="pending", due_at=T0, created_at=T0))
    refused_naming(deployed, forged, case.id, "was added to the database outside the engine: no audit record of "
                                              f"case {case.id} wrote it", now=T0 + timedelta(minutes=1))
    assert deployed.case(case.id).priority is Priority.NORMAL
    named_by_verify(deployed.store, "timers", forged)


def test_timers_inserted_in_sql_by_the_batch_do_not_hold_back_the_real_ones(deployed):
    # More forged timers due early than a tick fires: refused ones are stepped over, not counted, so the real
    # timers behind them still fire in this tick.
    case = deployed.start_case("service-request", payload(), actor=ANN, now=T0)
    late = timer_named(deployed, case.id, "late")
    forged = {sql(deployed.store, sa.insert(timers).values(
        case_id=case.id, workflow="service-request", timer=late.timer, name="late", kind=str(TimerKind.REMINDER),
        clock="resolution", status="pending", due_at=T0, created_at=T0)) for _ in range(12)}
    real = {timer.id for timer in deployed.timers(case.id)
            if timer.status is TimerStatus.PENDING and timer.due_at <= LATE_DUE} - forged
    refused: list[CaseAltered] = []
    fired = deployed.fire_timers(LATE_DUE, limit=5, refused=refused)
    assert {f.timer.id for f in fired} == real and real
    assert len(refused) == len(forged)
    assert {timer.id for timer in deployed.timers(case.id) if timer.status is TimerStatus.PENDING} >= forged
    # The limit still holds on what fires (two a tick here, the earliest first), and a tick reads a bounded
    # number of pages: with one timer a page, the twelve forged rows due first leave it nothing to fire.
    other = deployed.start_case("service-request", payload(summary="Other"), actor=ANN, now=T0)
    assert deployed.fire_timers(LATE_DUE, limit=1) == []
    earliest = sorted((timer.due_at, timer.id) for timer in deployed.timers(other.id))[:2]
    assert [(f.timer.due_at, f.timer.id) for f in deployed.fire_timers(LATE_DUE, limit=2)] == earliest


def test_timers_written_through_the_engine_fire_as_ever_and_verify(deployed):
    case = deployed.start_case("service-request", payload(), actor=ANN, now=T0)
    case = deployed.transition(case.id, "triage", actor="bob", expected_version=case.version, now=T0)
    fired = deployed.fire_timers(LATE_DUE)
    assert {f.timer.name for f in fired} == {"halfway", "nearly late", "late"}   # first response: over, answered
    assert deployed.case(case.id).priority is Priority.HIGH
    from backoffice.engine import verify
    assert verify(deployed.store).ok


def test_a_due_time_moved_back_in_sql_is_not_fired_by_the_worker_on_the_command_line(database, backoffice):  # noqa: F811
    assert backoffice("deploy", str(TEMPLATE), Login("lead"))[0] == 0
    assert backoffice("case", "start", "service-request", "--data", json.dumps(PAYLOAD), Login("ann"))[0] == 0
    with SqlStore.open(database) as store:
        late = next(timer for timer in store.timers(1) if timer.name == "late")
        sql(store, sa.update(timers).where(timers.c.id == late.id).values(due_at=datetime(2000, 1, 1,
                                                                                          tzinfo=timezone.utc)))
        before = everything_written(store)
    status, out, err = backoffice("worker", "--once", Login(WORKER_ACCOUNT))
    assert status == 0, (out, err)
    assert "fired" not in out, out
    assert f"a timer was not fired: case 1 has a timer whose row (timers {late.id}) was changed" in err, err
    assert "Traceback" not in err
    with SqlStore.open(database) as store:
        assert everything_written(store)[1:] == before[1:]   # no entry, no timer settled (the login made a record)
        assert next(timer for timer in store.timers(1) if timer.id == late.id).status is TimerStatus.PENDING



def test_timers_scheduled_before_timers_were_listed_fire_as_before(deployed, monkeypatch):
    # An engine from before this revision: it wrote timers and listed none in its records.
    from backoffice.store.sql_store import SqlTransaction
    with monkeypatch.context() as before_listing:
        before_listing.setattr(SqlTransaction, "written_timers", lambda self, case_id: [])
        older = deployed.start_case("service-request", payload(), actor=ANN, now=T0)
    # The first tick after the upgrade fires one of them: its record lists it, fired (not scheduled there).
    [first] = deployed.fire_timers(FIRST_RESPONSE_DUE)
    assert first.timer.case_id == older.id
    newer = deployed.start_case("service-request", payload(), actor=ANN, now=T0)
    # Nothing vouches for the older case's other timers, as for rows from before binding: they fire as ever, and
    # one inserted in SQL now (above the first timer a record schedules) does not.
    late = timer_named(deployed, newer.id, "late")
    forged = sql(deployed.store, sa.insert(timers).values(
        case_id=older.id, workflow="service-request", timer=late.timer, name="late", kind=str(TimerKind.ESCALATION),
        clock="resolution", status="pending", due_at=T0, created_at=T0))
    fired = {f.timer.id for f in deployed.fire_timers(LATE_DUE)}
    assert fired == {timer.id for case in (older, newer) for timer in deployed.timers(case.id)} - {forged, first.timer.id}
    assert "was added to the database outside the engine" in named_by_verify(deployed.store, "timers", forged)


def test_a_timer_moved_in_sql_is_named_by_the_case_audit_the_case_page_and_evidence_pack_read(deployed):
    # `audit verify` named such a timer, but the check of one case (the case page's audit panel, an evidence pack)
    # passed over pending timers: a pack was signed and exported over a timer the engine refuses to fire.
    case = deployed.start_case("service-request", payload(), actor=ANN, now=T0)
    late = timer_named(deployed, case.id, "late")
    assert case_audit(deployed, case.id).ok
    sql(deployed.store, sa.update(timers).where(timers.c.id == late.id).values(due_at=T0))
    problems = case_audit(deployed, case.id).problems
    assert problems and problems[0].startswith(f"timers row {late.id} of case {case.id} was changed in the database "
                                               "outside the engine: field due_at changed"), problems
    with pytest.raises(AuditTrailBroken, match=f"timers row {late.id} of case {case.id} was changed"):
        export_pack(deployed.store, case.id, now=T0 + timedelta(minutes=1))
