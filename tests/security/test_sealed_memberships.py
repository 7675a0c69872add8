"""A group or queue membership added or moved in SQL is never acted on: the gate holds the memberships it counts.

A colleague with access to the database does not grant himself a role: he joins a group that
holds it (`INSERT INTO group_members ...`), moves his membership of a harmless group to an
administrators' group (`UPDATE group_members SET group_id = ...`), or joins a work queue to read
its tasks (`INSERT INTO queue_members ...`). `audit verify` names the row afterwards; these tests
show the engine refuses to act on it meanwhile (the Python API, the command line, HTTP through
the real server, the web's reads of who looks), writes nothing, and that memberships made through
the engine work as before.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from backoffice.engine import Actor, Engine
from backoffice.engine.directory_seal import decided_by
from backoffice.errors import DefinitionAltered
from backoffice.readmodels import viewer_of
from backoffice.services.principal import principal_of
from backoffice.store import SqlStore
from backoffice.store.tables import group_members, queue_members, role_grants

from ..cli.test_engine_commands import backoffice, database  # noqa: F401 (fixtures: both databases)
from ..directory_fixtures import Login
from .forged_rows import everything_written, named_by_verify, refused_naming, sql
from .spend import BUYER, T0, deployed, engine, in_approval, later, seed_database  # noqa: F401


def membership(group_or_queue: str, person: str) -> str:
    """How the audit trail (and so an error) names a membership row: the JSON of its two values."""
    return f'["{group_or_queue}","{person}"]'


def admins_group(engine: Engine, *members: str) -> None:
    """A group `admins` holding the administrator role, with `members` added through the engine."""
    engine.add_group("admins", actor="root", now=T0)
    engine.grant("administrator", to="admins", actor="root", now=T0)
    for member in members:
        engine.add_to_group("admins", member, actor="root", now=T0)


def test_a_group_membership_inserted_in_sql_gives_no_role_and_nothing_is_written(engine):
    deployed(engine)
    admins_group(engine, "erin")
    engine.start_case("spend-approval", {"item": "pens", "amount": 5.0}, actor=BUYER, now=later(1))  # bert held
    sql(engine.store, sa.insert(group_members).values(group_id="admins", person_id="bert"))
    before = everything_written(engine.store)
    forged = f"group_members row {membership('admins', 'bert')}"
    for engine_now in (engine, Engine(engine.store, audit_key=engine.audit_key)):  # this process, and the next
        refused = refused_naming(engine.store, lambda: engine_now.grant(   # an administrator's act
            "manager", to="bert", actor="bert", now=later(2)), f"{forged} was added to the database outside the engine")
        assert isinstance(refused, DefinitionAltered)   # 409 over HTTP, exit 1 on the CLI
        refused_naming(engine.store, lambda: engine_now.start_case(   # any act of his: it reaches a grant he holds
            "spend-approval", {"item": "pens", "amount": 5.0}, actor=BUYER, now=later(2)), forged)
        refused_naming(engine.store, lambda: engine_now.roles_of("bert"), forged)
    assert everything_written(engine.store) == before
    assert "manager" not in {grant.role for grant in engine.store.grants("bert")}
    named_by_verify(engine.store, "group_members", membership("admins", "bert"))
    # A member the engine added acts as an administrator, as ever.
    assert engine.grant("buyer", to="lina", actor="erin", now=later(3))


def test_a_group_membership_moved_in_sql_to_another_group_is_refused(engine):
    deployed(engine)
    admins_group(engine)
    engine.add_group("staff", actor="root", now=T0)
    engine.add_to_group("staff", "bert", actor="root", now=T0)   # a group that grants nothing
    engine.start_case("spend-approval", {"item": "pens", "amount": 5.0}, actor=BUYER, now=later(1))
    sql(engine.store, sa.update(group_members).where(group_members.c.group_id == "staff",
                                                     group_members.c.person_id == "bert").values(group_id="admins"))
    refused_naming(engine.store, lambda: engine.add_person("mole", name="Mole", actor="bert", now=later(2)),
                   f"group_members row {membership('admins', 'bert')} was added to the database outside the engine")


def test_a_group_membership_inserted_in_sql_is_refused_when_claiming_the_next_task(engine):
    deployed(engine)
    in_approval(engine, amount=500.0)             # a manager's vote waits in manager-approvals
    engine.add_group("approvers", actor="root", now=T0)
    engine.grant("manager", to="approvers", workflow="spend-approval", actor="root", now=T0)
    sql(engine.store, sa.insert(group_members).values(group_id="approvers", person_id="bert"))
    # The gate reads his grants in every workflow at once here.
    refused_naming(engine.store, lambda: engine.next_task(["manager-approvals"], actor=Actor("bert"), now=later(3)),
                   f"group_members row {membership('approvers', 'bert')}")


def test_a_groups_grant_inserted_in_sql_is_refused(engine):
    deployed(engine)
    engine.add_group("staff", actor="root", now=T0)
    engine.add_to_group("staff", "bert", actor="root", now=T0)
    forged = sql(engine.store, sa.insert(role_grants).values(grantee_kind="group", grantee="staff",
                                                            role="administrator", workflow="", granted_by="root",
                                                            granted_at=T0))
    refused_naming(engine.store, lambda: engine.grant("manager", to="bert", actor="bert", now=later(2)),
                   f"role_grants row {forged} was added to the database outside the engine")


def test_memberships_inserted_in_sql_refuse_a_token_to_authenticate_its_holder(engine):
    made = engine.create_token("bert", actor="root", now=T0).secret
    assert engine.authenticate_holder(made, now=later(1))[1].queues == ()    # held as they are
    sql(engine.store, sa.insert(queue_members).values(queue="manager-approvals", person_id="bert"))
    for engine_now in (engine, Engine(engine.store, audit_key=engine.audit_key)):
        refused_naming(engine.store, lambda: engine_now.authenticate_holder(made, now=later(2)),
                       f"queue_members row {membership('manager-approvals', 'bert')} was added to the database "
                       f"outside the engine")
    sql(engine.store, sa.delete(queue_members))
    admins_group(engine)
    sql(engine.store, sa.insert(group_members).values(group_id="admins", person_id="bert"))
    refused_naming(engine.store, lambda: engine.authenticate_holder(made, now=later(3)),
                   f"group_members row {membership('admins', 'bert')}")


def test_a_queue_membership_inserted_in_sql_shows_its_queue_to_nobody_on_the_web(engine):
    engine.add_to_queue("review", "lina", actor="root", now=T0)
    assert principal_of(engine, "lina").queues == ("review",)
    assert "review" in viewer_of(engine, "lina").queues
    sql(engine.store, sa.insert(queue_members).values(queue="manager-approvals", person_id="lina"))
    for read in (lambda: principal_of(engine, "lina"), lambda: viewer_of(engine, "lina")):
        refused_naming(engine.store, read, f"queue_members row {membership('manager-approvals', 'lina')}")
    named_by_verify(engine.store, "queue_members", membership("manager-approvals", "lina"))


def test_memberships_made_through_the_engine_work(engine):
    deployed(engine)
    admins_group(engine, "lina")
    engine.add_to_queue("review", "lina", actor="root", now=T0)
    for hour in (1, 2):   # held once, then from what this engine held
        assert "administrator" in engine.identify(Actor("lina"), workflow=None, now=later(hour)).roles
        assert engine.queues_of("lina") == ["review"]
    engine.add_to_group("admins", "lina", actor="root", now=later(3), remove=True)
    assert "administrator" not in engine.identify(Actor("lina"), workflow=None, now=later(4)).roles
    # Put back in SQL once the engine removed it: the record that removed it says so.
    sql(engine.store, sa.insert(group_members).values(group_id="admins", person_id="lina"))
    refused_naming(engine.store, lambda: engine.identify(Actor("lina"), workflow=None, now=later(5)),
                   f"group_members row {membership('admins', 'lina')} was put back in the database outside the engine")


def test_a_group_membership_inserted_in_sql_is_refused_on_the_command_line(database, backoffice):  # noqa: F811
    seed_database(database)
    with SqlStore.open(database) as store:
        admins_group(Engine(store))
        sql(store, sa.insert(group_members).values(group_id="admins", person_id="bert"))
        before = everything_written(store)
    status, out, err = backoffice("directory", "grant", "manager", "--to", "bert", Login("bert"))
    assert status == 1, (out, err)
    assert f"group_members row {membership('admins', 'bert')}" in err and "audit verify" in err, err
    assert "Traceback" not in err
    with SqlStore.open(database) as store:
        assert everything_written(store)[1] == before[1]   # no grant (the login made a token, and its record)
        assert "manager" not in {grant.role for grant in store.grants("bert")}


def test_over_http_forged_group_and_queue_memberships_are_refused(api):
    store = api.engine.store
    alice, dave = api.client("alice"), api.client("dave")   # requesters: they work no queue, manage nothing
    assert alice.get("/v1/tasks", params={"queue": "purchasing"}).status_code == 403
    assert dave.get("/v1/people").status_code == 403
    sql(store, sa.insert(queue_members).values(queue="purchasing", person_id="alice"))
    answer = refused_naming(store, lambda: alice.get("/v1/tasks", params={"queue": "purchasing"}), "queue_members row")
    assert "purchasing" in answer.text, answer.text
    sql(store, sa.delete(queue_members).where(queue_members.c.person_id == "alice"))
    admins_group(api.engine)
    sql(store, sa.insert(group_members).values(group_id="admins", person_id="dave"))
    answer = refused_naming(store, lambda: dave.get("/v1/people"), "group_members row")
    assert "dave" in answer.text, answer.text
    assert api.client("bea").get("/v1/tasks", params={"queue": "purchasing"}).status_code == 200


@pytest.mark.parametrize("first, person", [("admins", "bert"), ('say "hi"\\', "zoë"), ("a,b", "日本")])
def test_a_membership_is_held_under_the_key_the_audit_trail_lists_it_by(first, person):
    from backoffice.store.audit_store import BOUND_TABLES
    from backoffice.store.directory_store import membership_row

    for table in (group_members, queue_members):
        row = membership_row(table, first, person)
        assert row[1] == BOUND_TABLES[table.name].key_of(row[3]())
        assert row[2] == decided_by(table.name, row[3]())
