"""The people of the demo workspace: who they are, the roles they hold, their groups and sign-ins.

Everyone is put in the directory through the engine's own commands (bootstrap, add, grant,
group, queue), by the administrator, as an administrator would on a first day. Each person gets
a local password, so the web app's sign-in page takes them: the tour prints the table.

The cast is written for the library's workflows: a buyer who reviews a request and also owns a
budget (separation of duties refuses her vote on what she reviewed), a budget owner, a
finance controller, a team lead, an auditor who reads everything and moves nothing, requesters
who hold no role, and the service accounts that raise what automated checks find.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from datetime import datetime

from backoffice.engine import Engine
from backoffice.engine.identity import canonical_id

ADMIN = "admin"
"""The administrator: bootstrapped first; replays dead letters as the operator too."""

INTEGRATION = "svc-integration"
"""The service account that raises what automated checks find (no budget, a capture it cannot read)."""

WORKER = "svc-worker"
"""The service account the worker runs as: it holds the worker role, and the automated steps' moves are its."""


@dataclass(frozen=True)
class DemoPerson:
    """One person of the demo: their sign-in, name, what they do, roles (`role` or `role@workflow`), groups."""

    id: str
    name: str
    title: str
    roles: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    queues: tuple[str, ...] = ()

    @property
    def password(self) -> str:
        """The person's demo password: printed by the tour, never a secret (a demo on loopback)."""
        return f"{self.id}-demo-2026"

    @property
    def email(self) -> str:
        return f"{self.id}@example.com"


CAST: tuple[DemoPerson, ...] = (
    DemoPerson(ADMIN, "Alex Morgan", "Administrator: people, roles, workflows; replays dead letters",
               ("operator",), ("platform",)),
    DemoPerson("audrey", "Audrey Laurent", "Auditor: reads every case and its audit trail, moves none",
               ("auditor",), ("internal-audit",)),
    # Requesters hold no role: they start work at the front door and answer questions about it.
    DemoPerson("lena", "Lena de Vries", "Requester (Engineering)", (), ("engineering",)),
    DemoPerson("sam", "Sam Okafor", "Requester (Sales); claims expenses", (), ("sales",)),
    DemoPerson("noor", "Noor Haddad", "Requester (Marketing)", (), ("marketing",)),
    # Procurement.
    DemoPerson("bea", "Bea Lindqvist", "Buyer", ("procurement-buyer",), ("procurement",)),
    DemoPerson("tom", "Tom Becker", "Buyer", ("procurement-buyer",), ("procurement",)),
    DemoPerson("hana", "Hana Sato", "Reviewing buyer who also owns a budget (refused on what she reviewed)",
               ("procurement-buyer", "budget-owner"), ("procurement",)),
    DemoPerson("ivan", "Ivan Petrov", "Budget owner", ("budget-owner",), ("finance",)),
    DemoPerson("fatima", "Fatima Zahra", "Finance controller", ("finance-controller",), ("finance",)),
    DemoPerson("carlos", "Carlos Ruiz", "CFO", ("cfo",), ("finance", "executive")),
    DemoPerson("grace", "Grace Kim", "CEO and head of department", ("ceo", "department-head"), ("executive",)),
    DemoPerson("olga", "Olga Nowak", "Team lead: procurement, payables and operations excellence",
               ("team-lead", "procurement-process-owner", "ap-process-owner", "operations-excellence-lead",
                "review-chair"),
               ("procurement", "finance")),
    DemoPerson("paul", "Paul Weber", "Line manager", ("line-manager",), ("engineering",)),
    # The service desk.
    DemoPerson("dora", "Dora Jansen", "Service desk agent", ("service-desk",), ("service-desk",)),
    DemoPerson("tess", "Tess Moreau", "Team lead of the service desk",
               ("team-lead", "service-desk-lead", "service-desk"),
               ("service-desk",)),
    DemoPerson("raj", "Raj Patel", "Resolver and IT service desk", ("resolver", "it-service-desk"),
               ("it",), ("facilities",)),
    # Payables and vendors.
    DemoPerson("ana", "Ana Costa", "Accounts payable clerk", ("ap-clerk", "finance-operations"), ("finance",)),
    DemoPerson("max", "Max Mueller", "Accounts payable manager", ("ap-manager", "finance-operations-lead"),
               ("finance",)),
    DemoPerson("gus", "Gus Andersen", "Goods receiver", ("goods-receiver",), ("warehouse",)),
    DemoPerson("vera", "Vera Ivanova", "Vendor master specialist", ("vendor-master-specialist",), ("finance",)),
    DemoPerson("leo", "Leo Fischer", "Vendor master lead", ("vendor-master-lead",), ("finance",)),
    DemoPerson("tina", "Tina Berg", "Treasury specialist", ("treasury-specialist",), ("finance",)),
    DemoPerson("cora", "Cora Blanc", "Compliance analyst", ("compliance-analyst",), ("compliance",)),
    # People operations and IT security.
    DemoPerson("helen", "Helen Brooks", "HR operations", ("hr-operations",), ("hr",)),
    DemoPerson("hugo", "Hugo Martin", "HR operations lead", ("hr-operations-lead",), ("hr",)),
    DemoPerson("ian", "Ian Clarke", "IT security officer", ("it-security-officer",), ("it",)),
    DemoPerson("sara", "Sara Lopez", "Head of information security", ("security-lead",), ("it",)),
    DemoPerson("pia", "Pia Koch", "Payroll specialist", ("payroll-specialist",), ("hr",)),
    DemoPerson("lex", "Lex Adeyemi", "Legal counsel", ("legal-counsel",), ("legal",)),
    # Expenses and the weekly KPI review.
    DemoPerson("eddie", "Eddie Walsh", "Expense auditor", ("expense-auditor",), ("finance",)),
    DemoPerson("ines", "Ines Duarte", "Internal auditor", ("internal-auditor",), ("internal-audit",)),
    DemoPerson("petra", "Petra Novak", "Performance analyst", ("performance-analyst",), ("operations",)),
    DemoPerson("rita", "Rita Okoro", "Chair of the weekly operations review", ("review-chair",), ("operations",)),
    DemoPerson("owen", "Owen Hughes", "Owner of KPI exceptions", ("exception-owner",), ("operations",)),
)
"""Everyone who signs in to the demo, the administrator first."""

