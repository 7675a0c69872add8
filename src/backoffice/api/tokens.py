"""The directory's API tokens as the server's `Authenticator`.

The directory keeps tokens hashed at rest and knows their holders, roles, queues, expiry and
revocation; this adapter only asks it. Until the directory is in this branch, it refuses
every token: the server never invents who is calling.
"""

from __future__ import annotations

from datetime import datetime

from backoffice.api.principal import Principal
from backoffice.api.problems import NotAuthenticated
from backoffice.engine import Engine


class DirectoryTokens:
    """Authenticate a bearer token against the directory in the engine's database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def authenticate(self, token: str, *, now: datetime) -> Principal:
        raise NotAuthenticated("this server has no directory of API tokens yet")
