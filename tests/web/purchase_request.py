"""The library's purchase request on the web tests' site: deployed, its people granted, its worker and its form.

    deploy_purchase_request(site.engine, site.clock.now)
    worker(site.engine).run_once(site.clock.now)      # the budget check, then the purchase order

The people are those of the site (tests/api/live_server.PEOPLE): alice requests; bea is a
procurement buyer who also owns budgets (so separation of duties has someone to refuse);
ivan owns budgets; hana leads the team (dashboards). The worker is the suite's service
account, granted the platform role `worker`, with the example actions a team would register.
"""

from __future__ import annotations

import random
from datetime import datetime

from backoffice.definitions.library_templates import LIBRARY
from backoffice.engine import Engine
from backoffice.engine.worker import Worker
from backoffice.examples.purchase_actions import registry
from backoffice.services.dashboard_access import TEAM_LEAD

from ..api.live_server import ADMIN
from ..directory_fixtures import WORKER_ACCOUNT

WORKFLOW = "purchase-request"
REQUESTER, BUYER, BUDGET_OWNER, LEAD = "alice", "bea", "ivan", "hana"

# The intake form's fields (f.* names) for a valid request of 4,800 EUR: a budget owner approves it.
FORM = {
    "f.request_id": "PR-000412",
    "f.submitted_at": "2024-03-04T08:45",
    "f.requester.employee_id": "E00412",
    "f.requester.email": "alice@example.com",
    "f.requester.department": "Marketing",
    "f.cost_center": "CC-4100",
    "f.category": "services",
    "f.supplier_id": "SUP-00042",
    "f.currency": "EUR",
    "f.amount": "4800",
    "f.justification": "Design agency for the winter campaign: posters and banners.",
    "f.items.0.description": "Campaign design, 6 days",
    "f.items.0.quantity": "6",
    "f.items.0.unit_price": "800",
}

# The same request as case data, for tests that start it through the engine.
PAYLOAD = {
    "request_id": "PR-000413", "submitted_at": "2024-03-04T08:45:00+00:00",
    "requester": {"employee_id": "E00413", "email": "alice@example.com", "department": "Marketing"},
    "cost_center": "CC-4100", "category": "services", "supplier_id": "SUP-00042", "currency": "EUR",
    "amount": 4800, "justification": "Design agency for the winter campaign: posters and banners.",
    "items": [{"description": "Campaign design, 6 days", "quantity": 6, "unit_price": 800}],
}


def deploy_purchase_request(engine: Engine, now: datetime) -> None:
    """Deploy the library's purchase request and grant its roles (and the worker's account, when missing)."""
    engine.deploy(LIBRARY / f"{WORKFLOW}.yaml", actor=ADMIN, now=now)
    engine.grant("procurement-buyer", to=BUYER, actor=ADMIN, now=now)
    engine.grant("budget-owner", to=BUYER, actor=ADMIN, now=now)
    engine.grant("budget-owner", to=BUDGET_OWNER, actor=ADMIN, now=now)
    engine.grant(TEAM_LEAD, to=LEAD, actor=ADMIN, now=now)
    if engine.store.principal(WORKER_ACCOUNT) is None:
        engine.add_service_account(WORKER_ACCOUNT, description="the tests' worker", actor=ADMIN, now=now)
        engine.grant("worker", to=WORKER_ACCOUNT, actor=ADMIN, now=now)


def worker(engine: Engine) -> Worker:
    """The real worker, in process, with the example actions (the budget check and the purchase order)."""
    return Worker(engine, registry, account=WORKER_ACCOUNT, name="e2e", rng=random.Random(7))
