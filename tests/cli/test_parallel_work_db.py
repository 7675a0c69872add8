"""`map --db` and `conform --db` read parallel work: each branch's path apart, no false moves between branches."""

from __future__ import annotations

import json

from backoffice.mapping import analyze
from backoffice.store import SqlStore
from backoffice.store.event_log import read_engine_log

from ..engine.parallel_work import CLERK, IT, PAYROLL, SAM, SUE, branch_case, deploy, later, move, \
    started_in_provision
from .test_conform_db import found, inject_move
from .test_engine_commands import backoffice  # noqa: F401 (fixture)

AS_OF = later(24)


def interleaved_case(engine) -> int:
    """Run a case whose three branches' steps interleave in time, to its end."""
    case_id = started_in_provision(engine)
    access, equipment, payroll = (branch_case(engine, case_id, name) for name in ("access", "equipment", "payroll"))
    engine.approve(access, actor=SAM, now=later(1))
    move(engine, payroll, "provision", PAYROLL, later(1.5), payroll_id="P-7")
    engine.approve(access, actor=SUE, now=later(2))
    move(engine, equipment, "provision", IT, later(2.5), laptop="T14")
    move(engine, access, "provision", IT, later(3), access="standard")
    move(engine, case_id, "done", CLERK, later(4))
    return case_id


def test_the_map_keeps_each_branch_path_apart(engine, database):
    deploy(engine)
    case_id = interleaved_case(engine)
    with SqlStore.open(database) as store:
        log = read_engine_log(store, workflow="parallel-work")
    traces = set(log.table.column("case_id").to_pylist())
    assert traces == {str(case_id), f"{case_id}/access", f"{case_id}/equipment", f"{case_id}/payroll"}
    assert set(log.table.column("parent_case").to_pylist()) == {None, str(case_id)}
    edges = {(edge.source, edge.target) for edge in analyze(log).edges}
    # Each branch's own path, and the case's own from the split past the join: never a step of
    # one branch followed by a step of another, though their steps interleave in time.
    assert edges == {("hired", "triage"), ("triage", "provision"), ("provision", "join"), ("join", "done"),
                     ("approve-access", "approve vote"), ("approve vote", "grant-access"),
                     ("grant-access", "provision"), ("order-laptop", "provision"), ("setup-payroll", "provision")}


def test_conform_finds_no_false_move_between_branches_and_a_real_one_inside_a_branch(engine, database, backoffice,
                                                                                    tmp_path):
    deploy(engine)
    clean = interleaved_case(engine)
    crooked = started_in_provision(engine)
    equipment = branch_case(engine, crooked, "equipment")
    inject_move(engine, equipment, "confirm", at=later(5), by=IT, activity="skip to confirm")
    out = tmp_path / "live.json"
    status, stdout, stderr = backoffice("conform", "--db", database, "--workflow", "parallel-work",
                                        "--as-of", AS_OF.isoformat(), "--json", out)
    assert "Traceback" not in stderr
    (report,) = json.loads(out.read_text())["reports"]
    moves = {d for d in found(report) if d[0] == "disallowed_transition"}
    assert moves == {("disallowed_transition", "order-laptop -> confirm", (f"{crooked}/equipment",))}
    assert not any(str(clean) == case or case.startswith(f"{clean}/") for d in found(report) for case in d[2]
                   if d[0] in ("disallowed_transition", "skipped_approval"))


def test_case_show_lists_the_branches_a_case_waits_for(engine, database, backoffice):
    deploy(engine)
    case_id = started_in_provision(engine)
    equipment = branch_case(engine, case_id, "equipment")
    move(engine, equipment, "provision", IT, later(1), laptop="T14")
    status, stdout, stderr = backoffice("case", "show", str(case_id), "--db", database, "--json")
    assert status == 0, stderr
    shown = json.loads(stdout)
    assert shown["state"] == "provision"
    assert {row["branch"]: (row["status"], row["case_id"]) for row in shown["branches"]} == {
        "access": ("open", branch_case(engine, case_id, "access")), "equipment": ("done", equipment),
        "payroll": ("open", branch_case(engine, case_id, "payroll"))}
    status, stdout, stderr = backoffice("case", "show", str(equipment), "--db", database, "--json")
    assert (json.loads(stdout)["parent_id"], json.loads(stdout)["branch"]) == (case_id, "equipment")
