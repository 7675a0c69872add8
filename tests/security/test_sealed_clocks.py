"""A case's SLA clock edited or added in SQL is never run by: the engine holds it to the record that wrote it.

The `sla_clocks` row (business seconds a case's SLA stood still, and since when it stands) was not
held to the trail: a colleague with database access added a month of paused time to a late case
(`UPDATE sla_clocks SET paused_seconds = ...`), or moved the start of its pause back, and the next
move gave its tasks and timers due times a month later, written and sealed by the engine as if
right; the SLA reports counted the breach away. Now every change that writes the row gives it in its
record, and a case's first record says it has none, and the engine holds the row to the newest record
of its case that gives it before it runs the case's clock by it: refused (CaseAltered), nothing
written; `audit verify`, the case page's audit panel and an evidence pack's export name the row. From
the Python API, the command line, HTTP and the web app, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from backoffice.engine import Engine, verify
from backoffice.engine.evidence_pack import export_pack
from backoffice.engine.sealed_rows import SLA_CLOCK_ROW
from backoffice.errors import AuditTrailBroken, CaseAltered
from backoffice.store import SqlStore
from backoffice.store.tables import audit_records, sla_clocks, tasks, timers

from ..cli.test_task_commands import DESK, PAYLOAD, TEMPLATE, backoffice, database  # noqa: F401 (fixtures)
from ..directory_fixtures import Login
from ..engine.service_request import ANN, DESK as DESK_ACTOR, later, payload
from ..web.site import CLERK as WEB_CLERK, build_site
from ..web.test_front_door_http import GOOD
from .forged_rows import named_by_verify, sql

A_MONTH = 30 * 24 * 3600.0


@pytest.fixture
def deployed(engine: Engine) -> Engine:
    engine.deploy(TEMPLATE, actor="lead", now=later(0))
    return engine


@pytest.fixture
def site(database: str, tmp_path):  # noqa: F811
    """The API and web app over a fresh database, every person with a password (tests/web/site.py)."""
    yield from build_site(database, tmp_path)


def waiting_on_requester(engine: Engine) -> int:
    """A case in triage, sent back to its requester for more information: its SLA clock stands."""
    case = engine.start_case("service-request", payload(), actor=ANN, now=later(0))
    case = engine.transition(case.id, "triage", actor=DESK_ACTOR, expected_version=case.version, now=later(0))
    engine.raise_exception(case.id, "needs_info", actor=DESK_ACTOR, now=later(1))
    assert engine.store.paused_time(case.id).since == later(1)
    return case.id


def everything_written(store: SqlStore) -> tuple:
    """Every audit record, task, timer and clock row: a refused move changes none."""
    with store.engine.connect() as connection:
        return tuple(tuple(tuple(row) for row in connection.execute(sa.select(table).order_by(*table.primary_key)))
                     for table in (audit_records, tasks, timers, sla_clocks))


def refused_naming(engine: Engine, case_id: int, problem: str, act) -> None:
    before = everything_written(engine.store)
    with pytest.raises(CaseAltered) as refused:
        act()
    message = str(refused.value)
    assert message.startswith(f"case {case_id} has an SLA clock whose row (sla_clocks {case_id}) {problem}"), message
    assert "nothing was written" in message, message
    assert everything_written(engine.store) == before


def test_paused_time_added_in_sql_is_refused_and_moves_no_due_time(deployed):
    case_id = waiting_on_requester(deployed)
    sql(deployed.store, sa.update(sla_clocks).where(sla_clocks.c.case_id == case_id)
        .values(paused_seconds=A_MONTH))
    for engine in (deployed, Engine(deployed.store, audit_key=deployed.audit_key)):   # this process, and the next
        refused_naming(engine, case_id, "was changed in the database outside the engine: field paused_seconds "
                                        "changed", lambda: engine.resolve_exception(case_id, actor=ANN, now=later(2)))
    assert deployed.case(case_id).state == "waiting-on-requester"
    assert "field paused_seconds changed" in named_by_verify(deployed.store, "sla_clocks", case_id)


def test_a_pause_moved_back_in_sql_is_refused(deployed):
    case_id = waiting_on_requester(deployed)
    sql(deployed.store, sa.update(sla_clocks).where(sla_clocks.c.case_id == case_id)
        .values(paused_since=later(1) - timedelta(days=20)))
    refused_naming(deployed, case_id, "was changed in the database outside the engine: field paused_since changed",
                   lambda: deployed.resolve_exception(case_id, actor=ANN, now=later(2)))
    named_by_verify(deployed.store, "sla_clocks", case_id)


def test_a_clock_inserted_in_sql_for_a_case_that_never_paused_is_refused(deployed):
    case = deployed.start_case("service-request", payload(), actor=ANN, now=later(0))
    sql(deployed.store, sa.insert(sla_clocks).values(case_id=case.id, paused_seconds=A_MONTH, paused_since=None))
    refused_naming(deployed, case.id, f"was added to the database outside the engine: no audit record of case "
                                      f"{case.id} wrote it",
                   lambda: deployed.transition(case.id, "triage", actor=DESK_ACTOR, expected_version=case.version,
                                               now=later(0)))
    assert "was added to the database outside the engine" in named_by_verify(deployed.store, "sla_clocks", case.id)


def test_a_clock_put_back_as_written_runs_again(deployed):
    case_id = waiting_on_requester(deployed)
    with deployed.store.engine.connect() as connection:
        written = connection.execute(sa.select(sla_clocks.c.paused_seconds)
                                     .where(sla_clocks.c.case_id == case_id)).scalar_one()
    sql(deployed.store, sa.update(sla_clocks).where(sla_clocks.c.case_id == case_id).values(paused_seconds=A_MONTH))
    with pytest.raises(CaseAltered):
        deployed.resolve_exception(case_id, actor=ANN, now=later(2))
    sql(deployed.store, sa.update(sla_clocks).where(sla_clocks.c.case_id == case_id).values(paused_seconds=written))
    assert deployed.resolve_exception(case_id, actor=ANN, now=later(2)).state == "triage"
    assert deployed.store.paused_time(case_id).seconds > 0   # the hour waited, in business time
    assert verify(deployed.store).ok


def test_clocks_of_cases_from_before_clocks_were_listed_run_as_before(deployed, monkeypatch):
    # An engine from before this revision: its records gave no clock row, so nothing vouches for the row.
    from backoffice.store.sql_store import SqlTransaction
    with monkeypatch.context() as before_listing:
        before_listing.setattr(SqlTransaction, "clock_listing", lambda self, case_id: {})
        case_id = waiting_on_requester(deployed)
    assert deployed.resolve_exception(case_id, actor=ANN, now=later(2)).state == "triage"
    assert verify(deployed.store).ok


def test_paused_time_added_in_sql_is_refused_on_the_command_line(database, backoffice):  # noqa: F811
    assert backoffice("deploy", str(TEMPLATE), Login("lead"))[0] == 0
    assert backoffice("case", "start", "service-request", "--data", json.dumps(PAYLOAD), Login("ann"))[0] == 0
    assert backoffice("case", "transition", "1", "triage", "--expected-version", "1", *DESK)[0] == 0
    assert backoffice("exception", "raise", "1", "needs_info", "--note", "which printer?", *DESK)[0] == 0
    with SqlStore.open(database) as store:
        sql(store, sa.update(sla_clocks).where(sla_clocks.c.case_id == 1).values(paused_seconds=A_MONTH))
        before = everything_written(store)[1:]
    status, out, err = backoffice("exception", "resolve", "1", Login("ann"))
    assert status == 1, (out, err)
    assert "case 1 has an SLA clock whose row (sla_clocks 1) was changed in the database outside the engine: " \
           "field paused_seconds changed" in err, err
    assert "Traceback" not in err
    with SqlStore.open(database) as store:
        assert everything_written(store)[1:] == before   # no task, timer or clock written (the login made a record)
    status, out, err = backoffice("audit", "verify")
    assert status != 0 and "sla_clocks row 1 of case 1" in out + err, (out, err)


def test_a_branch_clock_edited_in_sql_is_refused_when_the_parent_clock_is_settled(engine):
    # A branch is a case of its own, with a clock of its own, started inside its parent's change: its first record
    # says it has none, and the parent's clock, which stops when every open branch waits, reads it.
    from ..engine.nested_parallel import BUYER, CLERK, LEGAL, branch, deploy, later as at, move, started
    deploy(engine)
    case_id = started(engine)
    quote, docs = branch(engine, case_id, "buy", "quote"), branch(engine, case_id, "docs")
    [first] = [record for record in engine.store.audit_records(limit=10_000) if record.case_id == docs][:1]
    assert json.loads(first.detail)[SLA_CLOCK_ROW] is None
    move(engine, branch(engine, case_id, "buy", "budget"), "purchase", BUYER, at(1))
    move(engine, branch(engine, case_id, "buy", "legal"), "purchase", LEGAL, at(1.5))
    move(engine, quote, "waiting-on-supplier", BUYER, at(2))
    buy = branch(engine, case_id, "buy")
    assert engine.store.paused_time(buy).since == at(2)
    sql(engine.store, sa.update(sla_clocks).where(sla_clocks.c.case_id == buy).values(paused_since=None))
    refused_naming(engine, buy, "was changed in the database outside the engine: field paused_since cleared",
                   lambda: move(engine, docs, "waiting-on-requester", CLERK, at(3)))
    named_by_verify(engine.store, "sla_clocks", buy)


def test_a_clock_inserted_in_sql_is_refused_over_http(api):
    from ..api.live_server import move, start
    case = start(api)                                                  # alice's purchase, in its intake state
    sql(api.engine.store, sa.insert(sla_clocks).values(case_id=case["id"], paused_seconds=A_MONTH, paused_since=None))
    before = everything_written(api.engine.store)
    answer = move(api, "alice", case, "prepare")
    assert answer.status_code == 409, answer.text
    assert f"has an SLA clock whose row (sla_clocks {case['id']}) was added to the database outside the engine" \
        in answer.json()["detail"], answer.text
    assert everything_written(api.engine.store) == before
    assert api.engine.case(case["id"]).state == case["state"]


# --- where a person reads the clock: the case page and the evidence pack hold it as `audit verify` does ---

def test_a_clock_edited_in_sql_is_named_on_the_case_page(site):
    # The case page shows the paused time the row holds; before, its audit panel said "Verified" over a forged one.
    case_id = int(site.start("alice", "supply-request", GOOD).headers["location"].rsplit("/", 1)[1])
    site.engine.raise_exception(case_id, "needs_info", actor=WEB_CLERK, now=site.clock.now, note="Which toner?")
    alice = site.client("alice")
    page = alice.get(f"/cases/{case_id}").text
    assert '<span class="badge good">Verified</span>' in page and "Not as the audit trail gives it" not in page
    sql(site.engine.store, sa.update(sla_clocks).where(sla_clocks.c.case_id == case_id).values(paused_seconds=A_MONTH))
    page = alice.get(f"/cases/{case_id}").text
    assert '<span class="badge good">Verified</span>' not in page
    assert "Not as the audit trail gives it: sla_clocks row" in page, page    # beside the clock, not only below
    assert (f"The audit chain of this request is broken: sla_clocks row {case_id} of case {case_id} was changed in "
            f"the database outside the engine: field paused_seconds changed") in page, page


def test_an_evidence_pack_is_not_exported_over_a_clock_edited_in_sql(deployed):
    case_id = waiting_on_requester(deployed)
    assert export_pack(deployed.store, case_id, now=later(2))["case_id"] == case_id
    sql(deployed.store, sa.update(sla_clocks).where(sla_clocks.c.case_id == case_id).values(paused_seconds=A_MONTH))
    with pytest.raises(AuditTrailBroken) as refused:
        export_pack(deployed.store, case_id, now=later(3))
    assert f"sla_clocks row {case_id} of case {case_id} was changed in the database outside the engine" \
        in str(refused.value), str(refused.value)
