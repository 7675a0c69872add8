"""The relying party of OpenID Connect: send a person to their provider, and verify who comes back.

    relying_party = RelyingParty(settings)
    response = await relying_party.redirect(request, redirect_uri)    # to the provider's sign-in
    identity = await relying_party.identity(request)                  # on the callback: verified, or refused

Authlib's Starlette client does the protocol: the provider's endpoints and keys by discovery
from the issuer, the authorization code flow with PKCE (S256), a fresh `state` and `nonce` per
sign-in kept in this browser's short-lived sign-in cookie (see `pages_oidc`) and used once. The ID
token is checked here on top of Authlib's defaults: its signature against the provider's JWKS,
its issuer against the configured one (and discovery must name the same), this app as its
audience (a token minted for another client is refused even when `azp` names this one), its
expiry, and the nonce of this sign-in. What the claims mean for the directory is decided by the
engine (`Engine.sign_in_from_provider`), not here.
"""

from __future__ import annotations

from typing import Any

import warnings

import authlib.deprecate  # noqa: F401  (first: it sets its own "always" filter, which ours below must precede)
import httpx
from joserfc.errors import JoseError

with warnings.catch_warnings():
    # Authlib 1.9 prefers the httpx2 package and falls back to httpx, which it supports, with a warning at import.
    warnings.filterwarnings("ignore", message="The httpx module is deprecated")
    from authlib.integrations.base_client import OAuthError
    from authlib.integrations.starlette_client import OAuth
from starlette.requests import Request
from starlette.responses import Response

from backoffice.engine.sign_in import ProviderIdentity
from backoffice.errors import UserError
from backoffice.services.oidc_settings import OidcSettings

CLIENT_NAME = "provider"
DISCOVERY_PATH = "/.well-known/openid-configuration"
LEEWAY_SECONDS = 60
"""How far the provider's clock may be from ours when checking an ID token's expiry and issue time."""
PROVIDER_TIMEOUT_SECONDS = 10
MAX_GROUPS = 1000


class ProviderAnswerRefused(UserError):
    """A provider's answer this app does not accept: the sign-in proves nothing, and nothing is written.

    Attributes:
        status: the HTTP status of the refusal (400 a broken or forged answer, 403 one the provider refused,
            502/503 the provider unreachable or answering nonsense).
    """

    title = "Sign-in not completed"

    def __init__(self, problem: str, *, status: int = 400,
                 expected: str = "a sign-in started from this app's sign-in page, in this browser") -> None:
        self.problem = problem
        self.status = status
        self.expected = expected
        super().__init__(f"the sign-in could not be completed: {problem}; expected {expected}")


