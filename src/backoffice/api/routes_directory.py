"""The directory over HTTP: people, role grants, API tokens and delegations.

Every change goes through the engine's directory operations, which require the administrator
role (or, for one's own tokens and delegations, being that person) and audit each change.
Reading the directory is for administrators and auditors; anyone may list their own tokens.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field

from backoffice.api.principal import Caller
from backoffice.api.problems import ApiError, documented
from backoffice.api.schemas import Strict
from backoffice.api.services import MAX_ID, Served
from backoffice.services.visibility import READS_EVERYTHING, require
from backoffice.engine.directory import Delegation, Person, Token

router = APIRouter(prefix="/v1", tags=["directory"], responses=documented(400, 401, 403, 413, 422))

PersonId = Annotated[str, Path(min_length=1, max_length=200)]
Text = Field(min_length=1, max_length=200)


class PersonIn(Strict):
    id: str = Text
    name: str = Text
    email: str | None = Field(None, max_length=320)


class PersonOut(BaseModel):
    id: str
    name: str
    email: str | None
    active: bool
    roles: list[str]

    @classmethod
    def of(cls, person: Person, roles: list[str]) -> PersonOut:
        return cls(id=person.id, name=person.name, email=person.email, active=person.active, roles=roles)


class GrantIn(Strict):
    role: str = Text
    workflow: str | None = Field(None, min_length=1, max_length=200, description="Only in this workflow.")


class TokenIn(Strict):
    principal: str = Text
    label: str = Field("", max_length=200)
    roles: list[str] = Field(default_factory=list, max_length=20, description="Scope; empty: every role held.")
    days: int = Field(90, ge=1, le=366)


class TokenOut(BaseModel):
    id: int
    principal: str
    label: str
    roles: list[str]
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, token: Token) -> TokenOut:
        return cls(id=token.id, principal=token.principal, label=token.label, roles=list(token.roles),
                   created_by=token.created_by, created_at=token.created_at, expires_at=token.expires_at,
                   revoked_at=token.revoked_at)


class NewTokenOut(TokenOut):
    secret: str = Field(description="The token itself: shown this once, stored only as its hash.")


class DelegationIn(Strict):
    delegator: str = Text
    delegate: str = Text
    starts: datetime
    ends: datetime
    workflow: str | None = Field(None, min_length=1, max_length=200)
    role: str | None = Field(None, min_length=1, max_length=200)


class DelegationOut(BaseModel):
    id: int
    delegator: str
    delegate: str
    starts_at: datetime
    ends_at: datetime
    workflow: str | None
    role: str | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, delegation: Delegation) -> DelegationOut:
        return cls(id=delegation.id, delegator=delegation.delegator, delegate=delegation.delegate,
                   starts_at=delegation.starts_at, ends_at=delegation.ends_at, workflow=delegation.workflow,
                   role=delegation.role, revoked_at=delegation.revoked_at)


@router.get("/people", response_model=list[PersonOut])
def list_people(served: Served, caller: Caller) -> list[PersonOut]:
    """List the directory's people and their roles (administrators and auditors)."""
    require(caller, READS_EVERYTHING, "read the directory")
    store = served.engine.store
    return [PersonOut.of(person, sorted({grant.role for grant in store.grants(person.id)})) for person in store.people()]


@router.post("/people", response_model=PersonOut, status_code=201, responses=documented(409))
def add_person(body: PersonIn, served: Served, caller: Caller) -> PersonOut:
    """Add a person (administrators); their id is kept in its one canonical spelling."""
    person = served.engine.add_person(body.id, name=body.name, email=body.email, actor=caller.actor(),
                                      now=served.clock())
    return PersonOut.of(person, [])


@router.post("/people/{person_id}/roles", status_code=204, responses={**documented(409)})
def grant_role(person_id: PersonId, body: GrantIn, served: Served, caller: Caller) -> Response:
    """Grant a role, in every workflow or one (administrators)."""
    served.engine.grant(body.role, to=person_id, workflow=body.workflow, actor=caller.actor(), now=served.clock())
    return Response(status_code=204)


@router.post("/people/{person_id}/roles/revoke", status_code=204, responses={**documented(409)})
def revoke_role(person_id: PersonId, body: GrantIn, served: Served, caller: Caller) -> Response:
    """Revoke a role (administrators)."""
    served.engine.grant(body.role, to=person_id, workflow=body.workflow, actor=caller.actor(), now=served.clock(),
                        revoke=True)
    return Response(status_code=204)


@router.post("/people/{person_id}/deactivate", status_code=204)
def deactivate(person_id: PersonId, served: Served, caller: Caller) -> Response:
    """Deactivate a person (administrators): their tokens and delegations stop working at once."""
    served.engine.set_active(person_id, False, actor=caller.actor(), now=served.clock())
    return Response(status_code=204)


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(served: Served, caller: Caller) -> list[TokenOut]:
    """List your tokens (administrators and auditors: everyone's); never their secrets."""
    principal = None if caller.holds(*READS_EVERYTHING) else caller.id
    return [TokenOut.of(token) for token in served.engine.store.tokens(principal)]


@router.post("/tokens", response_model=NewTokenOut, status_code=201)
def create_token(body: TokenIn, served: Served, caller: Caller) -> NewTokenOut:
    """Make a token for yourself (or, as an administrator, for anyone); its secret is shown once."""
    made = served.engine.create_token(body.principal, actor=caller.actor(), now=served.clock(), label=body.label,
                                      roles=body.roles, valid_for=timedelta(days=body.days))
    return NewTokenOut(**TokenOut.of(made.token).model_dump(), secret=made.secret)


@router.post("/tokens/{token_id}/revoke", status_code=204, responses=documented(404))
def revoke_token(token_id: Annotated[int, Path(ge=1, le=MAX_ID)], served: Served, caller: Caller) -> Response:
    """Revoke a token (its owner, or an administrator)."""
    if not served.engine.revoke_token(token_id, actor=caller.actor(), now=served.clock()):
        raise ApiError(404, f"no live token {token_id}", pointer="/path/token_id",
                       expected="the id of a token that is not revoked (GET /v1/tokens)", title="Not found")
    return Response(status_code=204)


@router.post("/delegations", response_model=DelegationOut, status_code=201, responses=documented(409))
def add_delegation(body: DelegationIn, served: Served, caller: Caller) -> DelegationOut:
    """Let someone act for a person for a while (that person, or an administrator); the delegate must be eligible."""
    made = served.engine.add_delegation(body.delegator, body.delegate, starts=body.starts, ends=body.ends,
                                        workflow=body.workflow, role=body.role, actor=caller.actor(),
                                        now=served.clock())
    return DelegationOut.of(made)
