"""The parallel-work definition as the engine tests use it: its people, a fixed clock, and walks through it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from backoffice.engine import Actor, Engine

from ..directory_fixtures import seed

T0 = datetime(2024, 3, 4, 9, 0, tzinfo=timezone.utc)  # a Monday morning
DEFINITION = Path(__file__).resolve().parent / "parallel-work.yaml"
PEOPLE = {"hal": [], "cleo": ["clerk"], "ivy": ["it"], "sam": ["security"], "sue": ["security"],
          "pat": ["payroll"], "lea": ["lead"], "tess": ["security", "clerk"]}
REQUESTER = Actor("hal")
CLERK = Actor("cleo", "clerk")
IT = Actor("ivy", "it")
SAM = Actor("sam", "security")
SUE = Actor("sue", "security")
PAYROLL = Actor("pat", "payroll")


def later(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def deploy(engine: Engine, path: Path = DEFINITION) -> Engine:
    seed(engine, PEOPLE)
    engine.deploy(path, actor="lea", now=T0)
    return engine


def started_in_provision(engine: Engine, *, by: Actor = CLERK) -> int:
    """Start a case and move it into its parallel state; return its id."""
    case = engine.start_case("parallel-work", {"name": "Nina"}, actor=REQUESTER, now=T0)
    case = engine.transition(case.id, "triage", actor=by, expected_version=case.version, now=later(0.1))
    case = engine.transition(case.id, "provision", actor=by, expected_version=case.version, now=later(0.2))
    return case.id


def branch_case(engine: Engine, case_id: int, name: str) -> int:
    """Return the child case id of a case's branch."""
    return next(row.child_id for row in engine.branches(case_id) if row.branch == name)


def move(engine: Engine, case_id: int, to: str, actor: Actor, at: datetime, **data: object):
    case = engine.case(case_id)
    return engine.transition(case_id, to, actor=actor, expected_version=case.version, now=at, data=data or None)