class RelyingParty:
    """This app as an OpenID Connect client of one provider (see the module's text)."""

    def __init__(self, settings: OidcSettings, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        if settings.oidc_issuer is None or settings.oidc_client_secret is None:
            raise ValueError("OpenID Connect is not configured (no issuer or client secret)")
        self.settings = settings
        self.issuer = settings.oidc_issuer
        client_kwargs: dict[str, Any] = {"scope": settings.oidc_scopes, "code_challenge_method": "S256",
                                         "token_endpoint_auth_method": "client_secret_basic",
                                         "timeout": PROVIDER_TIMEOUT_SECONDS}
        if transport is not None:
            client_kwargs["transport"] = transport
        self.oauth = OAuth()
        self.client = self.oauth.register(
            name=CLIENT_NAME, client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret.get_secret_value(),
            server_metadata_url=self.issuer + DISCOVERY_PATH, client_kwargs=client_kwargs)

    async def redirect(self, request: Request, redirect_uri: str) -> Response:
        """Return the redirect to the provider's authorization endpoint (state, nonce and PKCE kept in the session)."""
        await self._metadata()
        try:
            return await self.client.authorize_redirect(request, redirect_uri)
        except (httpx.HTTPError, OAuthError) as exc:
            raise _unreachable(exc) from exc

    async def identity(self, request: Request) -> ProviderIdentity:
        """Return who the provider says signed in, once its answer and ID token are verified.

        Raises:
            ProviderAnswerRefused: the state is not this browser's (or was used), the provider refused or
                failed, the code was refused (used already, or not this sign-in's PKCE verifier), or the ID
                token fails a check (signature, issuer, audience, expiry, nonce), or its claims are malformed.
        """
        error = request.query_params.get("error")
        if error:
            description = request.query_params.get("error_description") or "no description"
            raise ProviderAnswerRefused(f"the provider answered {error[:80]!r} ({description[:200]})", status=403,
                                        expected="a sign-in the provider allows")
        answered_by = request.query_params.get("iss")
        if answered_by is not None and answered_by.rstrip("/") != self.issuer:
            # RFC 9207: the answer names its provider; one from another is a mix-up attack.
            raise ProviderAnswerRefused(f"the answer comes from {answered_by[:200]!r}, not {self.issuer!r}")
        await self._metadata()
        claims_options = {"iss": {"essential": True, "value": self.issuer},
                          "aud": {"essential": True, "value": self.settings.oidc_client_id},
                          "sub": {"essential": True}, "exp": {"essential": True}, "nonce": {"essential": True}}
        try:
            token = await self.client.authorize_access_token(request, claims_options=claims_options,
                                                             leeway=LEEWAY_SECONDS)
        except OAuthError as exc:
            raise _refused_answer(exc) from exc
        except JoseError as exc:
            raise ProviderAnswerRefused(f"the ID token failed its check ({_jose_problem(exc)})") from exc
        except (httpx.HTTPError, ValueError) as exc:
            raise _unreachable(exc) from exc
        claims = token.get("userinfo")
        if not claims:
            raise ProviderAnswerRefused("the provider's answer holds no ID token", status=502,
                                        expected="an OpenID Connect provider (the openid scope is asked for)")
        return self._identity_of(claims)

    # --- inside ---

    async def _metadata(self) -> dict[str, Any]:
        try:
            metadata = await self.client.load_server_metadata()
        except (httpx.HTTPError, ValueError) as exc:
            self.client.server_metadata.clear()
            raise _unreachable(exc) from exc
        if str(metadata.get("issuer", "")).rstrip("/") != self.issuer:
            # OpenID Connect Discovery 1.0, section 4.3: the document must name the issuer it was read from.
            found = metadata.get("issuer")
            self.client.server_metadata.clear()
            raise ProviderAnswerRefused(f"the discovery document names the issuer {found!r}, not {self.issuer!r}",
                                        status=502, expected="BACKOFFICE_OIDC_ISSUER set to the provider's issuer")
        return metadata

    def _identity_of(self, claims: dict[str, Any]) -> ProviderIdentity:
        settings = self.settings
        groups = claims.get(settings.oidc_groups_claim, [])
        if isinstance(groups, str):
            groups = [groups]
        if not isinstance(groups, list) or len(groups) > MAX_GROUPS or not all(
                isinstance(group, str) for group in groups):
            raise ProviderAnswerRefused(f"the claim {settings.oidc_groups_claim!r} is not a list of group names",
                                        expected=f"{settings.oidc_groups_claim!r} as a list of strings")
        email = claims.get("email")
        if not isinstance(email, str) or claims.get("email_verified") is not True:
            # An unverified email proves nothing: anyone may type another's address at some providers.
            email = None
        person_id = None
        if settings.oidc_person_claim == "preferred_username":
            person_id = claims.get("preferred_username")
            if not isinstance(person_id, str) or not person_id.strip():
                raise ProviderAnswerRefused("the ID token has no preferred_username to find the person by",
                                            expected="a provider that sends preferred_username (the profile scope), "
                                                     "or BACKOFFICE_OIDC_PERSON_CLAIM=email")
        elif email is None:
            raise ProviderAnswerRefused("the ID token has no verified email to find the person by", status=403,
                                        expected="an email the provider has verified (email_verified true)")
        name = claims.get("name")
        return ProviderIdentity(issuer=self.issuer, subject=str(claims["sub"]), person_id=person_id, email=email,
                                name=name if isinstance(name, str) else None, groups=tuple(dict.fromkeys(groups)))


def _refused_answer(error: OAuthError) -> ProviderAnswerRefused:
    if error.error == "mismatching_state":
        return ProviderAnswerRefused("its state is not the one this browser's sign-in started with (or it was "
                                     "used already)")
    if error.error == "invalid_grant":
        return ProviderAnswerRefused("the provider refused the code (used already, expired, or not this sign-in's)")
    return ProviderAnswerRefused(f"the provider answered {error.error!r} ({(error.description or '')[:200]})")


def _unreachable(error: Exception) -> ProviderAnswerRefused:
    return ProviderAnswerRefused(f"the identity provider did not answer as expected ({type(error).__name__})",
                                 status=503, expected="the identity provider reachable; try again shortly")


def _jose_problem(error: JoseError) -> str:
    claim = getattr(error, "claim", None)
    return f"{error.error}: {claim}" if claim else f"{error.error}: {error.description or ''}".rstrip(": ")
