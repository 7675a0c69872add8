"""The navigation bar: one line per page, shown to the people whose roles may use it.

A page module adds its entry here (one line). `roles` None: every signed-in person; otherwise
people holding any of those roles. Hiding a link is for tidiness only: each page checks
again (visibility, and the engine's gate for every act).
"""

from __future__ import annotations

from dataclasses import dataclass

from backoffice.services.principal import Principal


@dataclass(frozen=True)
class NavItem:
    label: str
    path: str
    roles: tuple[str, ...] | None = None

    def shown_to(self, user: Principal) -> bool:
        return self.roles is None or user.holds(*self.roles)


NAVIGATION: list[NavItem] = [
    NavItem("Start a request", "/requests/new"),
    NavItem("My requests", "/requests"),
]


def navigation_for(user: Principal | None) -> list[NavItem]:
    """Return the entries `user` sees, in order (none before signing in)."""
    if user is None:
        return []
    return [item for item in NAVIGATION if item.shown_to(user)]
