"""A token scoped to one role reads no more than that role does: the scope bounds what it sees, not only its acts.

Three ways a token scoped to one role did more than that role, each refused now (the first in
the API's one place a bearer token becomes a principal, the others in the engine's gate and
directory, so the command line and the Python API refuse them alike):

- it read as its holder: an auditor's token scoped to the buyer role;
- it minted its holder a token for every role they hold (POST /v1/tokens with no roles);
- an administrator's token scoped to the buyer role still granted roles, made people and tokens;
- it delegated its holder's other roles (an approver's vote) to a colleague.

An auditor (who reads everything) makes herself a token scoped to the buyer role, for a
purchasing script. The token acted as a buyer only, but read as the auditor: the whole audit
trail, every case and its evidence pack, the directory. A script's token that leaks must
leak what its scope allows. Before the fix each read below answered 200; now the token's
principal holds the roles of its scope only (`api.tokens.DirectoryTokens`, the one place a
bearer token becomes a principal), on SQLite and PostgreSQL.

Tried and held: a token scoped to one role acting in another (403/409, test_http_attacks.py);
a token of a deactivated person, expired or revoked (401); a token shown twice (its secret is
only returned when made: listing tokens shows ids and labels, never a secret).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from backoffice.engine import Engine
from backoffice.errors import DelegationRefused, NotAdministrator
from backoffice.store import SqlStore

from ..api.live_server import ADMIN, PAYLOAD, T0, in_process
from ..cli.test_engine_commands import backoffice, database  # noqa: F401 (fixtures: both databases)
from ..directory_fixtures import ADMIN as ROOT, SEEDED_AT, seed


@pytest.fixture
def served(database, tmp_path):  # noqa: F811
    def buyer_too(engine) -> None:
        engine.grant("buyer", to="otto", actor=ADMIN, now=T0)      # otto: auditor, and buyer

    with in_process(database, tmp_path, arrange=buyer_too) as (engine, clock, client):
        alice = engine.create_token("alice", actor=ADMIN, now=T0, valid_for=timedelta(days=30)).secret
        case = client.post("/v1/workflows/purchase-approval/cases", json=PAYLOAD,
                           headers={"Authorization": f"Bearer {alice}"}).json()
        yield engine, client, case


def bearer(engine, person: str, roles: tuple[str, ...] = ()) -> dict[str, str]:
    secret = engine.create_token(person, actor=person, now=T0, roles=roles, valid_for=timedelta(days=30)).secret
    return {"Authorization": f"Bearer {secret}"}


def test_a_token_scoped_to_the_buyer_role_does_not_read_as_its_auditor(served):
    engine, client, case = served
    scoped = bearer(engine, "otto", ("buyer",))
    assert client.get("/v1/audit/verify", headers=scoped).status_code == 403
    assert client.get(f"/v1/cases/{case['id']}/evidence-pack", headers=scoped).status_code == 403
    assert client.get("/v1/people", headers=scoped).status_code == 403
    # alice's new case waits in no queue of the buyer's: out of the scoped token's sight.
    assert client.get(f"/v1/cases/{case['id']}", headers=scoped).status_code == 404
    me = client.get("/v1/me", headers=scoped).json()
    assert me["roles"] == ["buyer"]


def test_the_same_persons_unscoped_token_still_reads_as_an_auditor(served):
    engine, client, case = served
    whole = bearer(engine, "otto")
    assert client.get("/v1/audit/verify", headers=whole).status_code == 200
    assert client.get(f"/v1/cases/{case['id']}", headers=whole).status_code == 200
    assert sorted(client.get("/v1/me", headers=whole).json()["roles"]) == ["auditor", "buyer"]


def test_a_scoped_token_does_not_mint_a_token_for_every_role_of_its_holder(served):
    engine, client, case = served
    scoped = bearer(engine, "otto", ("buyer",))
    before = len(engine.store.tokens("otto"))
    for roles in ([], ["auditor"], ["buyer", "auditor"]):
        answer = client.post("/v1/tokens", json={"principal": "otto", "roles": roles, "label": "mine"}, headers=scoped)
        assert answer.status_code in (400, 422), (roles, answer.status_code, answer.text)
        assert "buyer" in answer.json()["detail"] and "secret" not in answer.json()
    assert len(engine.store.tokens("otto")) == before
    # Within its scope it still makes one (a script's next token).
    same = client.post("/v1/tokens", json={"principal": "otto", "roles": ["buyer"], "label": "next"}, headers=scoped)
    assert same.status_code == 201, same.text


def test_an_administrators_token_scoped_to_another_role_administers_nothing(engine: Engine):
    engine.grant("buyer", to=ROOT, actor=ROOT, now=T0)
    actor = engine.authenticate(bearer(engine, ROOT, ("buyer",))["Authorization"].split()[1], now=T0)
    with pytest.raises(NotAdministrator, match="acting in role buyer"):
        engine.grant("auditor", to="ann", actor=actor, now=T0)
    with pytest.raises(NotAdministrator):
        engine.add_person("zed", name="Zed", actor=actor, now=T0)
    with pytest.raises(NotAdministrator):
        engine.create_token("ann", actor=actor, now=T0)
    assert "auditor" not in engine.roles_of("ann")
    assert engine.store.principal("zed") is None
    # The same administrator, acting in no role, administers as before.
    engine.grant("auditor", to="ann", actor=ROOT, now=T0)
    assert "auditor" in engine.roles_of("ann")


def test_scoped_tokens_mint_and_administer_nothing_wider_on_the_command_line(database, backoffice,  # noqa: F811
                                                                             monkeypatch):
    now = datetime.now(timezone.utc)
    with SqlStore.open(database) as store:
        engine = seed(Engine(store))
        engine.grant("buyer", to=ROOT, actor=ROOT, now=SEEDED_AT)
        hana = engine.create_token("hana", actor=ROOT, now=now, roles=("buyer",), valid_for=timedelta(days=1)).secret
        root = engine.create_token(ROOT, actor=ROOT, now=now, roles=("buyer",), valid_for=timedelta(days=1)).secret
        tokens = len(engine.store.tokens())
    monkeypatch.setenv("BACKOFFICE_TOKEN", hana)
    status, out, err = backoffice("directory", "token", "create", "--label", "wider")
    assert status == 2 and "buyer only" in err and "bo_" not in out
    monkeypatch.setenv("BACKOFFICE_TOKEN", root)
    status, _, err = backoffice("directory", "grant", "auditor", "--to", "ann")
    assert status == 2 and "acting in role buyer" in err
    with SqlStore.open(database) as store:
        assert len(store.tokens()) == tokens
        assert "auditor" not in Engine(store).roles_of("ann")


def test_a_scoped_token_delegates_no_other_role_of_its_holder(engine: Engine):
    # hana holds budget-holder and buyer; her script's token is scoped to buyer.
    actor = engine.authenticate(bearer(engine, "hana", ("buyer",))["Authorization"].split()[1], now=T0)
    for role in ("budget-holder", None):
        with pytest.raises(DelegationRefused, match="acting in role buyer"):
            engine.add_delegation("hana", "ivan", starts=T0, ends=T0 + timedelta(days=2), actor=actor, now=T0,
                                  role=role)
    assert engine.store.delegations() == []
    engine.grant("buyer", to="bea", actor=ROOT, now=T0)
    made = engine.add_delegation("hana", "bea", starts=T0, ends=T0 + timedelta(days=2), actor=actor, now=T0,
                                 role="buyer")
    assert made.role == "buyer"
