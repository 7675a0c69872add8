"""The nested-parallel definition as the engine tests use it: its people, a fixed clock, and walks through it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from backoffice.engine import Actor, Engine

from ..directory_fixtures import seed

T0 = datetime(2024, 3, 4, 9, 0, tzinfo=timezone.utc)  # a Monday morning, in business hours
DEFINITION = Path(__file__).resolve().parent / "nested-parallel.yaml"
PEOPLE = {"rita": [], "bo": ["buyer"], "lex": ["legal"], "cleo": ["clerk"], "lea": ["lead"]}
REQUESTER = Actor("rita")
BUYER = Actor("bo", "buyer")
LEGAL = Actor("lex", "legal")
CLERK = Actor("cleo", "clerk")


def later(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def deploy(engine: Engine, tmp_path: Path | None = None, *, top: str = "all", nested: str = "all") -> Engine:
    """Deploy the definition, its top join and its nested (buying) join as given."""
    path = DEFINITION
    if (top, nested) != ("all", "all"):
        assert tmp_path is not None
        text = DEFINITION.read_text()
        text = text.replace("      docs: write-docs\n    join: all", f"      docs: write-docs\n    join: {top}")
        text = text.replace("      legal: legal-review\n    join: all", f"      legal: legal-review\n    join: {nested}")
        path = tmp_path / "nested-parallel.yaml"
        path.write_text(text)
    seed(engine, PEOPLE)
    engine.deploy(path, actor="lea", now=T0)
    return engine


def started(engine: Engine) -> int:
    """Start a case; it enters its parallel state at once (its buying branch opens its own); return its id."""
    case = engine.start_case("nested-parallel", {"name": "Lab move"}, actor=REQUESTER, now=T0)
    case = engine.transition(case.id, "project-work", actor=CLERK, expected_version=case.version, now=later(0.1))
    return case.id


def branch(engine: Engine, case_id: int, *path: str) -> int:
    """Return the case id of a branch by its path of names: ("buy", "quote") is the quote branch of the buy branch."""
    for name in path:
        case_id = next(row.child_id for row in engine.branches(case_id) if row.branch.rsplit("/", 1)[-1] == name)
    return case_id


def move(engine: Engine, case_id: int, to: str, actor: Actor, at: datetime, **data: object):
    case = engine.case(case_id)
    return engine.transition(case_id, to, actor=actor, expected_version=case.version, now=at, data=data or None)
