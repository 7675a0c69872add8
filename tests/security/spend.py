"""The spend-approval workflow of the security suite, its people, and a case brought to an approval."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from backoffice.engine import Actor, Case, Engine

DEFINITION = Path(__file__).with_name("spend-approval.yaml")
T0 = datetime(2024, 3, 4, 9, 0, tzinfo=timezone.utc)

REQUESTER = Actor("bob", "manager")                 # a manager himself: he holds the approver role
REVIEWER = Actor("rita", "reviewer")
CAROL = Actor("carol", roles=("manager", "controller"))   # one person, both approver roles
DAVE = Actor("dave", "controller")
ERIN = Actor("erin", "manager")
BUYER = Actor("bert", "buyer")
ADMIN = Actor("root", roles=("manager", "controller", "reviewer", "buyer", "operator"))
OPERATOR = Actor("olga", "operator")
DEPLOYER = "lead"
PAT = Actor("pat", "change-approver")               # named in change.approvers as a person
OTTO = Actor("otto", roles=("change-approver", "process-owner"))
QUINN = Actor("quinn", "change-approver")           # a change-approver the workflow's change rules do not name


def later(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def deployed(engine: Engine) -> Engine:
    engine.deploy(DEFINITION, actor=DEPLOYER, now=T0)
    return engine


def started(engine: Engine, *, amount: float = 5000.0, requester: Actor = REQUESTER, **data: object) -> Case:
    return engine.start_case("spend-approval", {"item": "laptops", "amount": amount, **data}, actor=requester,
                             now=T0)


def in_approval(engine: Engine, *, amount: float = 5000.0) -> Case:
    """A case of `amount` moved to the approval its amount calls for (approve-large from 1,000)."""
    case = started(engine, amount=amount)
    case = engine.transition(case.id, "review", actor=REVIEWER, expected_version=case.version, now=later(1))
    to = "approve-large" if amount >= 1000 else "approve-small"
    return engine.transition(case.id, to, actor=REVIEWER, expected_version=case.version, now=later(2))


def version_text(*replacements: tuple[str, str]) -> str:
    """The definition as version 2, with text replaced (each replacement must apply)."""
    text = DEFINITION.read_text().replace("version: 1\n", "version: 2\n", 1)
    for old, new in replacements:
        assert old in text, f"{old!r} is not in the definition"
        text = text.replace(old, new)
    return text


LOWER_QUORUM = ("    quorum: all\n", "    quorum: 1\n")
