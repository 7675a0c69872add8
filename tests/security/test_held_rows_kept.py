"""A vote holds its task and votes to records whose parsed rows and checked seals the engine keeps (sealed_rows):
what is kept must never let an edit made after it through.

Each test has the engine hold the rows once (a vote, then a vote refused as a second one), so the
records' rows and seals are kept, then edits the database as a colleague with SQL access could,
and expects the next vote refused, naming the row, with nothing written.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from backoffice.engine import verify
from backoffice.engine.audit import seal_row
from backoffice.errors import CaseAltered
from backoffice.store.tables import approval_votes, audit_records

from .spend import CAROL, DAVE, deployed, engine, in_approval, later  # noqa: F401
from .test_colleague_attacks_4 import refused_and_named, sql
from .test_sealed_definitions import written


def voted_and_held(engine):
    """A large case with carol's vote as manager, its rows held twice (her vote, and her second refused)."""
    case = in_approval(deployed(engine), amount=5000.0)
    engine.approve(case.id, actor=CAROL, now=later(3))
    try:
        engine.approve(case.id, actor=CAROL, now=later(3.5))
    except Exception as refused:   # the four eyes: she voted already, after the rows were held again
        assert "already" in str(refused)
    return case


def vote_writer(engine, case_id: int):
    """The newest record of the case's chain that lists a vote: the one that wrote carol's."""
    with engine.store.engine.connect() as connection:
        return connection.execute(sa.select(audit_records).where(
            audit_records.c.chain == f"case:{case_id}", audit_records.c.rows.like('%["approval_votes",%'))
            .order_by(audit_records.c.seq.desc()).limit(1)).one()


def refused_for_its_record(engine, case_id: int, vote) -> None:
    """The vote is refused naming the vote's row and its record as not sealed, nothing is written, verify fails."""
    before = written(engine.store)
    with pytest.raises(CaseAltered) as refused:
        vote()
    message = str(refused.value)
    assert f"case {case_id}" in message and "approval_votes" in message and "forged or altered" in message, message
    assert written(engine.store) == before
    assert not verify(engine.store).ok


def test_a_vote_renamed_in_sql_after_it_was_held_is_refused(engine):
    case = voted_and_held(engine)
    sql(engine.store, sa.update(approval_votes).where(approval_votes.c.case_id == case.id).values(approver="erin"))
    refused_and_named(engine, case.id, lambda: engine.approve(case.id, actor=DAVE, now=later(4)), "approval_votes")


def test_the_record_of_a_held_vote_edited_in_sql_is_refused(engine):
    case = voted_and_held(engine)
    writer = vote_writer(engine, case.id)
    sql(engine.store, sa.update(audit_records).where(audit_records.c.id == writer.id)
        .values(detail=json.dumps({"forged": True})))
    refused_for_its_record(engine, case.id, lambda: engine.approve(case.id, actor=DAVE, now=later(4)))


def test_a_vote_and_its_record_rewritten_together_in_sql_are_refused(engine):
    # The vote renamed, and its record made to list the renamed row's digest: without the audit key the record's
    # seal no longer matches, whatever was kept of the record as it was.
    case = voted_and_held(engine)
    writer = vote_writer(engine, case.id)
    sql(engine.store, sa.update(approval_votes).where(approval_votes.c.case_id == case.id).values(approver="erin"))
    with engine.store.engine.connect() as connection:
        vote = connection.execute(sa.select(approval_votes).where(approval_votes.c.case_id == case.id)).one()
    forged = seal_row("approval_votes", vote.id, dict(vote._mapping), case_id=case.id)
    rows = [listed if listed[0] != "approval_votes" else forged.listed() for listed in json.loads(writer.rows)]
    sql(engine.store, sa.update(audit_records).where(audit_records.c.id == writer.id)
        .values(rows=json.dumps(rows, sort_keys=True, separators=(",", ":"))))
    refused_for_its_record(engine, case.id, lambda: engine.approve(case.id, actor=DAVE, now=later(4)))
