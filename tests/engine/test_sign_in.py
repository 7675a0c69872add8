"""Sign-in through an identity provider: the person found or provisioned, their mapped roles kept in line, audited."""

from __future__ import annotations

import json

import pytest

from backoffice.engine import Engine, verify
from backoffice.engine.sign_in import SIGN_IN_ACTOR, ProviderIdentity, ScopedRole
from backoffice.errors import SignInNotAllowed

from ..directory_fixtures import ADMIN
from .service_request import T0, later

GROUP_ROLES = {"buyers": ["buyer"], "budget": ["budget-holder@purchase-approval"], "it-admins": ["administrator"]}


def identity(*, person_id: str | None = "zoe", email: str | None = None, groups: tuple[str, ...] = (),
             name: str | None = "Zoe Z") -> ProviderIdentity:
    return ProviderIdentity(issuer="https://idp.example", subject="sub-zoe", person_id=person_id, email=email,
                            name=name, groups=groups)


def system_records(engine: Engine, since: int) -> list:
    return [record for record in engine.store.audit_records(chain="system") if record.seq > since]


def system_head(engine: Engine) -> int:
    return engine.store.audit_heads()["system"].seq


def test_mapped_groups_grant_their_roles_and_a_later_sign_in_without_them_revokes_them(engine):
    engine.add_person("zoe", name="Zoe", actor=ADMIN, now=T0)
    head = system_head(engine)
    signed = engine.sign_in_from_provider(identity(groups=("buyers", "budget", "unmapped")), group_roles=GROUP_ROLES,
                                          provision=False, now=T0)
    assert signed.granted == (ScopedRole("budget-holder", "purchase-approval"), ScopedRole("buyer"))
    assert set(engine.roles_of("zoe", "purchase-approval")) == {"buyer", "budget-holder"}
    records = system_records(engine, head)
    assert [r.action for r in records] == ["role.granted", "role.granted"]
    assert {r.actor for r in records} == {SIGN_IN_ACTOR}
    detail = json.loads(records[0].detail)
    assert detail["issuer"] == "https://idp.example" and detail["subject"] == "sub-zoe"

    again = engine.sign_in_from_provider(identity(groups=("buyers",)), group_roles=GROUP_ROLES, provision=False,
                                         now=later(1))
    assert again.revoked == (ScopedRole("budget-holder", "purchase-approval"),) and again.granted == ()
    assert engine.roles_of("zoe", "purchase-approval") == ["buyer"]
    assert [r.action for r in system_records(engine, head)][2:] == ["role.revoked"]
    assert verify(engine.store).ok


def test_the_same_groups_again_write_nothing(engine):
    engine.add_person("zoe", name="Zoe", actor=ADMIN, now=T0)
    engine.sign_in_from_provider(identity(groups=("buyers",)), group_roles=GROUP_ROLES, provision=False, now=T0)
    head = system_head(engine)
    engine.sign_in_from_provider(identity(groups=("buyers",)), group_roles=GROUP_ROLES, provision=False, now=later(1))
    assert system_head(engine) == head


def test_a_role_granted_by_hand_is_never_revoked_by_sign_in(engine):
    engine.add_person("zoe", name="Zoe", actor=ADMIN, now=T0)
    engine.grant("buyer", to="zoe", actor=ADMIN, now=T0)
    engine.sign_in_from_provider(identity(groups=()), group_roles=GROUP_ROLES, provision=False, now=T0)
    assert engine.roles_of("zoe") == ["buyer"]


def test_a_group_named_like_a_role_grants_nothing_unless_mapped(engine):
    engine.add_person("zoe", name="Zoe", actor=ADMIN, now=T0)
    head = system_head(engine)
    signed = engine.sign_in_from_provider(identity(groups=("administrator", "operator")), group_roles=GROUP_ROLES,
                                          provision=False, now=T0)
    assert signed.granted == () and engine.roles_of("zoe") == []
    assert system_head(engine) == head


def test_an_unknown_person_is_refused_unless_provisioned(engine):
    head = system_head(engine)
    with pytest.raises(SignInNotAllowed, match="not in the directory"):
        engine.sign_in_from_provider(identity(groups=("buyers",)), group_roles=GROUP_ROLES, provision=False, now=T0)
    assert system_head(engine) == head and engine.store.person("zoe") is None

    signed = engine.sign_in_from_provider(identity(person_id="Zoe ", groups=("buyers",), email="zoe@example.com"),
                                          group_roles=GROUP_ROLES, provision=True, now=T0)
    assert signed.provisioned and signed.person.id == "zoe" and signed.person.name == "Zoe Z"
    assert [r.action for r in system_records(engine, head)] == ["person.added", "role.granted"]
    assert engine.roles_of("zoe") == ["buyer"]


def test_a_deactivated_person_is_refused_and_nothing_is_written(engine):
    engine.add_person("zoe", name="Zoe", actor=ADMIN, now=T0)
    engine.set_active("zoe", False, actor=ADMIN, now=T0)
    head = system_head(engine)
    with pytest.raises(SignInNotAllowed, match="deactivated"):
        engine.sign_in_from_provider(identity(groups=("buyers",)), group_roles=GROUP_ROLES, provision=True, now=T0)
    assert system_head(engine) == head
    assert engine.store.grants("zoe") == []


def test_a_person_is_found_by_email_when_asked(engine):
    engine.add_person("z.zed", name="Zoe", email="Zoe@Example.com", actor=ADMIN, now=T0)
    signed = engine.sign_in_from_provider(identity(person_id=None, email="zoe@example.com", groups=("buyers",)),
                                          group_roles=GROUP_ROLES, provision=False, now=T0)
    assert signed.person.id == "z.zed" and engine.roles_of("z.zed") == ["buyer"]


def test_a_service_account_never_signs_in_as_a_person(engine):
    engine.add_service_account("svc-erp", description="the ERP", actor=ADMIN, now=T0)
    with pytest.raises(SignInNotAllowed, match="service account"):
        engine.sign_in_from_provider(identity(person_id="svc-erp", groups=("it-admins",)), group_roles=GROUP_ROLES,
                                     provision=True, now=T0)
    assert engine.store.grants("svc-erp") == []


def test_an_email_two_people_share_finds_neither(engine):
    engine.add_person("zoe", name="Zoe", email="team@example.com", actor=ADMIN, now=T0)
    engine.add_person("zack", name="Zack", email="Team@Example.com", actor=ADMIN, now=T0)
    head = system_head(engine)
    with pytest.raises(SignInNotAllowed, match="2 people of the directory share this email"):
        engine.sign_in_from_provider(identity(person_id=None, email="team@example.com", groups=("buyers",)),
                                     group_roles=GROUP_ROLES, provision=True, now=T0)
    assert system_head(engine) == head
