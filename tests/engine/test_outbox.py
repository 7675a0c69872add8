"""Side effects through an outbox: written with the move that caused them, or not at all."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from backoffice.engine.outbox import OutboxStatus
from backoffice.engine.tasks import TaskKind
from backoffice.errors import NotDeadLettered, UnknownOutboxEntry
from backoffice.store.sql_store import SqlTransaction
from backoffice.store.tables import outbox

from .automated_steps import ACTION, deploy_automated
from .service_request import ANN, DESK, OPERATOR, T0, later, payload


@pytest.fixture
def automated(engine, definition_copy):
    return deploy_automated(engine, definition_copy)


def outbox_rows(store) -> int:
    with store.engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(outbox)).scalar()


def test_entering_an_automated_state_writes_one_pending_outbox_entry(automated):
    case = automated.start_case("service-request", payload(), actor=ANN, now=T0)
    moved = automated.transition(case.id, "notify", actor=DESK, expected_version=1, now=later(1))
    [entry] = automated.outbox(case_id=case.id)
    assert (entry.action, entry.state, entry.status, entry.attempts) == (ACTION, "notify", OutboxStatus.PENDING, 0)
    assert entry.max_attempts == 3
    assert entry.next_attempt_at == later(1)
    assert entry.idempotency_key == f"service-request/{case.id}/notify/{moved.version}"
    assert automated.tasks(case_id=case.id) == []


def test_a_failed_transaction_leaves_no_outbox_entry(automated, store, monkeypatch):
    case = automated.start_case("service-request", payload(), actor=ANN, now=T0)
    monkeypatch.setattr(SqlTransaction, "insert_audit", lambda self, record: (_ for _ in ()).throw(OSError("io")))
    with pytest.raises(OSError):
        automated.transition(case.id, "notify", actor=DESK, expected_version=1, now=later(1))
    monkeypatch.undo()
    assert outbox_rows(store) == 0
    assert automated.case(case.id).state == "new"


def test_other_states_write_nothing_to_the_outbox(deployed, store):
    case = deployed.start_case("service-request", payload(), actor=ANN, now=T0)
    deployed.transition(case.id, "triage", actor=DESK, expected_version=1, now=later(1))
    assert outbox_rows(store) == 0


def test_manual_mode_sends_the_step_to_a_task_instead_of_the_outbox(automated, store):
    automated.set_mode("service-request", manual=True, now=T0, actor=OPERATOR)
    assert automated.manual_mode("service-request")
    case = automated.start_case("service-request", payload(), actor=ANN, now=T0)
    automated.transition(case.id, "notify", actor=DESK, expected_version=1, now=later(1))
    assert outbox_rows(store) == 0
    [task] = automated.tasks(case_id=case.id)
    assert (task.state, task.kind, task.queue) == ("notify", TaskKind.WORK, "service-desk")
    assert ACTION in (task.reason or "")
    # People do the step by hand, then move the case on.
    automated.transition(case.id, "triage", actor=DESK, expected_version=2, now=later(2))
    assert automated.case(case.id).state == "triage"


def test_a_mode_flipped_in_the_database_sends_the_step_nowhere(automated, store):
    from backoffice.errors import DefinitionAltered
    from backoffice.store.tables import workflow_modes

    automated.set_mode("service-request", manual=True, now=T0, actor=OPERATOR)
    case = automated.start_case("service-request", payload(), actor=ANN, now=T0)
    # Back to the worker by hand, outside the engine: the step would run unattended.
    with store.engine.begin() as connection:
        connection.execute(sa.update(workflow_modes).values(manual=False))
    with pytest.raises(DefinitionAltered, match="the mode of service-request"):
        automated.transition(case.id, "notify", actor=DESK, expected_version=1, now=later(1))
    assert (automated.case(case.id).state, outbox_rows(store), automated.tasks(case_id=case.id)) == ("new", 0, [])


def test_switching_manual_mode_off_sends_steps_to_the_outbox_again(automated):
    automated.set_mode("service-request", manual=True, now=T0, actor=OPERATOR)
    automated.set_mode("service-request", manual=False, now=T0, actor=OPERATOR)
    case = automated.start_case("service-request", payload(), actor=ANN, now=T0)
    automated.transition(case.id, "notify", actor=DESK, expected_version=1, now=later(1))
    assert len(automated.outbox(case_id=case.id)) == 1


def test_replaying_what_is_not_dead_is_refused_with_a_clear_error(automated):
    with pytest.raises(UnknownOutboxEntry, match="no outbox entry 99"):
        automated.replay(99, actor=OPERATOR, now=T0)
    case = automated.start_case("service-request", payload(), actor=ANN, now=T0)
    automated.transition(case.id, "notify", actor=DESK, expected_version=1, now=later(1))
    [entry] = automated.outbox(case_id=case.id)
    with pytest.raises(NotDeadLettered, match="is pending, not dead"):
        automated.replay(entry.id, actor=OPERATOR, now=later(2))
