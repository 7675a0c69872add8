"""The approvals inbox reads its cases at once, and still shows what the core itself answers, vote by vote."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from backoffice.engine import Actor
from backoffice.readmodels import viewer_of
from backoffice.readmodels.inbox import inbox
from backoffice.store.case_snapshot import CaseSnapshot

from ..engine.service_request import later
from .test_views import submitted


def _same(shown, answered) -> bool:
    return type(shown) is type(answered) and str(shown) == str(answered)


def test_each_inbox_refusal_is_the_one_the_core_gives_for_that_case_and_voter(deployed):
    # Cases prepared by different buyers, with and without their quote, one with a vote cast already:
    # the refusals differ by case and voter (separation of duties, missing evidence, already voted, none).
    cases = [submitted(deployed, prepared_by=who, quote=quote)
             for who, quote in (("hana", True), ("bea", True), ("hana", False), ("bea", False))]
    deployed.approve(cases[1].id, actor=Actor("ivan"), now=later(1))
    now = later(2)
    compared = 0
    for person in ("ivan", "hana", "jade", "bea"):
        for item in inbox(deployed, viewer_of(deployed, person), now=now):
            assert _same(item.approve_refusal, deployed.vote_refusal(item.case.id, actor=person, now=now))
            assert _same(item.reject_refusal, deployed.vote_refusal(item.case.id, actor=person, now=now,
                                                                     reject=True))
            assert item.case == deployed.case(item.case.id)
            assert list(item.votes) == list(deployed.store.votes(item.case.id, item.task.round))
            compared += 1
    assert compared >= 4
    refusals = {type(item.approve_refusal).__name__ for person in ("ivan", "hana", "jade")
                for item in inbox(deployed, viewer_of(deployed, person), now=now)}
    assert len(refusals) >= 2, refusals


def test_the_inbox_reads_a_fixed_number_of_statements_however_many_approvals_wait(deployed):
    counted = []

    def count(*args) -> None:
        counted.append(1)

    sa.event.listen(deployed.store.engine, "before_cursor_execute", count)
    try:
        submitted(deployed, prepared_by="hana")
        viewer = viewer_of(deployed, "ivan")
        counted.clear()
        assert len(inbox(deployed, viewer, now=later(1))) == 1
        one = len(counted)
        for _ in range(5):
            submitted(deployed, prepared_by="hana")
        counted.clear()
        assert len(inbox(deployed, viewer, now=later(1))) == 6
        assert len(counted) == one
    finally:
        sa.event.remove(deployed.store.engine, "before_cursor_execute", count)


def test_a_snapshot_answers_as_the_store_does_and_refuses_to_write(deployed):
    case = submitted(deployed, prepared_by="hana")
    store = deployed.store
    snapshot = CaseSnapshot.read(store, [case.id])
    assert snapshot.case(case.id) == store.case(case.id)
    assert list(snapshot.events(case.id)) == list(store.events(case.id))
    assert list(snapshot.tasks(case_id=case.id, status=None, limit=1000)) == list(store.tasks(case_id=case.id,
                                                                                              status=None, limit=1000))
    assert snapshot.evidence_names(case.id) == store.evidence_names(case.id)
    with pytest.raises(RuntimeError):
        snapshot.transaction()


def test_pages_of_the_inbox_follow_one_another_in_order_without_a_gap_or_a_repeat(deployed):
    for _ in range(5):
        submitted(deployed, prepared_by="hana")
    viewer = viewer_of(deployed, "ivan")
    whole = [item.case.id for item in inbox(deployed, viewer, now=later(1))]
    paged = [item.case.id for start in (0, 2, 4) for item in inbox(deployed, viewer, now=later(1), limit=2, skip=start)]
    assert len(whole) == 5 and paged == whole
    assert inbox(deployed, viewer, now=later(1), limit=2, skip=6) == []
