"""A token scoped to one role reads no more than that role does: the scope bounds what it sees, not only its acts.

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

from datetime import timedelta

import pytest

from ..api.live_server import ADMIN, PAYLOAD, T0, in_process
from ..cli.test_engine_commands import database  # noqa: F401 (fixture: both databases)


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
