"""Attacks on who acts, from the command line and the Python API, on SQLite and PostgreSQL: each is refused.

The directory holds the suite's cast (tests/directory_fixtures.py): ann requests, bob works the
service desk, hana, ivan, jade and kim hold budget-holder in purchase-approval, admin administers.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from backoffice.definitions import LIBRARY
from backoffice.engine import Actor, Engine
from backoffice.errors import (AlreadyBootstrapped, BadToken, DelegationRefused, DirectoryConflict, InactiveActor,
                               NotAdministrator, NotAuthorizedOnBehalf, NotEligibleForTask, RoleNotHeld,
                               TransitionNotAllowed, UnknownActor)
from backoffice.store import SqlStore
from backoffice.store.tables import cases

from ..cli.test_engine_commands import PAYLOAD, backoffice, database  # noqa: F401 (fixtures)
from ..directory_fixtures import ADMIN, Login, seed, token_for
from ..engine.service_request import T0, later, payload

SERVICE_REQUEST = LIBRARY / "service-request.yaml"
PURCHASE = Path(__file__).parents[1] / "engine" / "purchase-approval.yaml"


@pytest.fixture
def deployed(engine: Engine) -> Engine:
    engine.deploy(SERVICE_REQUEST, actor="lead", now=T0)
    engine.deploy(PURCHASE, actor="lead", now=T0)
    return engine


def purchase_in_approval(engine: Engine):
    case = engine.start_case("purchase-approval", {"item": "laptop", "amount": 1800}, actor=Actor("ann"), now=T0)
    case = engine.transition(case.id, "prepare", actor=Actor("bea", "buyer"), expected_version=case.version, now=T0)
    case = engine.transition(case.id, "approve", actor=Actor("bea", "buyer"), expected_version=case.version, now=T0,
                             data={"supplier": "Acme"})
    engine.attach_evidence(case.id, "quote", actor=Actor("bea"), now=T0, reference="dms://quotes/77")
    return case


def case_rows(database: str) -> int:
    with SqlStore.open(database) as store, store.engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).select_from(cases)).scalar_one()


# --- the command line ---

def test_as_without_the_administrator_role_is_refused_and_writes_nothing(database, backoffice):
    assert backoffice("deploy", SERVICE_REQUEST, Login("lead"))[0] == 0
    status, _, err = backoffice("case", "start", "service-request", "--data", json.dumps(PAYLOAD), Login("bob"),
                                "--as", "ann")
    assert status == 2 and "bob may not act on behalf of ann" in err and "Traceback" not in err
    assert case_rows(database) == 0


def test_an_administrator_acting_for_someone_is_recorded_as_on_behalf(database, backoffice):
    backoffice("deploy", SERVICE_REQUEST, Login("lead"))
    status, out, err = backoffice("case", "start", "service-request", "--data", json.dumps(PAYLOAD), Login(ADMIN),
                                  "--as", "Ann ")
    assert status == 0, err
    shown = json.loads(backoffice("case", "show", "1", "--json")[1])
    assert shown["requester"] == "ann"
    assert shown["history"][0]["resource"] == ADMIN and shown["history"][0]["attributes"]["on_behalf_of"] == "ann"
    assert "admin on behalf of ann" in backoffice("case", "show", "1")[1]


def test_user_and_a_forged_actor_variable_do_not_make_anyone_someone(database, backoffice, monkeypatch):
    backoffice("deploy", SERVICE_REQUEST, Login("lead"))
    # The variables a login name is often read from, and the old BACKOFFICE_ACTOR: none is who acts.
    for variable in ("USER", "LOGNAME", "USERNAME", "BACKOFFICE_ACTOR"):
        monkeypatch.setenv(variable, "lead")
    status, _, err = backoffice("case", "start", "service-request", "--data", json.dumps(PAYLOAD))
    assert status == 2 and "no identity" in err and "BACKOFFICE_TOKEN" in err
    assert case_rows(database) == 0


def test_a_role_not_held_is_refused_on_the_command_line(database, backoffice):
    backoffice("deploy", SERVICE_REQUEST, Login("lead"))
    backoffice("case", "start", "service-request", "--data", json.dumps(PAYLOAD), Login("ann"))
    status, _, err = backoffice("case", "transition", "1", "triage", "--expected-version", "1", Login("ann"),
                                "--role", "service-desk")
    assert status == 2 and "ann does not hold the role 'service-desk' in service-request" in err


@pytest.mark.parametrize("spoiled", ["unknown", "revoked", "expired"])
def test_a_bad_token_is_refused(database, backoffice, monkeypatch, capsys, spoiled):
    backoffice("deploy", SERVICE_REQUEST, Login("lead"))
    now = datetime.now(timezone.utc)
    with SqlStore.open(database) as store:
        engine = seed(Engine(store))
        # Made long ago for five minutes (expired), or now and revoked at once.
        made = engine.create_token("bob", actor=ADMIN, now=T0 if spoiled == "expired" else now,
                                   valid_for=timedelta(minutes=5))
        if spoiled == "revoked":
            engine.revoke_token(made.token.id, actor=ADMIN, now=now)
    monkeypatch.setenv("BACKOFFICE_TOKEN", "bo_" + "x" * 43 if spoiled == "unknown" else made.secret)
    from backoffice.cli.app import main
    with pytest.raises(SystemExit) as exit_:
        main(["case", "start", "service-request", "--data", json.dumps(PAYLOAD)])
    assert exit_.value.code == 2
    expected = {"unknown": "is not a token of this directory", "revoked": "was revoked", "expired": "expired at"}
    assert expected[spoiled] in capsys.readouterr().err
    assert case_rows(database) == 0


def test_a_deactivated_persons_token_stops_working(database, backoffice):
    backoffice("deploy", SERVICE_REQUEST, Login("lead"))
    assert backoffice("case", "start", "service-request", "--data", json.dumps(PAYLOAD), Login("ann"))[0] == 0
    assert backoffice("directory", "person", "deactivate", "ann", Login(ADMIN))[0] == 0
    status, _, err = backoffice("case", "start", "service-request", "--data", json.dumps(PAYLOAD), Login("ann"))
    assert status == 2 and "'ann' is deactivated" in err
    assert case_rows(database) == 1


def test_bootstrap_twice_is_refused(database, backoffice):
    assert backoffice("directory", "bootstrap", "--admin", "first")[0] == 0
    status, _, err = backoffice("directory", "bootstrap", "--admin", "second")
    assert status == 2 and "bootstrap only works on an empty directory" in err
    with SqlStore.open(database) as store:
        assert [p.id for p in store.people()] == ["first"]


def test_a_non_administrator_cannot_grant_themselves_a_role(database, backoffice):
    backoffice("deploy", SERVICE_REQUEST, Login("lead"))
    status, _, err = backoffice("directory", "grant", "administrator", "--to", "bob", Login("bob"))
    assert status == 2 and "bob may not grant or revoke roles: it needs the administrator role" in err
    with SqlStore.open(database) as store:
        assert "administrator" not in Engine(store).roles_of("bob")


# --- the Python API ---

def test_an_unknown_or_deactivated_person_cannot_act(deployed):
    with pytest.raises(UnknownActor, match="'mallory' is not in the directory"):
        deployed.start_case("service-request", payload(), actor=Actor("mallory"), now=T0)
    deployed.set_active("bob", False, actor=ADMIN, now=T0)
    case = deployed.start_case("service-request", payload(), actor=Actor("ann"), now=T0)
    with pytest.raises(InactiveActor, match="'bob' is deactivated"):
        deployed.transition(case.id, "triage", actor=Actor("bob", "service-desk"), expected_version=1, now=later(1))
    assert deployed.case(case.id).state == "new"


@pytest.mark.parametrize("spelling", ["Bob ", "BOB", " bob", "ＢＯＢ"])
def test_a_respelt_id_is_the_same_person(deployed, spelling):
    case = deployed.start_case("service-request", payload(), actor=Actor(" ANN "), now=T0)
    assert case.requester == "ann"
    moved = deployed.transition(case.id, "triage", actor=Actor(spelling, "service-desk"), expected_version=1,
                                now=later(1))
    assert deployed.history(moved.id)[-1].resource == "bob"
    [task] = deployed.tasks(case_id=case.id)
    deployed.claim(task.id, actor=Actor(spelling, "service-desk"), now=later(1))
    # The claim is bob's under any spelling: the plain one completes it.
    deployed.complete(task.id, actor=Actor("bob", "service-desk"), now=later(1), to="in-progress")
    with pytest.raises(DirectoryConflict, match="'bob' is in the directory already"):
        deployed.add_person(spelling, name="Bob again", actor=ADMIN, now=T0)


def test_forged_roles_on_an_actor_are_ignored(deployed):
    case = deployed.start_case("service-request", payload(), actor=Actor("ann"), now=T0)
    case = deployed.transition(case.id, "triage", actor=Actor("bob", "service-desk"), expected_version=1, now=T0)
    forged = Actor("ann", roles=("service-desk", "administrator"))
    assert deployed.identify(forged, workflow="service-request", now=T0).roles == ()
    with pytest.raises(TransitionNotAllowed, match="is for role service-desk"):
        deployed.transition(case.id, "in-progress", actor=forged, expected_version=2, now=later(1))
    with pytest.raises(NotAdministrator):
        deployed.grant("service-desk", to="ann", actor=forged, now=T0)
    with pytest.raises(RoleNotHeld, match="ann does not hold the role 'administrator'; they hold no role"):
        deployed.identify(Actor("ann", "administrator"), workflow=None, now=T0)


def test_a_role_granted_in_one_workflow_does_not_reach_another(deployed):
    assert "budget-holder" in deployed.identify(Actor("kim"), workflow="purchase-approval", now=T0).roles
    with pytest.raises(RoleNotHeld, match="kim does not hold the role 'budget-holder' in service-request"):
        deployed.identify(Actor("kim", "budget-holder"), workflow="service-request", now=T0)


def test_expired_and_revoked_tokens_are_refused(deployed):
    made = deployed.create_token("bob", actor="bob", now=T0, valid_for=timedelta(hours=1))
    assert deployed.authenticate(made.secret, now=later(0.5)).id == "bob"
    with pytest.raises(BadToken, match="expired"):
        deployed.authenticate(made.secret, now=later(1))
    deployed.revoke_token(made.token.id, actor="bob", now=later(0.5))
    with pytest.raises(BadToken, match="was revoked"):
        deployed.authenticate(made.secret, now=later(0.6))
    with pytest.raises(NotAdministrator):
        deployed.create_token("ann", actor="bob", now=T0)
    # Only a hash is stored: the token itself is nowhere in the database.
    with deployed.store.engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT token_hash FROM api_tokens")).scalars().all()
    assert made.secret not in stored and all(len(value) == 64 for value in stored)


def test_a_token_scoped_to_a_role_cannot_act_in_another(deployed):
    token = token_for(deployed, "lead", now=T0, roles=["service-desk"])
    assert deployed.authenticate(token, now=T0).role == "service-desk"
    with pytest.raises(BadToken, match="scoped to the roles service-desk, not 'service-desk-lead'"):
        deployed.authenticate(token, now=T0, role="service-desk-lead")


def test_acting_for_someone_without_authority_is_refused(deployed):
    with pytest.raises(NotAuthorizedOnBehalf, match="bob may not act on behalf of ann: no delegation"):
        deployed.start_case("service-request", payload(), actor=Actor("bob", on_behalf_of="ann"), now=T0)
    assert deployed.cases() == []


def test_delegation_to_someone_who_lacks_the_role_is_refused(deployed):
    with pytest.raises(DelegationRefused, match="bea does not hold 'budget-holder' themselves"):
        deployed.add_delegation("jade", "bea", starts=T0, ends=later(48), workflow="purchase-approval",
                                role="budget-holder", actor="jade", now=T0)
    with pytest.raises(DelegationRefused, match="bob does not hold 'budget-holder' themselves"):
        deployed.add_delegation("bob", "hana", starts=T0, ends=later(48), role="budget-holder", actor="bob", now=T0)
    with pytest.raises(NotAdministrator):
        deployed.add_delegation("jade", "kim", starts=T0, ends=later(48), actor="bob", now=T0)


def test_a_delegate_acts_on_behalf_and_it_is_recorded(deployed):
    case = purchase_in_approval(deployed)
    deployed.add_delegation("jade", "kim", starts=T0, ends=later(72), workflow="purchase-approval",
                            role="budget-holder", actor="jade", now=T0)
    deployed.approve(case.id, actor=Actor("kim", "budget-holder", on_behalf_of="jade"), now=later(1))
    vote = deployed.history(case.id)[-1]
    assert (vote.activity, vote.resource, vote.attributes["on_behalf_of"]) == ("approve vote", "kim", "jade")
    record = deployed.store.audit_records(after_seq=deployed.store.audit_head().seq - 1)[0]
    assert record.actor == "kim" and json.loads(record.detail)["on_behalf_of"] == "jade"


def test_a_delegate_who_lost_the_role_can_no_longer_use_the_delegation(deployed):
    case = purchase_in_approval(deployed)
    deployed.add_delegation("jade", "kim", starts=T0, ends=later(72), workflow="purchase-approval",
                            actor="jade", now=T0)
    deployed.grant("budget-holder", to="kim", workflow="purchase-approval", actor=ADMIN, now=T0, revoke=True)
    with pytest.raises(NotAuthorizedOnBehalf, match="kim holds none of the delegated roles"):
        deployed.approve(case.id, actor=Actor("kim", on_behalf_of="jade"), now=later(1))


def test_delegation_is_not_transitive(deployed):
    case = purchase_in_approval(deployed)
    deployed.add_delegation("jade", "hana", starts=T0, ends=later(72), workflow="purchase-approval", actor="jade",
                            now=T0)
    deployed.add_delegation("hana", "kim", starts=T0, ends=later(72), workflow="purchase-approval", actor="hana",
                            now=T0)
    # kim may act for hana (her delegator), never for jade through her.
    with pytest.raises(NotAuthorizedOnBehalf, match="kim may not act on behalf of jade: no delegation"):
        deployed.approve(case.id, actor=Actor("kim", "budget-holder", on_behalf_of="jade"), now=later(1))
    assert deployed.identify(Actor("kim", on_behalf_of="hana"), workflow="purchase-approval",
                             now=later(1)).roles == ("budget-holder",)


@pytest.mark.parametrize(("when", "workflow", "role", "why"), [
    (later(-1), "purchase-approval", "budget-holder", "no delegation from jade to kim is in force"),   # not begun
    (later(100), "purchase-approval", "budget-holder", "no delegation from jade to kim is in force"),  # ended
    (later(1), "service-request", None, "no delegation from jade to kim is in force"),               # other workflow
    (later(1), "purchase-approval", "buyer", "no delegation from jade to kim is in force"),          # other role
])
def test_a_delegation_out_of_its_window_or_scope_is_refused(deployed, when, workflow, role, why):
    deployed.add_delegation("jade", "kim", starts=T0, ends=later(72), workflow="purchase-approval",
                            role="budget-holder", actor="jade", now=T0)
    with pytest.raises(NotAuthorizedOnBehalf, match=why):
        deployed.identify(Actor("kim", role, on_behalf_of="jade"), workflow=workflow, now=when)


def test_bootstrap_of_a_directory_with_people_is_refused(deployed):
    with pytest.raises(AlreadyBootstrapped):
        deployed.bootstrap("eve-admin", now=T0)
    assert deployed.store.principal("eve-admin") is None


def test_an_approval_task_is_not_handed_to_someone_without_the_approvers_role(deployed):
    case = purchase_in_approval(deployed)
    with pytest.raises(NotEligibleForTask, match="is for role budget-holder, and bea is not"):
        deployed.delegate(case.id, actor=Actor("hana", "budget-holder"), to="Bea", now=later(1))
    with pytest.raises(UnknownActor):
        deployed.delegate(case.id, actor=Actor("hana", "budget-holder"), to="mallory", now=later(1))
    assert deployed.delegate(case.id, actor=Actor("hana", "budget-holder"), to=" KIM", now=later(1)).assignee == "kim"
