"""A signed webhook delivery is remembered while it could be sent again, then forgotten (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from backoffice.store.sql_store import DELIVERIES_FORGOTTEN_EVERY
from backoffice.store.tables import webhook_deliveries

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)
KEPT = timedelta(hours=2)  # what the API passes: two of the widest replay windows


def claim(store, digest: str, at: datetime, *, workflow: str = "purchase-approval", key: str = "k"):
    return store.claim_webhook_delivery("erp", digest * 64, workflow=workflow, idempotency_key=key, at=at,
                                        forget_received_before=at - KEPT)


def remembered(store) -> set[str]:
    with store.engine.connect() as connection:
        return {row[0][0] for row in connection.execute(sa.select(webhook_deliveries.c.signature_sha256))}


def test_a_delivery_is_remembered_within_the_window_and_forgotten_after_it(store):
    claim(store, "a", T0)
    # Within two windows a replay is still told apart: it answers with what it was first sent for.
    assert claim(store, "a", T0 + KEPT - timedelta(seconds=1), workflow="other", key="fresh") == \
        ("purchase-approval", "k")
    claim(store, "b", T0 + timedelta(minutes=30))
    assert remembered(store) == {"a", "b"}
    # A later delivery forgets those that can no longer pass the timestamp check; the newer one stays.
    claim(store, "c", T0 + KEPT + timedelta(minutes=1))
    assert remembered(store) == {"b", "c"}


def test_forgetting_runs_at_most_once_a_minute_of_the_clock_passed_in(store):
    assert DELIVERIES_FORGOTTEN_EVERY == timedelta(minutes=1)
    claim(store, "a", T0)
    claim(store, "b", T0 + timedelta(seconds=20))
    claim(store, "c", T0 + KEPT + timedelta(seconds=1))  # forgets what came before T0 + 1 s
    assert remembered(store) == {"b", "c"}
    # 29 s later "b" is past its two windows too, but the last forgetting was under a minute ago.
    claim(store, "d", T0 + KEPT + timedelta(seconds=30))
    assert remembered(store) == {"b", "c", "d"}
    claim(store, "e", T0 + KEPT + timedelta(seconds=90))
    assert remembered(store) == {"c", "d", "e"}
