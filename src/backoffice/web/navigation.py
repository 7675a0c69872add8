"""The navigation bar: one line per page, shown to the people whose roles may use it.

A page module adds its entry here (one line). `roles` None: every signed-in person; otherwise
people holding any of those roles. Hiding a link is for tidiness only: each page checks
again (visibility, and the engine's gate for every act).
"""

from __future__ import annotations

from dataclasses import dataclass

from backoffice.services.dashboard_access import DASHBOARD_ROLES
from backoffice.services.principal import Principal


@dataclass(frozen=True)
class NavItem:
    label: str
    path: str
    roles: tuple[str, ...] | None = None
    in_one_workflow: bool = False
    """Shown for a role granted in one workflow too (the page then shows that workflow's figures only)."""

    def shown_to(self, user: Principal) -> bool:
        if self.roles is None:
            return True
        return any(role in user.every_role for role in self.roles) if self.in_one_workflow else user.holds(*self.roles)


NAVIGATION: list[NavItem] = [
    NavItem("Start a request", "/requests/new"),
    NavItem("My requests", "/requests"),
    NavItem("My work", "/work"),
    NavItem("Approvals", "/approvals"),
    NavItem("Exceptions", "/exceptions"),
    NavItem("Board", "/board"),
    NavItem("Dashboards", "/dashboards", roles=DASHBOARD_ROLES, in_one_workflow=True),
    NavItem("Live map", "/live-map", roles=DASHBOARD_ROLES, in_one_workflow=True),
    NavItem("Administration", "/admin", roles=("administrator",)),
]


def navigation_for(user: Principal | None) -> list[NavItem]:
    """Return the entries `user` sees, in order (none before signing in)."""
    if user is None:
        return []
    return [item for item in NAVIGATION if item.shown_to(user)]
