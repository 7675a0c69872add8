"""Comments on a case: stored with their author, audited in the case's chain, bound so an edit in the database shows."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from backoffice.engine import verify
from backoffice.errors import InputRefused, UnknownCase

from .service_request import ANN, DESK, later, payload


def test_a_comment_is_kept_with_its_author_and_audited(deployed):
    case = deployed.start_case("service-request", payload(), actor=ANN, now=later(0))
    comment = deployed.add_comment(case.id, "  Any news?  ", actor=ANN, now=later(1))
    deployed.add_comment(case.id, "Working on it.\nSoon.", actor=DESK, now=later(2))
    assert [(c.author, c.body) for c in deployed.comments(case.id)] == [("ann", "Any news?"),
                                                                       (DESK.id, "Working on it.\nSoon.")]
    records = [r for r in deployed.store.audit_records(chain=f"case:{case.id}") if r.action == "comment.added"]
    assert len(records) == 2 and f'"comment_id":{comment.id}' in records[0].detail
    assert "Any news" not in records[0].detail                       # the text is bound as a row, not copied
    assert verify(deployed.store).ok


def test_an_empty_or_huge_comment_is_refused_and_nothing_written(deployed):
    case = deployed.start_case("service-request", payload(), actor=ANN, now=later(0))
    with pytest.raises(InputRefused, match="the comment: it is empty"):
        deployed.add_comment(case.id, " \n ", actor=ANN, now=later(1))
    with pytest.raises(InputRefused, match="at most 10000"):
        deployed.add_comment(case.id, "x" * 10_001, actor=ANN, now=later(1))
    with pytest.raises(UnknownCase):
        deployed.add_comment(999, "hello", actor=ANN, now=later(1))
    assert deployed.comments(case.id) == []


def test_a_comment_edited_in_the_database_is_named_by_audit_verify(deployed):
    case = deployed.start_case("service-request", payload(), actor=ANN, now=later(0))
    deployed.add_comment(case.id, "Approved by phone", actor=DESK, now=later(1))
    with deployed.store.engine.begin() as connection:
        connection.execute(sa.text("UPDATE case_comments SET body = 'Refused by phone'"))
    report = verify(deployed.store)
    assert not report.ok and "case_comments row 1" in str(report.first)
