"""Approvals: quorum, evidence first, separation of duties, delegation, and a timeout that escalates."""

from __future__ import annotations

from pathlib import Path

import pytest

from backoffice.engine import Actor, Engine
from backoffice.engine.outbox import OutboxKind
from backoffice.engine.tasks import TaskKind
from backoffice.errors import (DelegationNotAllowed, EvidenceMissing, NoApprovalHere, NotAnApprover,
                               SeparationOfDuties)

from .service_request import T0, later

DEFINITION = Path(__file__).with_name("purchase-approval.yaml")
REQUESTER = Actor("ann", "budget-holder")   # holds the role, yet asked for the purchase
BUYER = Actor("bea", "buyer")
HANA, IVAN, JADE = (Actor(name, "budget-holder") for name in ("hana", "ivan", "jade"))
DIRECTOR = Actor("fin", "finance-director")


@pytest.fixture
def purchase(engine: Engine) -> Engine:
    engine.deploy(DEFINITION, actor="lead", now=T0)
    return engine


def submitted(engine: Engine, *, prepared_by: Actor = BUYER, quote: bool = True):
    case = engine.start_case("purchase-approval", {"item": "laptop", "amount": 1800}, actor=REQUESTER, now=T0)
    case = engine.transition(case.id, "prepare", actor=BUYER, expected_version=case.version, now=T0)
    case = engine.transition(case.id, "approve", actor=prepared_by, expected_version=case.version, now=T0,
                             data={"supplier": "Acme"})
    if quote:
        engine.attach_evidence(case.id, "quote", actor=BUYER, now=T0, reference="dms://quotes/77")
    return case


def test_entering_an_approval_makes_one_task_per_approver(purchase):
    case = submitted(purchase)
    tasks = purchase.tasks(case_id=case.id)
    assert [(t.kind, t.assignee) for t in tasks] == [(TaskKind.APPROVAL, name) for name in ("hana", "ivan", "jade")]


def test_two_of_three_approvals_move_the_case_on(purchase):
    case = submitted(purchase)
    assert purchase.approve(case.id, actor=HANA, now=later(1)).state == "approve"
    with pytest.raises(NotAnApprover, match="hana has no open approval"):
        purchase.approve(case.id, actor=HANA, now=later(1))
    assert purchase.approve(case.id, actor=IVAN, now=later(2)).state == "ordered"
    assert purchase.tasks(case_id=case.id) == []
    assert [e.activity for e in purchase.history(case.id)][-2:] == ["approve vote", "approve"]


def test_one_rejection_rejects(purchase):
    case = submitted(purchase)
    purchase.approve(case.id, actor=HANA, now=later(1))
    assert purchase.approve(case.id, actor=JADE, now=later(1), reject=True, note="too dear").state == "rejected"


def test_the_requester_can_never_approve(purchase):
    case = submitted(purchase)
    with pytest.raises(SeparationOfDuties, match=r"ann may not approve case \d+, because they requested it "
                                                 r"\(separation_of_duties.requester\)"):
        purchase.approve(case.id, actor=REQUESTER, now=later(1))


def test_whoever_acted_in_a_listed_state_can_never_approve(purchase):
    case = submitted(purchase, prepared_by=Actor("hana", "buyer"))
    with pytest.raises(SeparationOfDuties, match=r"hana may not approve .* acted in 'prepare' \(submit\)"):
        purchase.approve(case.id, actor=HANA, now=later(1))


def test_evidence_must_be_attached_before_an_approval(purchase):
    case = submitted(purchase, quote=False)
    with pytest.raises(EvidenceMissing, match="lacks the evidence its approval requires: documents quote"):
        purchase.approve(case.id, actor=HANA, now=later(1))
    # A rejection needs no evidence: the lack of it may be the reason.
    assert purchase.approve(case.id, actor=HANA, now=later(1), reject=True).state == "rejected"


