"""The approvals inbox, the exception queues, the board and the administrator's overview, read for one viewer."""

from __future__ import annotations

from backoffice.engine import Actor, Engine
from backoffice.errors import EvidenceMissing, SeparationOfDuties
from backoffice.readmodels import viewer_of
from backoffice.readmodels.administration import overview
from backoffice.readmodels.board import age_text, board, move
from backoffice.readmodels.exception_queues import exception_queues, resolve
from backoffice.readmodels.inbox import inbox

from ..engine.service_request import ANN, DESK, T0, later, payload

BUYER = Actor("bea", "buyer")


def submitted(engine: Engine, *, prepared_by: str = "bea", quote: bool = True):
    case = engine.start_case("purchase-approval", {"item": "laptop", "amount": 1800}, actor=Actor("ann"), now=T0)
    case = engine.transition(case.id, "prepare", actor=BUYER, expected_version=case.version, now=T0)
    case = engine.transition(case.id, "approve", actor=Actor(prepared_by, "buyer"), expected_version=case.version,
                             now=T0, data={"supplier": "Acme"})
    if quote:
        engine.attach_evidence(case.id, "quote", actor=BUYER, now=T0, reference="dms://quotes/77")
    return case


def test_the_inbox_shows_my_approvals_with_evidence_why_and_the_cores_refusal(deployed):
    case = submitted(deployed, prepared_by="hana")
    [ivan_item] = inbox(deployed, viewer_of(deployed, "ivan"), now=later(1))
    assert ivan_item.case.id == case.id
    assert "names you" in ivan_item.why and "person hana" in ivan_item.why
    assert [piece.name for piece in ivan_item.evidence] == ["quote"] and ivan_item.missing_documents == ()
    assert ivan_item.approve_refusal is None and ivan_item.reject_refusal is None
    assert any("whoever acted in prepare" in rule for rule in ivan_item.rules)
    [hana_item] = inbox(deployed, viewer_of(deployed, "hana"), now=later(1))
    assert isinstance(hana_item.approve_refusal, SeparationOfDuties)
    assert "acted in 'prepare'" in str(hana_item.approve_refusal)
    assert inbox(deployed, viewer_of(deployed, "bea"), now=later(1)) == []


def test_the_inbox_says_which_evidence_is_missing_before_the_click(deployed):
    submitted(deployed, quote=False)
    [item] = inbox(deployed, viewer_of(deployed, "jade"), now=later(1))
    assert item.missing_documents == ("quote",)
    assert isinstance(item.approve_refusal, EvidenceMissing) and item.reject_refusal is None


def test_exception_queues_group_by_reason_oldest_first_and_resolve_through_the_core(deployed):
    cases = []
    for hours in (0, 1):
        case = deployed.start_case("service-request", payload(), actor=ANN, now=later(hours))
        case = deployed.transition(case.id, "triage", actor=DESK, expected_version=case.version, now=later(hours))
        cases.append(deployed.raise_exception(case.id, "needs_info", actor=DESK, now=later(hours + 1)))
    admin = viewer_of(deployed, "admin")
    [queue] = exception_queues(deployed, admin)
    assert (queue.reason, [item.case_id for item in queue.items]) == ("needs_info", [c.id for c in cases])
    assert queue.resolver == "role requester"
    # The requester resolves needs_info (the resolver's task is hers); a desk worker sees none of it.
    assert [len(q.items) for q in exception_queues(deployed, viewer_of(deployed, "ann"))] == [2]
    assert exception_queues(deployed, viewer_of(deployed, "carl")) == []
    assert resolve(deployed, cases[0].id, viewer=viewer_of(deployed, "ann"), now=later(3)).state == "triage"
    assert [item.case_id for item in exception_queues(deployed, admin)[0].items] == [cases[1].id]


def test_the_board_counts_cards_per_state_and_a_move_past_an_approval_is_the_cores_refusal(deployed):
    case = submitted(deployed)
    other = deployed.start_case("purchase-approval", {"item": "desk", "amount": 300}, actor=Actor("ann"), now=T0)
    admin = viewer_of(deployed, "admin")
    shown = board(deployed, admin, "purchase-approval", now=later(26))
    columns = {column.state: column for column in shown.columns}
    assert (columns["approve"].count, columns["new"].count, columns["ordered"].count) == (1, 1, 0)
    assert columns["approve"].control and not columns["prepare"].control
    [card] = columns["approve"].cards
    assert (card.case_id, age_text(card.age), card.summary) == (case.id, "1d 2h", "laptop")
    refused = move(deployed, case.id, "ordered", viewer=viewer_of(deployed, "hana"), expected_version=case.version,
                   now=later(27))
    assert not refused.moved and "left only by its decision" in refused.refusal
    assert deployed.case(case.id).state == "approve"
    accepted = move(deployed, other.id, "prepare", viewer=viewer_of(deployed, "bea"), expected_version=other.version,
                    now=later(27))
    assert accepted.moved and accepted.case.state == "prepare"
    stale = move(deployed, other.id, "approve", viewer=viewer_of(deployed, "bea"), expected_version=other.version,
                 now=later(27))
    assert not stale.moved and "version" in stale.refusal
    # Someone with no part in these cases (no queue, role or request of theirs) sees no card.
    assert sum(c.count for c in board(deployed, viewer_of(deployed, "carl"), "purchase-approval",
                                      now=later(27)).columns) == 0


def test_the_administrators_overview_lists_directory_versions_calendars(deployed):
    seen = overview(deployed)
    assert "bob" in {row.person.id for row in seen.people}
    assert ("service-desk",) == next(row.roles for row in seen.people if row.person.id == "bob")
    assert {row.stored.workflow for row in seen.versions} == {"service-request", "purchase-approval"}
    assert all("no control changes" in row.diff.summary or "nothing deployed" in row.diff.summary
               for row in seen.versions)
    calendars = {row.workflow: row for row in seen.calendars}
    assert (calendars["purchase-approval"].timezone, calendars["purchase-approval"].holidays) == \
        ("Europe/Amsterdam", "NL")
    assert seen.pending == () and seen.dead_letters == ()
