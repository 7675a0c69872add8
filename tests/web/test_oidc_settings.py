"""The settings of sign-in with OpenID Connect: a mistake is named by its variable, with what was expected."""

from __future__ import annotations

import pytest

from backoffice.errors import BadOption
from backoffice.services.settings import load_settings

CLIENT = {"BACKOFFICE_OIDC_CLIENT_ID": "backoffice", "BACKOFFICE_OIDC_CLIENT_SECRET": "a-secret-of-the-client"}


@pytest.fixture
def environment(monkeypatch):
    def set_all(values: dict[str, str]) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
    return set_all


def test_off_without_an_issuer():
    assert not load_settings().oidc_enabled


def test_read_from_the_environment(environment):
    environment({"BACKOFFICE_OIDC_ISSUER": "https://login.example.org/realms/ops/", **CLIENT,
                 "BACKOFFICE_OIDC_GROUP_ROLES": '{"ap-clerks": ["service-desk", "approver@purchase-approval"]}',
                 "BACKOFFICE_OIDC_PERSON_CLAIM": "email", "BACKOFFICE_OIDC_PROVISION": "true"})
    settings = load_settings()
    assert settings.oidc_enabled and settings.oidc_issuer == "https://login.example.org/realms/ops"
    assert settings.oidc_group_roles == {"ap-clerks": ["service-desk", "approver@purchase-approval"]}
    assert settings.oidc_person_claim == "email" and settings.oidc_provision


@pytest.mark.parametrize("values, variable, expected", [
    ({"BACKOFFICE_OIDC_ISSUER": "http://login.example.org", **CLIENT}, "BACKOFFICE_OIDC_ISSUER", "https"),
    ({"BACKOFFICE_OIDC_ISSUER": "https://login.example.org"}, "BACKOFFICE_OIDC_CLIENT_ID", "client_secret"),
    ({"BACKOFFICE_OIDC_SCOPES": "email profile"}, "BACKOFFICE_OIDC_SCOPES", "openid"),
    ({"BACKOFFICE_OIDC_GROUP_ROLES": '{"everyone": ["requester"]}'}, "BACKOFFICE_OIDC_GROUP_ROLES", "role names"),
    ({"BACKOFFICE_OIDC_PERSON_CLAIM": "sub"}, "BACKOFFICE_OIDC_PERSON_CLAIM", "preferred_username"),
])
def test_a_mistake_names_its_variable_and_what_was_expected(environment, values, variable, expected):
    environment(values)
    with pytest.raises(BadOption) as refused:
        load_settings()
    assert variable in str(refused.value) and expected in str(refused.value)


def test_a_refusal_never_shows_the_client_secret(environment):
    environment({"BACKOFFICE_OIDC_ISSUER": "https://login.example.org",
                 "BACKOFFICE_OIDC_CLIENT_SECRET": "the-secret-that-must-not-show"})
    with pytest.raises(BadOption) as refused:
        load_settings()
    assert "the-secret-that-must-not-show" not in str(refused.value)
