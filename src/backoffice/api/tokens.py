"""The directory's API tokens as the server's `Authenticator`.

The directory keeps tokens hashed at rest and knows their holders, scopes, expiry and
revocation (`Engine.authenticate`); the gate knows whether the holder is an active person or
service account and which roles the directory grants them (`Engine.identify`). This adapter
asks both, and adds the queues the holder is a member of. What the holder may then do is
decided again, in each act, by the engine's gate and checks.
"""

from __future__ import annotations

from datetime import datetime

from backoffice.api.principal import Principal
from backoffice.api.problems import NotAuthenticated
from backoffice.engine import Engine
from backoffice.engine.directory import PrincipalKind
from backoffice.errors import BadToken, IdentityError


class DirectoryTokens:
    """Authenticate a bearer token against the directory in the engine's database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def authenticate(self, token: str, *, now: datetime) -> Principal:
        try:
            actor = self.engine.authenticate(token, now=now)
            who = self.engine.identify(actor, workflow=None, now=now)
        except BadToken as exc:
            raise NotAuthenticated(f"the bearer token {_reason(exc)}") from exc
        except IdentityError as exc:
            # A token of someone deactivated (or removed) since proves nothing any more.
            raise NotAuthenticated(str(exc)) from exc
        store = self.engine.store
        principal = store.principal(who.id)
        # Roles granted in one workflow only count there (the gate applies them per act); for what
        # the holder may see, every role they hold anywhere counts.
        roles = tuple(dict.fromkeys([*self.engine.roles_of(who.id), *(g.role for g in store.grants(who.id))]))
        queues = tuple(queue for queue, member in store.queue_members() if member == who.id)
        return Principal(who.id, roles=roles, queues=queues, role=actor.role,
                         service=principal is not None and principal.kind is PrincipalKind.SERVICE)


def _reason(error: BadToken) -> str:
    # The problem alone: the error's advice names the command line's variable, not a header.
    return error.problem
