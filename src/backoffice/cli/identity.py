"""Who acts on the command line: established, never asserted by a flag.

A command acts as (a) the principal of the token in BACKOFFICE_TOKEN (a person's or a service
account's), else (b) the directory person mapped to the real operating-system user running it
(the effective uid, not $USER, which anyone can set), else nobody: a clear error says how to
bootstrap the directory or set a token. `--as PERSON` asks to act on behalf of that person,
which the engine's gate allows only to an administrator or a delegate; `--role` chooses among
the roles the directory grants.
"""

from __future__ import annotations

import os
import pwd
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from backoffice.errors import NoIdentity

if TYPE_CHECKING:
    from backoffice.engine import Actor, Engine

TOKEN_VARIABLE = "BACKOFFICE_TOKEN"


def os_user() -> str:
    """Return the name of the operating-system account this process runs as (its effective uid)."""
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:
        # A uid with no passwd entry (some containers): its number is still who it is.
        return f"uid:{os.geteuid()}"


def acting(engine: Engine, *, on_behalf_of: str | None = None, role: str | None = None) -> Actor:
    """Return the actor a command acts as; every engine operation passes it through the gate again.

    Raises:
        BadToken: BACKOFFICE_TOKEN holds an unknown, revoked or expired token.
        NoIdentity: no token, and the operating-system user is mapped to no person.
    """
    from backoffice.engine import Actor

    now = datetime.now(timezone.utc)
    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    if token:
        return engine.authenticate(token, now=now, role=role, on_behalf_of=on_behalf_of)
    user = os_user()
    person = engine.store.person_by_os_user(user)
    if person is None:
        raise NoIdentity(user, empty=engine.store.count_people() == 0)
    return Actor(person.id, role, on_behalf_of=on_behalf_of)
