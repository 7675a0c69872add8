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
        roles: the roles the directory grants them in every workflow: what `holds` answers by.
        scoped: (workflow, role) of each role granted to them in one workflow only: it counts
            there only (`roles_in`, `holds_in`), for what they see as for what they do.
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
    scoped: tuple[tuple[str, str], ...] = ()
    listed: tuple[str, ...] | None = None
    """Every role they hold anywhere, in the order they are shown to them (default: `roles`)."""

    @property
    def every_role(self) -> tuple[str, ...]:
        """Every role they hold, in every workflow or in one: what they are shown (/me, the web's own page)."""
        return self.roles if self.listed is None else self.listed

    def roles_in(self, workflow: str) -> tuple[str, ...]:
        """The roles they hold in `workflow`: those granted everywhere, and those granted there only."""
        return (*self.roles, *(role for scope, role in self.scoped if scope == workflow))

    def holds_in(self, workflow: str, *roles: str) -> bool:
        """Whether they hold any of `roles` in `workflow`."""
        return any(role in self.roles_in(workflow) for role in roles)

    def actor(self) -> Actor:
        """Return the engine's actor for this principal: who, and the role their token is scoped to.

        The engine's gate takes only the id and that role from it, and finds the roles the
        directory grants in the workflow at hand itself.
        """
        return Actor(self.id, self.role)

    def holds(self, *roles: str) -> bool:
        """Whether they hold any of `roles` in every workflow (a role granted in one workflow counts there only)."""
        return any(role in self.roles for role in roles)


def principal_of(engine: Engine, principal_id: str, *, role: str | None = None) -> Principal:
    """Return the principal the directory knows under `principal_id` (already checked active by the caller).

    Roles granted in one workflow only count there, for what the holder may do (the gate, per
    act) as for what they may see (`roles_in`): a grant in one workflow reads nothing of another.
    Both are read as the gate reads them (directly and through groups, every workflow at once),
    each row held to the record that wrote it: a grant inserted in SQL shows nothing (DirectoryAltered).
    """
    store = engine.store
    found = store.principal(principal_id)
    everywhere, scoped = engine.roles_in_every_workflow_and_one(principal_id)
    everywhere = tuple(everywhere)
    listed = tuple(dict.fromkeys([*everywhere, *(role for _, role in scoped)]))
    # Held to the records that wrote them, as the roles are (by the gate's `roles_of`): a membership
    # inserted in SQL shows its queue to nobody (DirectoryAltered).
    queues = tuple(engine.queues_of(principal_id)) if found is not None and found.kind is PrincipalKind.PERSON else ()
    person = store.person(principal_id)
    return Principal(principal_id, roles=everywhere, queues=queues, role=role, scoped=scoped, listed=listed,
                     service=found is not None and found.kind is PrincipalKind.SERVICE,
                     name=person.name if person is not None else None)