PUBLIC_FORMS = {"service-request": "service-request-public-intake"}
"""The workflows whose public form the tour opens (their definitions opt in), with the service account that starts their cases."""

SERVICE_ACCOUNTS = {INTEGRATION: "Raises the exceptions that automated checks find (demo)",
                    WORKER: "Runs the automated steps with the demo's actions",
                    **{account: f"Starts the cases of the public form of {workflow} (demo)"
                       for workflow, account in PUBLIC_FORMS.items()}}

REQUESTERS = tuple(person for person in CAST if not person.roles)
"""Who starts work: the people in no role."""


def holders(role: str) -> tuple[DemoPerson, ...]:
    """Return the people who hold a role, in the cast's order."""
    return tuple(person for person in CAST if role in person.roles)


def person(person_id: str) -> DemoPerson:
    """Return the cast's person with this id (KeyError when there is none)."""
    for candidate in CAST:
        if candidate.id == person_id:
            return candidate
    raise KeyError(person_id)


def seed_directory(engine: Engine, *, now: datetime) -> None:
    """Put the cast in the directory through the engine's commands, by the administrator, and set their passwords."""
    admin = CAST[0]
    if engine.store.count_people() == 0:
        engine.bootstrap(admin.id, now=now, name=admin.name, email=admin.email)
    groups: dict[str, None] = {}
    for someone in CAST:
        if engine.store.principal(canonical_id(someone.id)) is None:
            engine.add_person(someone.id, name=someone.name, actor=ADMIN, now=now, email=someone.email)
        for granted in someone.roles:
            role, _, workflow = granted.partition("@")
            engine.grant(role, to=someone.id, actor=ADMIN, now=now, workflow=workflow or None)
        for group in someone.groups:
            if group not in groups:
                engine.add_group(group, name=group.replace("-", " ").capitalize(), actor=ADMIN, now=now)
                groups[group] = None
            engine.add_to_group(group, someone.id, actor=ADMIN, now=now)
        for queue in someone.queues:
            engine.add_to_queue(queue, someone.id, actor=ADMIN, now=now)
        set_password(engine, someone.id, someone.password, now=now)
    for account, description in SERVICE_ACCOUNTS.items():
        if engine.store.principal(canonical_id(account)) is None:
            engine.add_service_account(account, description=description, actor=ADMIN, now=now)
    # The worker runs as its account, which must hold the worker role (backoffice.engine.roles).
    engine.grant("worker", to=WORKER, actor=ADMIN, now=now)


def set_password(engine: Engine, person_id: str, password: str, *, now: datetime) -> None:
    """Give a person a local account with this password, set by the administrator (Argon2id, audited).

    Hashed at a low cost: the tour prints every demo password, so the default cost (64 MiB and
    three passes a hash) would only add seconds to each build. A hash keeps its own parameters,
    so sign-in checks it as any other; passwords people set later get the default cost.
    """
    from backoffice.services.accounts import LocalAccounts

    LocalAccounts(engine, hasher=_demo_hasher()).set_password(person_id, password, actor=ADMIN, now=now)


@cache
def _demo_hasher():
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
