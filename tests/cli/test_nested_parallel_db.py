"""`map --db` and `conform --db` read nested parallel work: each branch at each level a trace of its own."""

from __future__ import annotations

import json

from backoffice.mapping import analyze
from backoffice.store import SqlStore
from backoffice.store.event_log import read_engine_log

from ..engine.nested_parallel import BUYER, CLERK, LEGAL, branch, deploy, later, move, started
from .test_conform_db import found, inject_move
from .test_engine_commands import backoffice  # noqa: F401 (fixture)

AS_OF = later(24)


def interleaved_case(engine) -> int:
    """Run a nested case to its end, the steps of its branches at both levels interleaved in time."""
    case_id = started(engine)
    quote, budget, legal = (branch(engine, case_id, "buy", name) for name in ("quote", "budget", "legal"))
    docs = branch(engine, case_id, "docs")
    move(engine, quote, "waiting-on-supplier", BUYER, later(1))
    move(engine, docs, "waiting-on-requester", CLERK, later(1.2))
    move(engine, budget, "purchase", BUYER, later(1.4), budget_ok=True)
    move(engine, docs, "write-docs", CLERK, later(1.6))
    move(engine, quote, "get-quote", BUYER, later(1.8))
    move(engine, legal, "purchase", LEGAL, later(2), legal_ok=True)
    move(engine, docs, "project-work", CLERK, later(2.2), docs="handbook")
    move(engine, quote, "purchase", BUYER, later(2.4), quote="Q-1")
    move(engine, branch(engine, case_id, "buy"), "project-work", BUYER, later(3), order_no="PO-1")
    move(engine, case_id, "done", CLERK, later(4))
    return case_id


def conform(backoffice, database, tmp_path) -> dict:
    out = tmp_path / "live.json"
    status, stdout, stderr = backoffice("conform", "--db", database, "--workflow", "nested-parallel",
                                        "--as-of", AS_OF.isoformat(), "--json", out)
    assert "Traceback" not in stderr
    (report,) = json.loads(out.read_text())["reports"]
    return report


def test_the_map_keeps_each_branch_at_each_level_apart(engine, database):
    deploy(engine)
    case_id = interleaved_case(engine)
    with SqlStore.open(database) as store:
        log = read_engine_log(store, workflow="nested-parallel")
    traces = set(log.table.column("case_id").to_pylist())
    assert traces == {str(case_id), f"{case_id}/buy", f"{case_id}/docs", f"{case_id}/buy/quote",
                      f"{case_id}/buy/budget", f"{case_id}/buy/legal"}
    assert set(log.table.column("parent_case").to_pylist()) == {None, str(case_id)}
    edges = {(edge.source, edge.target) for edge in analyze(log).edges}
    assert edges == {("received", "project-work"), ("project-work", "join"), ("join", "done"),
                     ("purchase", "join"), ("join", "project-work"),
                     ("write-docs", "waiting-on-requester"), ("waiting-on-requester", "write-docs"),
                     ("write-docs", "project-work"),
                     ("get-quote", "waiting-on-supplier"), ("waiting-on-supplier", "get-quote"),
                     ("get-quote", "purchase"), ("check-budget", "purchase"), ("legal-review", "purchase")}


def test_conform_finds_no_false_move_in_nested_work_and_a_real_one_inside_an_inner_branch(engine, database,
                                                                                       backoffice, tmp_path):
    deploy(engine)
    clean = interleaved_case(engine)
    crooked = started(engine)
    inject_move(engine, branch(engine, crooked, "buy", "legal"), "place-order", at=later(5), by=LEGAL,
                activity="skip to the order")
    report = conform(backoffice, database, tmp_path)
    moves = {d for d in found(report) if d[0] == "disallowed_transition"}
    assert moves == {("disallowed_transition", "legal-review -> place-order", (f"{crooked}/buy/legal",))}
    assert not any(str(clean) == case or case.startswith(f"{clean}/") for d in found(report) for case in d[2]
                   if d[0] in ("disallowed_transition", "skipped_approval"))


def test_conform_reads_a_branch_cancelled_with_its_own_branches_as_no_false_move_and_a_hand_move_as_one(engine, database, backoffice,
                                                                               tmp_path):
    deploy(engine, tmp_path, top="first", nested="all")
    case_id = started(engine)
    move(engine, branch(engine, case_id, "buy", "budget"), "purchase", BUYER, later(1))
    move(engine, branch(engine, case_id, "docs"), "project-work", CLERK, later(2), docs="handbook")
    move(engine, case_id, "done", CLERK, later(3))
    # A hand at the database sends a waiting quote back to its join: not the engine's cancellation.
    crooked = started(engine)
    quote = branch(engine, crooked, "buy", "quote")
    move(engine, quote, "waiting-on-supplier", BUYER, later(4))
    inject_move(engine, quote, "purchase", at=later(5), by=BUYER, activity="purchase")
    report = conform(backoffice, database, tmp_path)
    moves = {d for d in found(report) if d[0] == "disallowed_transition"}
    assert moves == {("disallowed_transition", "waiting-on-supplier -> purchase", (f"{crooked}/buy/quote",))}
