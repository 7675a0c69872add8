"""Checks that the engine benchmark measures what it says: the same process, the same decisions, every commit.

Not part of the test suite (pytest's testpaths is tests/); run it on its own:

    .venv/bin/python -m pytest -q benchmarks/test_bench_engine.py

The workers test runs on PostgreSQL too when BACKOFFICE_TEST_POSTGRES_URL is set, each run in
a schema of its own that is dropped after.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the benchmark's modules import each other by name

import backoffice_workload  # noqa: E402
import spiff_workload  # noqa: E402
from backoffice.definitions import load_definition  # noqa: E402
from backoffice.errors import TransitionNotAllowed  # noqa: E402
from engine_databases import fresh_postgres_schema  # noqa: E402
from engine_results import CLOCK, approves  # noqa: E402
from transition_workers import run_workers  # noqa: E402

CASES = 12
EXPECTED = (sum(approves(number) for number in range(CASES)), CASES - sum(approves(number) for number in range(CASES)))


def test_spiff_commits_after_each_of_three_steps_and_ends_each_case_as_decided(tmp_path):
    run = spiff_workload.run_cases(tmp_path / "spiff.db", CASES)
    assert (run.approved, run.rejected) == EXPECTED == (9, 3)
    assert run.commits == 3 * CASES


def test_spiff_reloading_before_the_review_reaches_the_same_ends(tmp_path):
    run = spiff_workload.run_cases(tmp_path / "spiff.db", CASES, reload=True)
    assert (run.approved, run.rejected, run.commits) == (*EXPECTED, 3 * CASES)


@pytest.mark.parametrize(("queue", "commits_per_case"), [(True, 4), (False, 3)])
def test_backoffice_runs_each_case_to_its_decided_end_with_one_commit_per_call(tmp_path, queue, commits_per_case):
    run = backoffice_workload.run_cases(str(tmp_path / "backoffice.db"), CASES, queue=queue)
    assert (run.approved, run.rejected) == EXPECTED
    assert run.commits == commits_per_case * CASES


def test_the_backoffice_decision_refuses_an_end_the_reviewer_did_not_choose(tmp_path):
    engine = backoffice_workload.open_engine(str(tmp_path / "backoffice.db"), deploy=True)
    case = engine.start_case(backoffice_workload.WORKFLOW, {"request": "r", "amount": 1},
                             actor=backoffice_workload.REQUESTER, now=CLOCK)
    case = engine.transition(case.id, "review", actor=backoffice_workload.REVIEWER, expected_version=case.version,
                             now=CLOCK)
    with pytest.raises(TransitionNotAllowed):
        engine.transition(case.id, "approved", actor=backoffice_workload.REVIEWER, expected_version=case.version,
                          now=CLOCK, data={"approved": False})
    engine.store.close()


def test_both_definitions_have_the_same_steps():
    definition = load_definition(backoffice_workload.DEFINITION)
    spec = spiff_workload.load_spec()
    assert [name for name in definition.states] == ["received", "review", "approved", "rejected"]
    assert {"start", "review", "decision", "approved", "rejected"} <= set(spec.task_specs)


def _databases():
    yield "sqlite"
    yield pytest.param("postgresql", marks=pytest.mark.skipif(
        not os.environ.get("BACKOFFICE_TEST_POSTGRES_URL"), reason="BACKOFFICE_TEST_POSTGRES_URL is not set"))


@pytest.mark.parametrize("database_kind", list(_databases()))
@pytest.mark.parametrize("kind", ["thread", "process"])
def test_workers_move_every_case_twice_and_time_every_transition(tmp_path, database_kind, kind):
    def moved(database: str):
        case_ids = backoffice_workload.start_cases(database, CASES)
        run = run_workers(database_kind, database, list(zip(case_ids, range(CASES))), workers=3, kind=kind)
        return run, backoffice_workload.count_ends(database)

    if database_kind == "sqlite":
        run, ends = moved(str(tmp_path / "workers.db"))
    else:
        with fresh_postgres_schema(os.environ["BACKOFFICE_TEST_POSTGRES_URL"], "test") as database:
            run, ends = moved(database)
    assert ends == EXPECTED
    assert [len(share.latencies) for share in run.shares] == [8, 8, 8]
    assert run.transitions == 2 * CASES
    assert 0 < run.percentile_ms(50) <= run.percentile_ms(99) <= run.percentile_ms(100)
