"""The SQL store: rows become frozen values, times stay aware UTC, refused writes become domain errors."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from backoffice.definitions import Priority
from backoffice.engine import Case
from backoffice.engine.ports import NewCase, StoredVersion
from backoffice.errors import DuplicateIdempotencyKey, StaleVersion, UnknownCase, VersionAlreadyDeployed
from backoffice.store.sql_store import UNIQUE_KEY, constraint_name

T0 = datetime(2024, 3, 4, 9, 0, 0, 123456, tzinfo=timezone.utc)


def version(number: int = 1) -> StoredVersion:
    return StoredVersion(workflow="w", version=number, content_hash="a" * 64, definition_json="{}", source="id: w",
                         status="active", deployed_at=T0, deployed_by="lead")


def new_case(key: str | None = None) -> NewCase:
    return NewCase(workflow="w", definition_version=1, state="new", data={"amount": 12.5, "lines": [{"n": 1}]},
                   requester="ann", created_at=T0, priority=Priority.HIGH, queue="ap", idempotency_key=key,
                   intake_hash="b" * 64)


@pytest.fixture
def with_version(store):
    with store.transaction(audited=False) as tx:
        tx.insert_version(version())
    return store


def test_a_stored_case_reads_back_equal_with_aware_utc_times(with_version):
    store = with_version
    with store.transaction(audited=False) as tx:
        written = tx.insert_case(new_case("k1"))
    read = store.case(written.id)
    assert read == written
    assert read.created_at == T0 and read.created_at.tzinfo is not None and read.created_at.utcoffset() == timedelta(0)
    assert read.data == {"amount": 12.5, "lines": [{"n": 1}]} and read.priority is Priority.HIGH
    assert store.case_by_key("w", "k1") == (read, "b" * 64)
    assert store.case_by_key("w", "k2") is None and store.case(999) is None


def test_a_time_with_another_offset_is_stored_as_the_same_instant(with_version):
    store = with_version
    amsterdam = T0.astimezone(timezone(timedelta(hours=1)))
    with store.transaction(audited=False) as tx:
        written = tx.insert_case(NewCase(**{**new_case().__dict__, "created_at": amsterdam}))
    assert store.case(written.id).created_at == T0


def test_a_second_case_with_one_idempotency_key_is_a_domain_error(with_version):
    store = with_version
    with store.transaction(audited=False) as tx:
        tx.insert_case(new_case("k1"))
    with pytest.raises(DuplicateIdempotencyKey) as refused, store.transaction(audited=False) as tx:
        tx.insert_case(new_case("k1"))
    assert constraint_name(refused.value.__cause__) == UNIQUE_KEY
    # Cases without a key never collide.
    with store.transaction(audited=False) as tx:
        tx.insert_case(new_case())
        tx.insert_case(new_case())
    assert len(store.cases(workflow="w")) == 3


def test_a_version_number_stored_twice_is_a_domain_error(with_version):
    with pytest.raises(VersionAlreadyDeployed), with_version.transaction(audited=False) as tx:
        tx.insert_version(version())


def test_an_update_from_a_stale_version_is_refused(with_version):
    store = with_version
    with store.transaction(audited=False) as tx:
        case = tx.insert_case(new_case())
    moved = Case(**{**case.__dict__, "state": "triage", "previous_state": "new"})
    with store.transaction(audited=False) as tx:
        assert tx.update_case(moved, expected_version=1).version == 2
    with pytest.raises(StaleVersion) as refused, store.transaction(audited=False) as tx:
        tx.update_case(moved, expected_version=1)
    assert (refused.value.expected, refused.value.actual) == (1, 2)
    with pytest.raises(UnknownCase), store.transaction(audited=False) as tx:
        tx.update_case(Case(**{**case.__dict__, "id": 999}), expected_version=1)


def test_a_case_of_an_undeployed_version_is_refused_by_the_database(store):
    with pytest.raises(sa.exc.IntegrityError), store.transaction(audited=False) as tx:
        tx.insert_case(new_case())


def test_cases_are_listed_by_id_with_filters_and_pages(with_version):
    store = with_version
    with store.transaction(audited=False) as tx:
        ids = [tx.insert_case(NewCase(**{**new_case().__dict__, "queue": queue})).id for queue in "abab"]
    assert [c.id for c in store.cases()] == ids
    assert [c.id for c in store.cases(queue="a")] == ids[0::2]
    assert [c.id for c in store.cases(after_id=ids[1], limit=1)] == [ids[2]]
    assert store.cases(state="done") == []


def test_the_data_column_is_jsonb_on_postgresql(store):
    reflected = {column["name"]: column["type"] for column in sa.inspect(store.engine).get_columns("cases")}
    expected = "JSONB" if store.engine.dialect.name == "postgresql" else "JSON"
    assert type(reflected["data"]).__name__ == expected
