"""Actions for the purchase-request template, as a team would register its own: `backoffice worker
--actions examples/purchase_actions.py:registry`.

Stand-ins for the ERP calls a real deployment makes; each receives the case data and the
step's idempotency key, which the ERP keeps so that a retried call never books twice.
"""

from __future__ import annotations

from backoffice.engine.actions import ActionCall, ActionRegistry

registry = ActionRegistry()


@registry.action("check_and_commit_budget")
def check_and_commit_budget(call: ActionCall) -> dict[str, object]:
    # A real check asks the ERP for the cost center's open budget and commits the amount.
    return {}


@registry.action("create_and_send_purchase_order")
def create_and_send_purchase_order(call: ActionCall) -> dict[str, object]:
    # The ERP numbers purchase orders; here the number follows from the request's own.
    return {"po_number": "PO-" + str(call.data["request_id"]).removeprefix("PR-")}
