"""The spend-approval workflow of the security suite, its people, and a case brought to an approval.

Its people are in the directory (`SPEND_CAST`, beside the suite's cast): the roles they act in
below are the roles granted to them, so an attack here is by someone who really holds the role.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from backoffice.engine import Actor, Case, Engine
from backoffice.store import SqlStore

from ..directory_fixtures import seed

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


SPEND_CAST: Mapping[str, tuple[str, ...]] = {
    "bob": ("manager",),
    "rita": ("reviewer",),
    "carol": ("manager", "controller"),
    "dave": ("controller",),
    "erin": ("manager",),
    "bert": ("buyer",),
    "root": ("administrator", "manager", "controller", "reviewer", "buyer", "operator"),
    "olga": ("operator",),
    "lead": ("change-approver",),       # deploys; a change-approver, yet never of their own change
    "pat": ("change-approver",),
    "otto": ("change-approver", "process-owner"),
    "quinn": ("change-approver",),
    "mallory": ("manager", "controller"),  # holds approver roles, not operator
    "mia": ("process-owner",),             # named by the change rules, not a change-approver
    "lina": (),                            # a requester of purchases
    "bea": ("procurement-buyer",),
}
"""The spend workflow's people and their grants (added to the suite's cast, see directory_fixtures)."""


@pytest.fixture
def engine(engine: Engine) -> Engine:
    """The suite's engine, its directory holding the spend workflow's people too."""
    return seed(engine, SPEND_CAST)


def seed_database(database: str) -> None:
    """Put the spend workflow's people in the directory of a database (before a command-line test logs in)."""
    with SqlStore.open(database) as store:
        seed(seed(Engine(store)), SPEND_CAST)


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
