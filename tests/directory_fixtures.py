"""The directory the tests act in: the people of the suite with the roles the directory grants them.

The gate (`Engine.identify`) trusts nothing but an actor's id and chosen role: whoever acts in
a test must be in the directory, holding the roles they act in. `seed` puts them there, through
the engine's own commands (bootstrap, add, grant), as an administrator would:

    seed(engine)                                   # the cast below
    seed(engine, {"zoe": ["approver"]})            # and more people
    token = token_for(engine, "bob")               # for BACKOFFICE_TOKEN on the command line
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from backoffice.engine import Engine
from backoffice.engine.identity import canonical_id

ADMIN = "admin"
"""The first administrator of every test directory (bootstrapped, no OS user)."""

SEEDED_AT = datetime(2020, 1, 1, tzinfo=timezone.utc)
"""Before every fixed clock of the suite: the directory exists before any act of a test."""

CAST: Mapping[str, tuple[str, ...]] = {
    # the service-request template
    "ann": ("budget-holder@purchase-approval",),   # a requester in service requests; holds a budget there
    "bob": ("service-desk",),
    "carl": ("resolver",),
    "dora": ("service-desk",),
    "eve": ("service-desk",),
    "desk-dan": ("service-desk",),
    "kim": ("budget-holder@purchase-approval",),   # receives a delegated approval there
    "lead": ("service-desk-lead", "service-desk"),
    "ops-admin": ("operator",),     # replays dead letters, switches manual mode
    # the purchase approval
    "bea": ("buyer",),
    "hana": ("budget-holder", "buyer"),
    "ivan": ("budget-holder",),
    "jade": ("budget-holder",),
    "fin": ("finance-director",),
}
"""Each person of the suite and the roles granted to them: `role` in every workflow, `role@workflow` in one."""

SERVICE_ACCOUNTS = ("svc-integration", "svc-worker")

WORKER_ACCOUNT = "svc-worker"
"""The service account the suite's workers run as: it holds the worker role, and nothing else."""


def seed(engine: Engine, people: Mapping[str, Iterable[str]] = CAST, *, now: datetime = SEEDED_AT,
         service_accounts: Iterable[str] = SERVICE_ACCOUNTS, os_user: str | None = None) -> Engine:
    """Bootstrap the directory (once) and add `people` with their roles; return the engine.

    Idempotent: people already there keep theirs and get the roles named here too.
    """
    if engine.store.count_people() == 0:
        engine.bootstrap(ADMIN, now=now, name="Administrator", os_user=os_user)
    for person, roles in people.items():
        if engine.store.principal(canonical_id(person)) is None:
            engine.add_person(person, name=person.title(), actor=ADMIN, now=now)
        for granted in roles:
            role, _, workflow = granted.partition("@")
            engine.grant(role, to=person, actor=ADMIN, now=now, workflow=workflow or None)
    for account in service_accounts:
        if engine.store.principal(canonical_id(account)) is None:
            engine.add_service_account(account, description=f"{account} (tests)", actor=ADMIN, now=now)
            if account == WORKER_ACCOUNT:
                engine.grant("worker", to=account, actor=ADMIN, now=now)
    return engine


def token_for(engine: Engine, person: str, *, now: datetime | None = None, roles: Iterable[str] = ()) -> str:
    """Make a personal token (by the administrator) valid for a year from `now` (default: the real clock)."""
    now = now or datetime.now(timezone.utc)
    return engine.create_token(person, actor=ADMIN, now=now, label="tests", roles=tuple(roles),
                               valid_for=timedelta(days=365)).secret


@dataclass(frozen=True)
class Login:
    """Who runs a command in a command-line test: the runner sets BACKOFFICE_TOKEN to their personal token.

        backoffice("task", "claim", "1", Login("bob"), "--role", "service-desk")
    """

    person: str


class TokenBook:
    """Personal tokens of the cast for one test database, made on first use (the directory seeded then)."""

    def __init__(self) -> None:
        self._tokens: dict[tuple[str, str], str] = {}

    def token(self, database: str, person: str) -> str:
        key = (database, person)
        if key not in self._tokens:
            from backoffice.store import SqlStore

            with SqlStore.open(database) as store:
                engine = seed(Engine(store))
                if store.principal(canonical_id(person)) is None:
                    seed(engine, {person: ()})
                self._tokens[key] = token_for(engine, person)
        return self._tokens[key]
