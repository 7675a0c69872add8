"""The directory's API tokens as the server's `Authenticator`.

The directory keeps tokens hashed at rest and knows their holders, scopes, expiry and
revocation (`Engine.authenticate`); the gate knows whether the holder is an active person or
service account and which roles the directory grants them (`Engine.identify`). This adapter
asks both, and adds the queues the holder is a member of. What the holder may then do is
decided again, in each act, by the engine's gate and checks.
"""

from __future__ import annotations

from datetime import datetime

from backoffice.api.problems import NotAuthenticated
from backoffice.engine import Engine
from backoffice.errors import BadToken, IdentityError
from backoffice.engine.directory import PrincipalKind
from backoffice.services.principal import Principal


class DirectoryTokens:
    """Authenticate a bearer token against the directory in the engine's database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def authenticate(self, token: str, *, now: datetime) -> Principal:
        try:
            # One read of the directory per request (the token, its holder, their grants, groups and
            # queues), with every check of `Engine.authenticate` and `Engine.identify`.
            actor, holder = self.engine.authenticate_holder(token, now=now)
        except BadToken as exc:
            raise NotAuthenticated(f"the bearer token {_reason(exc)}") from exc
        except IdentityError as exc:
            # A token of someone deactivated (or removed) since proves nothing any more.
            raise NotAuthenticated(str(exc)) from exc
        # What `principal_of` answers, from the same read: roles granted everywhere, and those of
        # grants scoped to one workflow, which count in that workflow only (to act and to see).
        roles, scoped = holder.roles, holder.scoped
        listed = tuple(dict.fromkeys([*roles, *(role for _, role in scoped)]))
        if holder.token.roles:
            # A token scoped to roles reads as those roles only, as it acts: a script's token of an
            # auditor, scoped to the buyer role, does not read the audit trail when it leaks.
            roles = tuple(role for role in roles if role in holder.token.roles)
            scoped = tuple((workflow, role) for workflow, role in scoped if role in holder.token.roles)
            listed = tuple(role for role in listed if role in holder.token.roles)
        return Principal(actor.id, roles=roles, queues=holder.queues, role=actor.role,
                         scoped=scoped, listed=listed,
                         service=holder.principal is not None and holder.principal.kind is PrincipalKind.SERVICE,
                         name=holder.name)


def _reason(error: BadToken) -> str:
    # The problem alone: the error's advice names the command line's variable, not a header.
    return error.problem
