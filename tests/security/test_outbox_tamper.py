"""An outbox row edited in SQL to run another action: the worker runs only the action the case's definition names.

The outbox is not sealed by the audit trail (its status and attempts change at every poll), so
a colleague who can write to the database can edit a pending step's `action` to another action
the worker has registered (a payment instead of a notification), or insert a step for a case
that waits in that state. Before the fix the worker called whatever action the row named, with
the case's data; now it runs a step only when the row's action is the one the case's
definition version names for that state, and otherwise parks the row for people, naming the
mismatch, without calling anything. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from backoffice.engine.actions import ActionRegistry
from backoffice.engine.outbox import OutboxStatus
from backoffice.engine.worker import Worker
from backoffice.store.tables import outbox

from ..directory_fixtures import WORKER_ACCOUNT
from ..engine.automated_steps import ACTION, deploy_automated
from ..engine.conftest import definition_copy  # noqa: F401 (fixture)
from ..engine.service_request import ANN, DESK, later, payload

LEASE = timedelta(minutes=5)


def registry(calls: list[str]) -> ActionRegistry:
    """The worker's actions: the step's own, and a payment another workflow uses."""
    actions = ActionRegistry()
    actions.register(ACTION, lambda call: calls.append(ACTION) or {"desk_ticket": "T-1"})
    actions.register("pay_supplier", lambda call: calls.append("pay_supplier") or {})
    return actions


def test_a_step_whose_action_was_edited_in_sql_is_never_run(engine, definition_copy):  # noqa: F811
    deploy_automated(engine, definition_copy)
    case = engine.start_case("service-request", payload(), actor=ANN, now=later(1))
    engine.transition(case.id, "notify", actor=DESK, expected_version=case.version, now=later(1))
    [entry] = engine.outbox(case_id=case.id)
    with engine.store.engine.begin() as connection:
        connection.execute(sa.update(outbox).where(outbox.c.id == entry.id).values(action="pay_supplier"))
    calls: list[str] = []
    Worker(engine, registry(calls), account=WORKER_ACCOUNT, lease=LEASE).run_once(later(2))
    assert calls == []
    [after] = engine.outbox(case_id=case.id)
    assert after.status is OutboxStatus.DEAD
    assert "pay_supplier" in after.last_error and ACTION in after.last_error
    assert engine.case(case.id).state == "notify"


def test_the_step_as_written_still_runs(engine, definition_copy):  # noqa: F811
    deploy_automated(engine, definition_copy)
    case = engine.start_case("service-request", payload(), actor=ANN, now=later(1))
    engine.transition(case.id, "notify", actor=DESK, expected_version=case.version, now=later(1))
    calls: list[str] = []
    assert Worker(engine, registry(calls), account=WORKER_ACCOUNT, lease=LEASE).run_once(later(2)).done == 1
    assert calls == [ACTION]
    assert engine.case(case.id).state == "triage"
