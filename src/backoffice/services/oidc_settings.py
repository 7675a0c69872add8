"""The settings of signing in with OpenID Connect: the provider, this app's client, and what its claims mean here.

    BACKOFFICE_OIDC_ISSUER=https://login.example.org/realms/ops
    BACKOFFICE_OIDC_CLIENT_ID=backoffice
    BACKOFFICE_OIDC_CLIENT_SECRET=...
    BACKOFFICE_OIDC_GROUP_ROLES='{"ap-clerks": ["service-desk"], "finance-leads": ["budget-holder@purchase-approval"]}'

Mixed into the server's settings (every field is BACKOFFICE_OIDC_<NAME>). Without an issuer,
sign-in with a provider is off and the sign-in page offers local accounts only.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings

LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
BUILT_IN_ROLES = ("requester",)


class OidcSettings(BaseSettings):
    """Sign-in with an OpenID Connect provider (authorization code flow with PKCE)."""

    oidc_issuer: str | None = Field(None, description="The provider's issuer URL (https; http only on loopback); its "
                                                      "discovery document is read from "
                                                      "<issuer>/.well-known/openid-configuration. Unset: off.")
    oidc_client_secret: SecretStr | None = Field(None, description="This app's client secret at the provider.")
    oidc_client_id: str | None = Field(None, validate_default=True, description="This app's client id at the provider.")
    oidc_provider_name: str = Field("your organisation's account", min_length=1, max_length=60,
                                    description='Shown on the sign-in button: "Sign in with <name>".')
    oidc_scopes: str = Field("openid email profile", description="The scopes asked for, space-separated "
                                                                 "(openid among them).")
    oidc_groups_claim: str = Field("groups", min_length=1, max_length=100,
                                   description="The ID token claim that lists the person's groups.")
    oidc_group_roles: dict[str, list[str]] = Field(
        default_factory=dict, description='The provider\'s groups and the directory roles each maps to, as JSON: '
                                          '{"ap-clerks": ["service-desk"], "leads": ["approver@purchase-approval"]}. '
                                          'Sign-in grants and revokes these roles only.')
    oidc_person_claim: Literal["preferred_username", "email"] = Field(
        "preferred_username", description="How a person of the directory is found: by their id equal to the "
                                          "preferred_username claim, or by their email equal to the (verified) "
                                          "email claim.")
    oidc_provision: bool = Field(False, description="Add a person the directory does not know at their first "
                                                    "sign-in (else they are refused until an administrator adds them).")

    @property
    def oidc_enabled(self) -> bool:
        return self.oidc_issuer is not None

    @field_validator("oidc_issuer")
    @classmethod
    def _issuer_is_https(cls, issuer: str | None) -> str | None:
        if issuer is None or not issuer.strip():
            return None
        parts = urlsplit(issuer.strip())
        loopback = parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
        if not (parts.scheme == "https" or loopback) or not parts.hostname or parts.query or parts.fragment:
            raise ValueError(f"{issuer!r} is not an issuer URL; expected https://host/path (http only on loopback)")
        return issuer.strip().rstrip("/")

    @field_validator("oidc_scopes")
    @classmethod
    def _openid_scope(cls, scopes: str) -> str:
        if "openid" not in scopes.split():
            raise ValueError(f"{scopes!r} lacks the openid scope; expected space-separated scopes such as "
                             f"'openid email profile'")
        return " ".join(scopes.split())

    @field_validator("oidc_group_roles")
    @classmethod
    def _roles_are_roles(cls, group_roles: dict[str, list[str]]) -> dict[str, list[str]]:
        for group, roles in group_roles.items():
            for role in roles:
                name = role.partition("@")[0].strip()
                if not name or name in BUILT_IN_ROLES or any(ord(c) < 32 for c in role):
                    raise ValueError(f"group {group!r} maps to {role!r}, not a role the directory grants; expected "
                                     f"role names such as approver or approver@purchase-approval (requester is "
                                     f"built in)")
        return group_roles

    @field_validator("oidc_client_id")
    @classmethod
    def _client_when_enabled(cls, client_id: str | None, info: ValidationInfo) -> str | None:
        # Checked on the client id (declared after the secret) so a refusal never echoes the secret.
        client_id = (client_id or "").strip() or None
        if info.data.get("oidc_issuer") is not None and not (client_id and info.data.get("oidc_client_secret")):
            raise ValueError("sign-in with OpenID Connect needs BACKOFFICE_OIDC_CLIENT_ID and "
                             "BACKOFFICE_OIDC_CLIENT_SECRET beside BACKOFFICE_OIDC_ISSUER")
        return client_id
