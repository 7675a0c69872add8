"""The work figures of /metrics, scraped from a live server on SQLite and PostgreSQL.

SLA breaches, queue depth and oldest item per queue, outbox lag, dead letters, steps in doubt and
the age of the last signed audit checkpoint: each read from the database (or the checkpoint
store) at the scrape, at the server's clock.
"""

from __future__ import annotations

from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families

from backoffice.engine import checkpoint
from backoffice.engine.actions import ActionFailed
from backoffice.engine.sla import PausedTime

from . import budget_check
from .live_server import PAYLOAD, move, start


def scrape(api) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Return every sample of /metrics: (name, sorted labels) -> value."""
    answer = api.client().get("/metrics")
    assert answer.status_code == 200
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(answer.text) for sample in family.samples}


def value(samples, name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def test_sla_breaches_count_open_cases_past_their_resolution_sla(api):
    late = move(api, "alice", start(api, "alice"), "prepare").json()
    assert value(scrape(api), "backoffice_sla_breaches", workflow="purchase-approval") is None
    api.clock.advance(days=10)                          # 3 business days are long gone
    move(api, "dave", start(api, "dave"), "prepare")    # started now: due in 3 business days
    samples = scrape(api)
    assert value(samples, "backoffice_sla_breaches", workflow="purchase-approval") == 1
    # The oldest task of the queue is the late case's, made ten days ago.
    assert value(samples, "backoffice_queue_open_tasks", queue="purchasing") == 2
    assert value(samples, "backoffice_queue_oldest_task_age_seconds", queue="purchasing") == 10 * 86400
    # A case whose SLA clock stands still (waiting in a pause_in state) is not late.
    with api.engine.store.transaction() as tx:
        tx.set_paused_time(late["id"], PausedTime(0.0, api.clock.now))
    assert value(scrape(api), "backoffice_sla_breaches", workflow="purchase-approval") is None


def test_outbox_lag_dead_letters_and_steps_in_doubt(api, tmp_path):
    budget_check.deploy(api, tmp_path)
    _, in_doubt = budget_check.step_in_doubt(api)
    samples = scrape(api)
    assert value(samples, "backoffice_steps_in_doubt") == 1
    assert (value(samples, "backoffice_outbox_pending"), value(samples, "backoffice_outbox_lag_seconds")) == (0, 0)

    waiting = api.client("alice").post(f"/v1/workflows/{budget_check.WORKFLOW}/cases", json=PAYLOAD).json()
    assert move(api, "alice", waiting, "check-budget").status_code == 200
    api.clock.advance(seconds=90)
    samples = scrape(api)
    assert (value(samples, "backoffice_outbox_pending"), value(samples, "backoffice_outbox_lag_seconds")) == (1, 90)
    assert value(samples, "backoffice_dead_letters") == 0

    def refused(call):
        raise ActionFailed("the budget system refused the request", retryable=False, delivered=False)

    budget_check.worker(api, refused).run_once(api.clock.now)
    samples = scrape(api)
    assert value(samples, "backoffice_dead_letters") == 1
    assert (value(samples, "backoffice_outbox_pending"), value(samples, "backoffice_outbox_lag_seconds")) == (0, 0)
    assert value(samples, "backoffice_steps_in_doubt") == 1 and in_doubt


def test_the_age_of_the_last_audit_checkpoint(api):
    start(api, "alice")
    samples = scrape(api)
    assert value(samples, "backoffice_audit_checkpoint_number") == 0
    assert value(samples, "backoffice_audit_checkpoint_age_seconds") is None   # none yet: absent, not zero
    signed = checkpoint(api.engine.store, now=api.clock.now)
    api.clock.advance(hours=1)
    samples = scrape(api)
    assert value(samples, "backoffice_audit_checkpoint_number") == signed.number == 1
    assert value(samples, "backoffice_audit_checkpoint_age_seconds") == timedelta(hours=1).total_seconds()
