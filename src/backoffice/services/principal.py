"""Who is acting, as the interfaces see them: a person or service account with their roles and queues.

The API makes a `Principal` from a bearer token, the web app from a signed-in session; both
ask `principal_of` for what the directory says of the holder. What a principal may *do* is
decided again in each act by the engine's gate and checks; what they may *see* by `visibility`.
"""

from __future__ import annotations

from dataclasses import dataclass

from backoffice.engine import Engine
from backoffice.engine.cases import Actor
from backoffice.engine.directory import PrincipalKind


@dataclass(frozen=True)
class Principal:
    """An authenticated person or service account, as the directory knows them.

    Attributes:
        id: the canonical person or service-account id.
        roles: every role the directory grants them.
        queues: the work queues they are a member of.
        service: True for a service account (a system or a script), False for a person.
        role: the one role the token is scoped to, when it is; the holder then acts in it only.
        name: how people call them (the directory's name), for pages.
    """

    id: str
    roles: tuple[str, ...] = ()
    queues: tuple[str, ...] = ()
    service: bool = False
    role: str | None = None
    name: str | None = None

    def actor(self) -> Actor:
        """Return the engine's actor for this principal: who, and the role their token is scoped to.

        The engine's gate takes only the id and that role from it, and finds the roles the
        directory grants in the workflow at hand itself.
        """
        return Actor(self.id, self.role)

    def holds(self, *roles: str) -> bool:
        """Whether they hold any of `roles`."""
        return any(role in self.roles for role in roles)


def principal_of(engine: Engine, principal_id: str, *, role: str | None = None) -> Principal:
    """Return the principal the directory knows under `principal_id` (already checked active by the caller).

    Roles granted in one workflow only count there (the gate applies them per act); for what
    the holder may see, every role they hold anywhere counts.
    """
    store = engine.store
    found = store.principal(principal_id)
    roles = tuple(dict.fromkeys([*engine.roles_of(principal_id), *(g.role for g in store.grants(principal_id))]))
    queues = tuple(queue for queue, member in store.queue_members() if member == principal_id)
    person = store.person(principal_id)
    return Principal(principal_id, roles=roles, queues=queues, role=role,
                     service=found is not None and found.kind is PrincipalKind.SERVICE,
                     name=person.name if person is not None else None)
