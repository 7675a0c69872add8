"""A directory row added or edited in SQL is never acted on: the gate holds the rows it decides by to their records.

A colleague with access to the database grants himself a role (`INSERT INTO role_grants ...`),
reactivates a person, inserts a delegation, or inserts an API token with the hash of a secret of
his choosing. `audit verify` names the row afterwards; these tests show the engine refuses to act
on it meanwhile (the Python API, the command line, HTTP through the real server), writes nothing,
that a forged token authenticates nobody (401, as an unknown token), and that a directory nobody
touched, or changed through the engine, works as before.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa

from backoffice.engine import Actor, Engine, verify
from backoffice.engine.directory import token_hash
from backoffice.errors import BadToken, DefinitionAltered
from backoffice.store import SqlStore
from backoffice.store.tables import api_tokens, delegations, people, role_grants

from ..api.live_server import T0 as API_T0
from ..cli.test_engine_commands import backoffice, database  # noqa: F401 (fixtures: both databases)
from ..directory_fixtures import Login
from .forged_rows import everything_written, named_by_verify, refused_naming, sql
from .spend import BUYER, CAROL, ERIN, T0, deployed, engine, in_approval, later, seed_database  # noqa: F401

ORDERED = {"po_number": "PO-1"}


def forged_grant(store: SqlStore, person: str, role: str = "administrator") -> int:
    return sql(store, sa.insert(role_grants).values(grantee_kind="person", grantee=person, role=role, workflow="",
                                                   granted_by="root", granted_at=T0))


def test_a_grant_inserted_in_sql_is_refused_when_used_and_nothing_is_written(engine):
    deployed(engine)
    engine.grant("buyer", to="lina", actor="root", now=T0)   # bert acts: the gate holds his rows (warm)
    forged = forged_grant(engine.store, "bert")
    before = everything_written(engine.store)
    for engine_now in (engine, Engine(engine.store, audit_key=engine.audit_key)):  # this process, and the next
        refused = refused_naming(engine.store, lambda: engine_now.grant(   # an administrator's act
            "manager", to="bert", actor="bert", now=later(1)),
            f"role_grants row {forged} was added to the database outside the engine")
        message = str(refused)
        assert "nothing was written" in message and "audit verify" in message, message
        assert isinstance(refused, DefinitionAltered)  # the same family: 409 over HTTP, exit 1 on the CLI
        refused_naming(engine.store, lambda: engine_now.start_case(   # any act of his: the gate counts every grant
            "spend-approval", {"item": "pens", "amount": 5.0}, actor=BUYER, now=later(1)), f"role_grants row {forged}")
    assert everything_written(engine.store) == before
    named_by_verify(engine.store, "role_grants", forged)
    # Someone nobody forged anything for acts as ever.
    assert engine.grant("buyer", to="erin", actor="root", now=later(2))


def test_a_grant_in_one_workflow_inserted_in_sql_is_refused_when_claiming_the_next_task(engine):
    deployed(engine)
    in_approval(engine, amount=500.0)             # a manager's vote waits
    forged = sql(engine.store, sa.insert(role_grants).values(
        grantee_kind="person", grantee="bert", role="manager", workflow="spend-approval", granted_by="root",
        granted_at=T0))
    # The gate reads his grants in every workflow at once here.
    refused_naming(engine.store, lambda: engine.next_task(["manager-approvals"], actor=Actor("bert"), now=later(3)),
                   f"role_grants row {forged}")


def test_a_grant_edited_in_sql_after_the_engine_held_it_is_refused(engine):
    deployed(engine)
    engine.start_case("spend-approval", {"item": "pens", "amount": 5.0}, actor=BUYER, now=later(1))  # held as buyer
    [grant] = [grant for grant in engine.store.grants("bert") if grant.role == "buyer"]
    sql(engine.store, sa.update(role_grants).where(role_grants.c.id == grant.id).values(role="administrator"))
    refused_naming(engine.store, lambda: engine.grant("manager", to="bert", actor="bert", now=later(2)),
                   f"role_grants row {grant.id} was changed in the database outside the engine: field role changed")
    named_by_verify(engine.store, "role_grants", grant.id)


def test_a_grant_revoked_by_the_engine_and_put_back_in_sql_is_refused(engine):
    deployed(engine)
    [grant] = [grant for grant in engine.store.grants("erin") if grant.role == "manager"]
    engine.start_case("spend-approval", {"item": "pens", "amount": 5.0}, actor=ERIN, now=later(1))  # held
    engine.grant("manager", to="erin", actor="root", now=later(2), revoke=True)
    sql(engine.store, sa.insert(role_grants).values(id=grant.id, grantee_kind="person", grantee="erin",
                                                   role="manager", workflow="", granted_by="root",
                                                   granted_at=grant.granted_at))
    refused_naming(engine.store, lambda: engine.start_case(
        "spend-approval", {"item": "pens", "amount": 5.0}, actor=ERIN, now=later(3)),
        f"role_grants row {grant.id} was put back in the database outside the engine")


def test_a_person_reactivated_in_sql_is_refused(engine):
    deployed(engine)
    case = in_approval(engine, amount=500.0)     # approve-small: a manager's vote
    engine.set_active("erin", False, actor="root", now=later(2))
    sql(engine.store, sa.update(people).where(people.c.id == "erin").values(active=True))
    refused_naming(engine.store, lambda: engine.approve(case.id, actor=ERIN, now=later(3)),
                   "people row erin was changed in the database outside the engine: field active changed")
    assert engine.store.case(case.id).state == "approve-small"
    named_by_verify(engine.store, "people", "erin")


def test_a_delegation_inserted_in_sql_is_refused_and_one_made_by_the_engine_works(engine):
    deployed(engine)
    acting = Actor("erin", "manager", on_behalf_of="carol")
    made = engine.add_delegation("carol", "erin", starts=T0, ends=T0 + timedelta(days=7), actor="root", now=T0)
    assert engine.identify(acting, workflow="spend-approval", now=later(1)).on_behalf_of == "carol"
    assert made.id is not None
    forged = sql(engine.store, sa.insert(delegations).values(
        delegator="bob", delegate="erin", starts_at=T0, ends_at=T0 + timedelta(days=7), created_by="root",
        created_at=T0))
    refused_naming(engine.store, lambda: engine.identify(Actor("erin", "manager", on_behalf_of="bob"),
                                                         workflow="spend-approval", now=later(2)),
                   f"delegations row {forged} was added to the database outside the engine")
    named_by_verify(engine.store, "delegations", forged)


def test_a_token_row_inserted_in_sql_authenticates_nobody(engine):
    secret = secrets.token_urlsafe(32)
    sql(engine.store, sa.insert(api_tokens).values(
        token_hash=token_hash(secret), principal="root", principal_kind="person", label="", roles=[],
        created_by="root", created_at=T0, expires_at=T0 + timedelta(days=30)))
    for engine_now in (engine, Engine(engine.store, audit_key=engine.audit_key)):
        with pytest.raises(BadToken) as refused:
            engine_now.authenticate_holder(secret, now=later(1))
        assert str(refused.value) == str(pytest.raises(BadToken, engine_now.authenticate_holder,
                                                       secrets.token_urlsafe(32), now=later(1)).value)
        with pytest.raises(BadToken):
            engine_now.authenticate(secret, now=later(1))
    # A token made through the engine authenticates, twice (the second time from the rows the engine held).
    made = engine.create_token("bert", actor="root", now=T0).secret
    for _ in range(2):
        assert engine.authenticate_holder(made, now=later(1))[0].id == "bert"


def test_an_untouched_directory_and_a_grant_made_through_the_engine_work(engine):
    deployed(engine)
    engine.start_case("spend-approval", {"item": "pens", "amount": 5.0}, actor=BUYER, now=later(1))
    engine.grant("manager", to="bert", actor="root", now=later(1))
    for hour in (2, 3):   # the grant held once, then from what this engine held
        assert "manager" in engine.identify(Actor("bert"), workflow="spend-approval", now=later(hour)).roles
    assert engine.identify(CAROL, workflow="spend-approval", now=later(3)).id == "carol"
    assert verify(engine.store).ok


def test_a_grant_inserted_in_sql_is_refused_on_the_command_line(database, backoffice):  # noqa: F811
    seed_database(database)
    with SqlStore.open(database) as store:
        forged = forged_grant(store, "bert")
        before = everything_written(store)
    status, out, err = backoffice("directory", "grant", "manager", "--to", "bert", Login("bert"))
    assert status == 1, (out, err)
    assert f"role_grants row {forged}" in err and "audit verify" in err, err
    assert "Traceback" not in err
    with SqlStore.open(database) as store:
        assert everything_written(store)[1] == before[1]   # no grant (the login made a token, and its record)
        assert "manager" not in {grant.role for grant in store.grants("bert")}
        named_by_verify(store, "role_grants", forged)


def test_over_http_a_forged_grant_is_refused_and_a_forged_token_is_not_known(api):
    store = api.engine.store
    bea = api.client("bea")
    assert bea.get("/v1/tasks", params={"queue": "purchasing"}).status_code == 200   # held as she is
    forged = forged_grant(store, "bea")
    refused_naming(store, lambda: bea.get("/v1/tasks", params={"queue": "purchasing"}), f"role_grants row {forged}")
    secret = secrets.token_urlsafe(32)
    sql(store, sa.insert(api_tokens).values(
        token_hash=token_hash(secret), principal="root", principal_kind="person", label="", roles=[],
        created_by="root", created_at=API_T0, expires_at=API_T0 + timedelta(days=30)))
    with httpx.Client(base_url=api.url, headers={"Authorization": f"Bearer {secret}"}, timeout=30) as forger, \
            httpx.Client(base_url=api.url, headers={"Authorization": f"Bearer {secrets.token_urlsafe(32)}"},
                         timeout=30) as stranger:
        forged_answer, unknown_answer = (client.get("/v1/people") for client in (forger, stranger))
    assert forged_answer.status_code == 401, forged_answer.text
    forged_problem, unknown_problem = ({k: v for k, v in answer.json().items() if k != "request_id"}
                                       for answer in (forged_answer, unknown_answer))
    assert forged_problem == unknown_problem   # nothing says why
    assert api.client("otto").get("/v1/tasks", params={"queue": "purchasing"}).status_code == 200