def test_an_approver_may_delegate_when_the_definition_allows(purchase):
    case = submitted(purchase)
    task = purchase.delegate(case.id, actor=HANA, to="kim", now=later(1))
    assert (task.assignee, task.delegated_by) == ("kim", "hana")
    with pytest.raises(NotAnApprover):
        purchase.approve(case.id, actor=HANA, now=later(1))
    purchase.approve(case.id, actor=Actor("kim"), now=later(1))
    assert purchase.approve(case.id, actor=IVAN, now=later(1)).state == "ordered"


def test_delegation_is_refused_where_the_definition_forbids_it(purchase, definition_copy, tmp_path):
    text = DEFINITION.read_text().replace("delegation: true", "delegation: false").replace("version: 1", "version: 2")
    path = tmp_path / "purchase-approval.yaml"
    path.write_text(text)
    purchase.deploy(path, actor="lead", now=T0)
    case = submitted(purchase)
    with pytest.raises(DelegationNotAllowed, match="cannot be delegated"):
        purchase.delegate(case.id, actor=HANA, to="kim", now=later(1))


def test_a_timeout_moves_the_approval_to_the_secondary_at_the_right_business_time(purchase):
    case = submitted(purchase)           # Monday 09:00 UTC = 10:00 in Amsterdam
    purchase.approve(case.id, actor=HANA, now=later(1))
    # 1d is one working day of 8 hours from entering the approval: 7 on Monday (10:00-17:00), 1 on Tuesday.
    assert purchase.tick(later(23.99)) == []
    escalated = purchase.tick(later(24))
    assert sorted(t.assignee or t.role for t in escalated) == ["finance-director", "finance-director"]
    assert {t.escalate_at.isoformat() for t in escalated} == {"2024-03-05T09:00:00+00:00"}
    # The secondary hears of it through the outbox, once per task handed on.
    messages = [e for e in purchase.outbox(case_id=case.id) if e.kind is OutboxKind.NOTIFICATION]
    assert sorted((m.payload["type"], m.payload["to"]) for m in messages) == [
        ("approval_escalated", "role finance-director")] * 2
    assert purchase.tick(later(26)) == []
    # The secondary's one vote decides.
    assert purchase.approve(case.id, actor=DIRECTOR, now=later(26)).state == "ordered"


def test_voting_outside_an_approval_is_refused(purchase):
    case = purchase.start_case("purchase-approval", {"item": "pen", "amount": 2}, actor=REQUESTER, now=T0)
    with pytest.raises(NoApprovalHere, match="which is no approval"):
        purchase.approve(case.id, actor=HANA, now=T0)


def test_the_refusal_shown_before_a_vote_is_the_one_the_vote_gets(purchase):
    """vote_refusal runs approve's own checks: for each voter, the same refusal (or none), and nothing written."""
    case = submitted(purchase, prepared_by=Actor("hana", "buyer"), quote=False)
    voters = {"requester": REQUESTER, "preparer": HANA, "approver": IVAN, "stranger": BUYER}
    before = purchase.history(case.id)
    for name, voter in voters.items():
        shown = purchase.vote_refusal(case.id, actor=voter, now=later(1))
        try:
            purchase.approve(case.id, actor=voter, now=later(1))
        except Exception as refused:  # noqa: BLE001 - the refusal, whatever it is, must be the one shown
            assert shown is not None, name
            assert (type(shown), str(shown)) == (type(refused), str(refused)), name
        else:
            pytest.fail(f"the {name}'s vote was cast without the quote attached")
    assert isinstance(purchase.vote_refusal(case.id, actor=HANA, now=later(1)), SeparationOfDuties)
    assert isinstance(purchase.vote_refusal(case.id, actor=IVAN, now=later(1)), EvidenceMissing)
    assert purchase.history(case.id) == before
    purchase.attach_evidence(case.id, "quote", actor=BUYER, now=later(1))
    assert isinstance(purchase.vote_refusal(case.id, actor=BUYER, now=later(1)), NotAnApprover)
    assert purchase.vote_refusal(case.id, actor=IVAN, now=later(2)) is None
    assert purchase.approve(case.id, actor=IVAN, now=later(2)).state == "approve"
    assert isinstance(purchase.vote_refusal(case.id, actor=IVAN, now=later(2)), NotAnApprover)
