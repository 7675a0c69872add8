"""The web site with the dashboards' seeded service requests (tests/ops/seeded_cases.py) and a team lead."""

from __future__ import annotations

from argon2 import PasswordHasher

from backoffice.services.accounts import LocalAccounts
from backoffice.services.dashboard_access import TEAM_LEAD

from ..api.live_server import ADMIN, T0
from ..ops.seeded_cases import NOW, seed_cases
from .site import PASSWORD, Site

LEAD = "tess"


def add_service_desk(site: Site) -> dict[str, int]:
    """Add the service desk's people, a team lead (tess), and the seeded cases; set the clock to their NOW."""
    engine = site.engine
    for person, roles in {"ann": (), "carl": ("resolver",), LEAD: (TEAM_LEAD,)}.items():
        engine.add_person(person, name=person.title(), actor=ADMIN, now=T0)
        for role in roles:
            engine.grant(role, to=person, actor=ADMIN, now=T0)
    engine.grant("service-desk", to="bob", actor=ADMIN, now=T0)
    LocalAccounts(engine, hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)).set_password(
        LEAD, PASSWORD, actor=ADMIN, now=T0)
    ids = seed_cases(engine, deployer=ADMIN)
    site.clock.now = NOW
    return ids
