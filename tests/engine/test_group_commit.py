"""Group commit: many callers' changes in one transaction, each acknowledged once durable, each undone alone.

The batches are made deterministic without waiting on time: the first operation of a batch
holds the committer until the test has queued the rest (an Event), so they all join the next one.
"""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from backoffice.engine import Engine, verify
from backoffice.errors import StaleVersion
from backoffice.store.group_commit import GroupCommitter
from backoffice.store.tables import cases

from .service_request import ANN, DESK, later, payload


def held_batch(committer: GroupCommitter) -> threading.Event:
    """Occupy the committer with an operation that waits for the returned Event; queue more meanwhile."""
    release, started = threading.Event(), threading.Event()

    def hold() -> None:
        started.set()
        assert release.wait(timeout=60), "the test never released the committer"

    committer.submit(hold)
    assert started.wait(timeout=60)
    return release


def case_count(engine: Engine) -> int:
    with engine.store.engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(cases)).scalar_one()


def test_operations_queued_together_commit_in_one_transaction_and_each_gets_its_own_result(deployed):
    with GroupCommitter(deployed.store) as committer:
        release = held_batch(committer)
        futures = [committer.submit(lambda n=n: deployed.start_case(
            "service-request", payload(summary=f"printer {n}"), actor=ANN, now=later(1))) for n in range(20)]
        assert not any(future.done() for future in futures)
        release.set()
        started = [future.result(timeout=60) for future in futures]
        # The held operation made a batch of its own; the twenty waiting behind it made one more.
        assert (committer.batches, committer.operations) == (2, 21)
    assert sorted(case.data["summary"] for case in started) == sorted(f"printer {n}" for n in range(20))
    assert case_count(deployed) == 20
    assert verify(deployed.store).ok


def test_an_operation_sees_the_changes_made_before_it_in_the_same_batch(deployed):
    with GroupCommitter(deployed.store) as committer:
        release = held_batch(committer)
        opened = committer.submit(lambda: deployed.start_case("service-request", payload(), actor=ANN, now=later(1)))
        # Case 1, which the operation before it started: not yet committed, read through the batch's connection.
        moved = committer.submit(lambda: deployed.transition(1, "triage", actor=DESK, expected_version=1,
                                                             now=later(2)))
        release.set()
        assert opened.result(timeout=60).id == 1
        assert moved.result(timeout=60).state == "triage"
        assert committer.batches == 2
    assert deployed.case(1).state == "triage"


def test_a_failing_operation_is_undone_alone_and_its_caller_gets_its_error(deployed):
    with GroupCommitter(deployed.store) as committer:
        first = committer.run(lambda: deployed.start_case("service-request", payload(), actor=ANN, now=later(1)))
        release = held_batch(committer)
        good = committer.submit(lambda: deployed.start_case("service-request", payload(summary="second"), actor=ANN,
                                                            now=later(2)))
        stale = committer.submit(lambda: deployed.transition(first.id, "triage", actor=DESK, expected_version=7,
                                                             now=later(2)))
        after = committer.submit(lambda: deployed.transition(first.id, "triage", actor=DESK,
                                                             expected_version=first.version, now=later(2)))
        release.set()
        with pytest.raises(StaleVersion):
            stale.result(timeout=60)
        assert good.result(timeout=60).data["summary"] == "second"
        assert after.result(timeout=60).state == "triage"
    # The stale move left nothing: no event, no audit record; the trail verifies.
    assert [event.activity for event in deployed.history(first.id)].count("triage") <= 1
    assert deployed.case(first.id).version == first.version + 1
    assert verify(deployed.store).ok


def test_nothing_is_acknowledged_when_the_batch_cannot_commit(deployed):
    dialect = deployed.store.engine.dialect
    commit = dialect.do_commit
    failing = threading.Event()

    def disk_fails(dbapi_connection) -> None:
        if failing.is_set():
            raise OSError("the disk refused the write")
        commit(dbapi_connection)

    dialect.do_commit = disk_fails
    try:
        with GroupCommitter(deployed.store) as committer:
            release = held_batch(committer)
            futures = [committer.submit(lambda n=n: deployed.start_case(
                "service-request", payload(summary=f"lost {n}"), actor=ANN, now=later(1))) for n in range(5)]
            failing.set()
            release.set()
            for future in futures:
                with pytest.raises(Exception, match="the disk refused the write"):
                    future.result(timeout=60)
            failing.clear()
            # The committer goes on with the next batch.
            assert committer.run(lambda: deployed.start_case("service-request", payload(), actor=ANN,
                                                             now=later(3))).id >= 1
    finally:
        dialect.do_commit = commit
    assert case_count(deployed) == 1
    assert verify(deployed.store).ok
