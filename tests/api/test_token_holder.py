"""The API's token check answers what the directory says now, in one read per request.

`DirectoryTokens.authenticate` reads the token and its holder's grants, groups and queues in one
statement; these tests hold its answer to what `principal_of` (the directory read piece by piece)
answers for the same holder, and show that a revoked token, a deactivated holder and a withdrawn
role count on the very next call (nothing is kept between calls).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from backoffice.api.problems import NotAuthenticated
from backoffice.api.tokens import DirectoryTokens
from backoffice.services.principal import principal_of

from ..directory_fixtures import ADMIN, SEEDED_AT

NOW = SEEDED_AT + timedelta(days=1)


def _token(engine, holder: str, **options) -> str:
    return engine.create_token(holder, actor=ADMIN, now=NOW, **options).secret


def test_a_person_with_direct_group_scoped_grants_and_queues_is_what_the_directory_says(engine):
    engine.add_group("desk-team", actor=ADMIN, now=NOW)
    engine.add_to_group("desk-team", "ann", actor=ADMIN, now=NOW)
    engine.grant("resolver", to="desk-team", actor=ADMIN, now=NOW)
    engine.grant("auditor", to="desk-team", actor=ADMIN, now=NOW, workflow="service-request")
    engine.grant("service-desk", to="ann", actor=ADMIN, now=NOW)
    engine.add_to_queue("service-desk", "ann", actor=ADMIN, now=NOW)
    engine.add_to_queue("approvals", "ann", actor=ADMIN, now=NOW)

    principal = DirectoryTokens(engine).authenticate(_token(engine, "ann"), now=NOW)

    assert principal == principal_of(engine, "ann")
    # Her budget-holder role is granted in the purchase approval only: it counts there only (roles_in).
    # Her group's auditor role in the service desk's workflow counts there, as the gate counts it.
    assert set(principal.roles) == {"resolver", "service-desk"}
    assert set(principal.every_role) == {"resolver", "service-desk", "budget-holder", "auditor"}
    assert principal.scoped == (("purchase-approval", "budget-holder"), ("service-request", "auditor"))
    assert "budget-holder" in principal.roles_in("purchase-approval")
    assert "auditor" in principal.roles_in("service-request") and "auditor" not in principal.roles_in(
        "purchase-approval")
    assert principal.queues == ("approvals", "service-desk")
    assert principal.service is False and principal.name == "Ann"


def test_a_service_account_and_a_role_scoped_token(engine):
    account = engine.store.service_accounts()[0].id
    engine.grant("worker", to=account, actor=ADMIN, now=NOW)

    principal = DirectoryTokens(engine).authenticate(_token(engine, account), now=NOW)
    scoped = DirectoryTokens(engine).authenticate(_token(engine, "lead", roles=("service-desk",)), now=NOW)

    assert principal == principal_of(engine, account)
    assert principal.service is True and "worker" in principal.roles
    # A token scoped to a role reads as that role only (the rest of what its holder holds is not its own).
    assert scoped == replace(principal_of(engine, "lead", role="service-desk"), roles=("service-desk",),
                             listed=("service-desk",))


@pytest.mark.parametrize("change", ["revoke the token", "deactivate the holder", "withdraw the token's role"])
def test_a_change_in_the_directory_counts_on_the_next_call(engine, change):
    tokens = DirectoryTokens(engine)
    issued = engine.create_token("lead", actor=ADMIN, now=NOW, roles=("service-desk",))
    assert tokens.authenticate(issued.secret, now=NOW).id == "lead"

    if change == "revoke the token":
        engine.revoke_token(issued.token.id, actor=ADMIN, now=NOW)
    elif change == "deactivate the holder":
        engine.set_active("lead", False, actor=ADMIN, now=NOW)
    else:
        engine.grant("service-desk", to="lead", actor=ADMIN, now=NOW, revoke=True)

    with pytest.raises(NotAuthenticated):
        tokens.authenticate(issued.secret, now=NOW)


def test_an_unknown_or_expired_token_proves_nobody(engine):
    tokens = DirectoryTokens(engine)
    with pytest.raises(NotAuthenticated):
        tokens.authenticate("not-a-token", now=NOW)
    secret = _token(engine, "bob", valid_for=timedelta(hours=1))
    assert tokens.authenticate(secret, now=NOW).id == "bob"
    with pytest.raises(NotAuthenticated):
        tokens.authenticate(secret, now=NOW + timedelta(hours=1))
