"""The SLA clock of a case waiting for its branches: it stands still while every open branch does, and says why.

The rule (engine/sla.py): a case waiting in a parallel state owes its work while any branch is
worked on; when every branch still open waits in a `pause_in` state (or waits for branches of
its own that all do), the case's clock stops, and each stop and restart is audited on it.
"""

from __future__ import annotations

import json

from backoffice.engine import verify
from backoffice.engine.sla import resolution_due
from backoffice.engine.timers import TimerClock

from ..directory_fixtures import seed
from .nested_parallel import BUYER, CLERK, DEFINITION, LEGAL, PEOPLE, T0, branch, deploy, later, move, started


def clock_records(engine, case_id):
    return [(record.action, json.loads(record.detail)) for record in engine.store.audit_records(limit=10_000)
            if record.case_id == case_id and record.action.startswith("sla.")]


def late_timer(engine, case_id):
    [timer] = [t for t in engine.store.timers(case_id) if t.clock is TimerClock.RESOLUTION]
    return timer


def test_the_case_clock_runs_while_one_branch_is_worked_on_and_stops_when_every_open_branch_waits(engine):
    deploy(engine)
    case_id = started(engine)
    buy, docs = branch(engine, case_id, "buy"), branch(engine, case_id, "docs")
    quote = branch(engine, case_id, "buy", "quote")
    move(engine, branch(engine, case_id, "buy", "budget"), "purchase", BUYER, later(1))
    move(engine, branch(engine, case_id, "buy", "legal"), "purchase", LEGAL, later(1.5))
    # The quote waits on the supplier: the buying branch owes nothing now, the documents are still written.
    move(engine, quote, "waiting-on-supplier", BUYER, later(2))
    assert engine.store.paused_time(buy).since == later(2)
    assert engine.store.paused_time(case_id).since is None
    assert late_timer(engine, case_id).due_at is not None
    # The documents wait on the requester as well: nothing is owed, the case's clock stops.
    move(engine, docs, "waiting-on-requester", CLERK, later(3))
    assert engine.store.paused_time(case_id).since == later(3)
    assert late_timer(engine, case_id).due_at is None  # no escalation falls due while the clock stands
    [(action, detail)] = clock_records(engine, case_id)
    assert action == "sla.paused"
    assert detail["branches"] == {"buy": "purchase", "docs": "waiting-on-requester"}
    assert "every open branch waits" in detail["reason"] and "docs in 'waiting-on-requester'" in detail["reason"]

    # The supplier answers two hours later: the case owes work again, and is due two business hours later.
    move(engine, quote, "get-quote", BUYER, later(5))
    paused = engine.store.paused_time(case_id)
    assert paused.since is None and paused.seconds == 2 * 3600
    case = engine.case(case_id)
    definition = engine.running(case.workflow, case.definition_version).definition
    due = resolution_due(definition, case, paused)
    assert late_timer(engine, case_id).due_at == due
    assert due == definition.business_calendar().add_business_time(
        case.created_at, definition.business_calendar().business_seconds(definition.sla.resolution) + 7200)
    actions = [action for action, _ in clock_records(engine, case_id)]
    assert actions == ["sla.paused", "sla.resumed"]
    assert clock_records(engine, case_id)[1][1]["branches"] == {"buy": None}
    report = verify(engine.store)
    assert report.ok, str(report)


def test_a_branch_done_leaves_the_clock_to_the_branches_still_open(engine):
    deploy(engine)
    case_id = started(engine)
    docs = branch(engine, case_id, "docs")
    move(engine, docs, "waiting-on-requester", CLERK, later(1))
    assert engine.store.paused_time(case_id).since is None  # the buying branch is worked on
    # The buying branch finishes: only the waiting documents are left open, so nothing is owed.
    move(engine, branch(engine, case_id, "buy", "budget"), "purchase", BUYER, later(2))
    move(engine, branch(engine, case_id, "buy", "legal"), "purchase", LEGAL, later(2))
    move(engine, branch(engine, case_id, "buy", "quote"), "purchase", BUYER, later(2), quote="Q-1")
    move(engine, branch(engine, case_id, "buy"), "project-work", BUYER, later(3), order_no="PO-9")
    assert engine.store.paused_time(case_id).since == later(3)
    # The join runs the clock again, and says so, before the case moves on.
    move(engine, docs, "write-docs", CLERK, later(4))
    move(engine, docs, "project-work", CLERK, later(4.5), docs="handbook")
    case = engine.case(case_id)
    assert case.state == "close-project"
    assert engine.store.paused_time(case_id).since is None
    assert engine.store.paused_time(case_id).seconds == 3600  # from 3h to 4h: the documents' wait
    assert [action for action, _ in clock_records(engine, case_id)] == ["sla.paused", "sla.resumed"]
    report = verify(engine.store)
    assert report.ok, str(report)


def test_every_branch_starting_by_waiting_stops_the_clock_when_the_case_enters_the_parallel_state(engine, tmp_path):
    path = tmp_path / "nested-parallel.yaml"
    path.write_text(DEFINITION.read_text().replace("docs: write-docs", "docs: waiting-on-requester")
                    .replace("quote: get-quote", "quote: waiting-on-supplier")
                    .replace("budget: check-budget", "budget: waiting-on-supplier")
                    .replace("legal: legal-review", "legal: waiting-on-supplier")
                    .replace("  - {from: received, to: project-work}\n",
                             "  - {from: received, to: project-work}\n"
                             "  - {from: waiting-on-supplier, to: check-budget, roles: [buyer]}\n"
                             "  - {from: waiting-on-supplier, to: legal-review, roles: [buyer]}\n"))
    seed(engine, PEOPLE)
    engine.deploy(path, actor="lea", now=T0)
    case_id = started(engine)
    assert engine.store.paused_time(branch(engine, case_id, "buy")).since == later(0.1)
    assert engine.store.paused_time(case_id).since == later(0.1)
    [(action, detail)] = clock_records(engine, case_id)
    assert action == "sla.paused" and set(detail["branches"]) == {"buy", "docs"}
