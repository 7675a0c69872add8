"""A grant scoped to one workflow, inserted in SQL, shows that workflow's cases to nobody in the web app.

The gate holds every grant it acts by to the audit record that wrote it (test_sealed_directory),
and the API's token read holds the grants that decide what its holder sees. The web app asked
the directory for the signed-in person's grants scoped to one workflow without holding them:
a colleague with database access who inserts `auditor` (or `team-lead`) in the purchase
approval for himself (`INSERT INTO role_grants ... workflow = 'purchase-approval'`) then read
every purchase case on its page and on the board. Now the web's principal and viewer read the
grants as the gate does (every workflow at once, each row held to its record): the forged grant
is refused (DirectoryAltered, 409 on the web), and a grant made through the engine, a group's
one included, counts in its workflow as ever.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from backoffice.errors import DefinitionAltered
from backoffice.readmodels import viewer_of
from backoffice.services.accounts import LocalAccounts
from backoffice.services.principal import principal_of
from backoffice.store.tables import role_grants

from ..api.live_server import ADMIN, PAYLOAD, T0
from ..cli.test_engine_commands import database  # noqa: F401 (fixture: both databases)
from .forged_rows import everything_written, named_by_verify, refused_naming, sql

PURCHASE = "purchase-approval"


@pytest.fixture
def web(database, tmp_path):  # noqa: F811
    """The web app with mole, a person who holds no role, and one purchase case started by alice."""
    from ..web.site import PASSWORD, build_site
    for site in build_site(database, tmp_path):
        engine = site.engine
        engine.add_person("mole", name="Mole", actor=ADMIN, now=T0)
        cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
        LocalAccounts(engine, hasher=cheap).set_password("mole", PASSWORD, actor=ADMIN, now=T0)
        purchase = engine.start_case(PURCHASE, PAYLOAD, actor="alice", now=T0)
        yield site, purchase


def forged_scoped_grant(site, role: str, workflow: str = PURCHASE) -> int:
    """Grant `role` in `workflow` to mole in SQL, as a colleague with database access would."""
    return sql(site.engine.store, sa.insert(role_grants).values(grantee_kind="person", grantee="mole", role=role,
                                                               workflow=workflow, granted_by=ADMIN, granted_at=T0))


@pytest.mark.parametrize("role", ["auditor", "team-lead"])
def test_a_scoped_grant_inserted_in_sql_shows_no_case_on_the_web(web, role):
    site, purchase = web
    mole = site.client("mole")                       # signed in before the forgery
    assert mole.get(f"/cases/{purchase.id}").status_code == 404
    assert f'href="/cases/{purchase.id}"' not in mole.get(f"/board/{PURCHASE}").text
    forged = forged_scoped_grant(site, role)
    before = everything_written(site.engine.store)
    for client in (mole, site.anonymous()):          # the open session, and one opened after the forgery
        if client is not mole:
            assert site.sign_in(client, "mole").status_code == 303
        for page in (f"/cases/{purchase.id}", f"/board/{PURCHASE}", "/work", "/me"):
            answer = refused_naming(site.engine.store, lambda: client.get(page),
                                    f"role_grants row {forged} was added to the database outside the engine")
            assert PAYLOAD["item"] not in answer.text, page
        refused = client.post(f"/cases/{purchase.id}/comments", data={"body": "seen", "csrf_token": "x"})
        assert refused.status_code in (403, 409)    # no comment: CSRF or the forged grant refuses it
    assert everything_written(site.engine.store) == before
    assert site.engine.comments(purchase.id) == []
    named_by_verify(site.engine.store, "role_grants", forged)


def test_a_scoped_grant_inserted_in_sql_is_refused_by_the_read_models(web):
    site, _ = web
    engine = site.engine
    assert principal_of(engine, "mole").scoped == ()
    assert viewer_of(engine, "mole").every_case_of == ()
    forged = forged_scoped_grant(site, "auditor")
    for read in (lambda: principal_of(engine, "mole"), lambda: viewer_of(engine, "mole")):
        refused = refused_naming(engine.store, read, f"role_grants row {forged} was added to the database outside "
                                                     f"the engine")
        assert isinstance(refused, DefinitionAltered)   # 409 on the web and over HTTP


def test_a_scoped_grant_edited_in_sql_to_another_workflow_is_refused(web):
    site, purchase = web
    engine = site.engine
    engine.grant("auditor", to="mole", actor=ADMIN, now=T0, workflow="supply-request")
    mole = site.client("mole")
    assert mole.get(f"/cases/{purchase.id}").status_code == 404     # an auditor of the supply request only
    [grant] = engine.store.grants("mole")
    sql(engine.store, sa.update(role_grants).where(role_grants.c.grantee == "mole").values(workflow=PURCHASE))
    edited = f"role_grants row {grant.id} was changed in the database outside the engine: field workflow changed"
    refused_naming(engine.store, lambda: mole.get(f"/cases/{purchase.id}"), edited)
    refused_naming(engine.store, lambda: viewer_of(engine, "mole"), edited)


def test_scoped_grants_made_through_the_engine_count_on_the_web_a_groups_too(web):
    site, purchase = web
    engine = site.engine
    mole = site.client("mole")
    assert mole.get(f"/cases/{purchase.id}").status_code == 404
    engine.add_group("purchase-auditors", actor=ADMIN, now=T0)
    engine.grant("auditor", to="purchase-auditors", actor=ADMIN, now=T0, workflow=PURCHASE)
    engine.add_to_group("purchase-auditors", "mole", actor=ADMIN, now=T0)
    # A group's grant in one workflow counts there, on the web as in the gate.
    assert (PURCHASE, "auditor") in principal_of(engine, "mole").scoped
    assert viewer_of(engine, "mole").every_case_of == (PURCHASE,)
    answer = mole.get(f"/cases/{purchase.id}")
    assert answer.status_code == 200 and PAYLOAD["item"] in answer.text
    assert mole.get("/cases/999999").status_code == 404


# --- the other reads of grants that decide an act: a token's scope, a delegate's eligibility ---


def test_no_token_is_scoped_to_a_role_granted_in_sql(web):
    site, _ = web
    engine = site.engine
    forged = forged_scoped_grant(site, "auditor")
    for actor in (ADMIN, "mole"):       # an administrator making it for him, and he himself
        refused_naming(engine.store, lambda: engine.create_token("mole", roles=("auditor",), actor=actor, now=T0),
                       f"role_grants row {forged} was added to the database outside the engine")
    # A grant made through the engine scopes a token as ever.
    sql(engine.store, sa.delete(role_grants).where(role_grants.c.id == forged))
    engine.grant("auditor", to="mole", actor=ADMIN, now=T0, workflow=PURCHASE)
    assert engine.create_token("mole", roles=("auditor",), actor="mole", now=T0).token.roles == ("auditor",)


def test_a_grant_inserted_in_sql_makes_nobody_an_eligible_delegate(web):
    site, _ = web
    engine = site.engine
    starts = site.clock.now
    window = {"starts": starts, "ends": starts + timedelta(days=3), "now": starts}
    # bob is the supply request's clerk (granted through the engine); mole grants himself the role in SQL.
    forged = forged_scoped_grant(site, "clerk", workflow="supply-request")
    refused_naming(engine.store, lambda: engine.add_delegation("bob", "mole", actor="bob", workflow="supply-request",
                                                               role="clerk", **window),
                   f"role_grants row {forged} was added to the database outside the engine")
    sql(engine.store, sa.delete(role_grants).where(role_grants.c.id == forged))
    engine.grant("clerk", to="mole", actor=ADMIN, now=T0, workflow="supply-request")
    assert engine.add_delegation("bob", "mole", actor="bob", workflow="supply-request", role="clerk", **window)
