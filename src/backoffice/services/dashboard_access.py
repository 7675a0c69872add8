"""Who may read the dashboards and the live process map: team leads, managers and administrators.

The figures cover every case of a workflow (who waits, who is late, who holds what), so they
are for the people who run the team, not for each requester or clerk. The roles are granted in
the directory like any other (`backoffice directory grant team-lead --to PERSON`).
"""

from __future__ import annotations

from backoffice.services.principal import Principal
from backoffice.services.visibility import ADMIN, require

TEAM_LEAD = "team-lead"
MANAGER = "manager"
DASHBOARD_ROLES = (TEAM_LEAD, MANAGER, ADMIN)


def require_dashboards(principal: Principal) -> None:
    """Refuse the dashboards to a principal who is no team lead, manager or administrator.

    Raises:
        Forbidden: naming the roles that may.
    """
    require(principal, DASHBOARD_ROLES, "read the dashboards")
