"""The demo workspace: built through the engine from a seeded simulation, the same for the same seed, with work in every state.

One workspace of two weeks is built for the module (about ten seconds), and a second with the
same settings for the determinism test.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from backoffice.definitions.model import StateKind
from backoffice.engine import Actor, Engine, verify
from backoffice.engine.tasks import TaskKind
from backoffice.errors import NotEligibleForTask, SeparationOfDuties
from backoffice.services.accounts import LocalAccounts
from backoffice.store import SqlStore
from backoffice.tour.cast import CAST, REQUESTERS, holders
from backoffice.tour.workspace import TourSettings, build_workspace, prepare_workspace

UNTIL = datetime(2026, 11, 27, 16, 0, tzinfo=timezone.utc)  # a Friday afternoon
SETTINGS = TourSettings(seed=11, weeks=2, cases=90)


def counts(database: Path) -> Counter:
    with SqlStore.open(database) as store, store.engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT workflow, state, COUNT(*) FROM cases GROUP BY workflow, state"))
        return Counter({(workflow, state): count for workflow, state, count in rows})


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    # One audit key for the module's workspace (the suite gives each test its own otherwise).
    keys = tmp_path_factory.mktemp("tour-keys")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BACKOFFICE_AUDIT_KEY", str(keys / "audit.key"))
        patch.setenv("BACKOFFICE_CHECKPOINTS", str(keys / "checkpoints"))
        built = build_workspace(tmp_path_factory.mktemp("tour"), settings=SETTINGS, until=UNTIL)
    return built, keys


@pytest.fixture
def engine(workspace, monkeypatch):
    built, keys = workspace
    monkeypatch.setenv("BACKOFFICE_AUDIT_KEY", str(keys / "audit.key"))
    monkeypatch.setenv("BACKOFFICE_CHECKPOINTS", str(keys / "checkpoints"))
    with SqlStore.open(built.database) as store:
        yield Engine(store)


def test_the_same_seed_builds_the_same_workspace(workspace, tmp_path):
    workspace, _ = workspace
    again = build_workspace(tmp_path / "again", settings=SETTINGS, until=UNTIL)
    assert counts(again.database) == counts(workspace.database)
    assert (again.cases, again.acts) == (workspace.cases, workspace.acts)
    other = build_workspace(tmp_path / "other", settings=TourSettings(seed=12, weeks=2, cases=90), until=UNTIL)
    assert counts(other.database) != counts(workspace.database)


def test_every_state_a_case_entered_has_open_work_unless_automated(workspace, engine):
    workspace, _ = workspace
    # Open work in each state the simulation reached (an automated state holds a case only while the worker runs).
    with engine.store.engine.connect() as connection:
        entered = set(connection.execute(sa.text(
            "SELECT DISTINCT c.workflow, json_extract(e.attributes, '$.to_state') FROM events e "
            "JOIN cases c ON c.id = e.case_id WHERE json_extract(e.attributes, '$.to_state') IS NOT NULL")))
    now_in = counts(workspace.database)
    missing = []
    for workflow, state in sorted(entered):
        kind = engine.running(workflow).definition.state(state).kind
        if kind.is_end or kind is StateKind.AUTOMATED:
            continue
        if not now_in.get((workflow, state)):
            missing.append(f"{workflow}/{state}")
    assert missing == []
    # Every workflow has open work, and finished work in a success end as well as a refusal.
    for workflow in {workflow for workflow, _ in now_in}:
        states = {state for (name, state), count in now_in.items() if name == workflow and count}
        kinds = {engine.running(workflow).definition.state(state).kind for state in states}
        assert kinds - {StateKind.DONE, StateKind.CANCELLED}, workflow
        assert StateKind.DONE in kinds, workflow
    assert workspace.stuck == ()


def test_the_workspace_has_the_simulations_signs(engine):
    events = Counter()
    with engine.store.engine.connect() as connection:
        for activity, in connection.execute(sa.text("SELECT activity FROM events")):
            events[activity.split(" ")[0]] += 1
    tasks = engine.tasks(status=None, limit=1000)
    assert any(task.kind is TaskKind.EXCEPTION for task in tasks)            # exceptions raised and answered
    assert engine.outbox(limit=1000) and any(entry.attempts > 1 for entry in engine.outbox(limit=1000))  # retries
    assert any(task.claimed_by for task in engine.tasks(limit=1000))          # work in hand now


def test_the_audit_trail_of_the_built_workspace_verifies(engine):
    report = verify(engine.store)
    assert report.ok, str(report)


def test_the_cast_signs_in_with_the_printed_passwords_and_holds_its_roles(engine):
    accounts = LocalAccounts(engine)
    for person in CAST:
        assert accounts.verify(person.id, person.password, now=UNTIL) == person.id
        _, roles = engine.store.principal_and_roles(person.id, None)
        assert set(person.roles) <= set(roles)


def test_the_people_act_as_their_roles_and_no_further(engine):
    open_review = next(task for task in engine.tasks(limit=1000)
                       if task.workflow == "purchase-request" and task.state == "review-request")
    holder = open_review.held_by(UNTIL)
    if holder is not None:
        # The tour leaves some work in hand for the next day; whoever holds this one lets it go first.
        engine.release(open_review.id, actor=Actor(holder), now=UNTIL)
    requester = next(person for person in REQUESTERS if person.id != engine.case(open_review.case_id).requester)
    with pytest.raises(NotEligibleForTask):
        engine.claim(open_review.id, actor=Actor(requester.id), now=UNTIL)
    buyer = holders("procurement-buyer")[0]
    claimed = engine.claim(open_review.id, actor=Actor(buyer.id), now=UNTIL)
    assert claimed.claimed_by == buyer.id


def test_a_current_workspace_is_reused(workspace):
    workspace, _ = workspace
    reused = prepare_workspace(workspace.folder, settings=SETTINGS, now=UNTIL)
    assert reused.reused and reused.cases == workspace.cases


def test_the_buyer_who_reviewed_a_purchase_is_refused_as_its_approver_and_the_budget_owner_is_not(engine):
    waiting = [case for case in engine.cases(workflow="purchase-request", state="approve-budget-owner", limit=500)
               if any(event.resource == "hana" and event.attributes.get("from_state") == "review-request"
                      for event in engine.history(case.id))]
    assert waiting, "the tour leaves a purchase Hana reviewed waiting for the budget owner"
    case = waiting[0]
    with pytest.raises(SeparationOfDuties):
        engine.approve(case.id, actor=Actor("hana", "budget-owner"), now=UNTIL)
    assert engine.approve(case.id, actor=Actor("ivan", "budget-owner"), now=UNTIL).state == "create-po"


def test_the_tour_opens_the_public_form_of_each_workflow_it_names(engine):
    from backoffice.tour.cast import PUBLIC_FORMS
    from backoffice.web.pages_public_intake import public_form_of
    from backoffice.web.public_limits import PublicLimits

    class Served:  # what public_form_of reads of the web app's services
        def __init__(self) -> None:
            self.engine, self.clock, self.public = engine, lambda: datetime.now(timezone.utc), PublicLimits()

    for workflow, account in PUBLIC_FORMS.items():
        _, opt_in = public_form_of(Served(), workflow)
        assert opt_in.service_account == account
