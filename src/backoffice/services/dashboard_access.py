"""Who may read the dashboards and the live process map: team leads, managers and administrators.

The figures cover every case of a workflow (who waits, who is late, who holds what), so they
are for the people who run the team, not for each requester or clerk. The roles are granted in
the directory like any other (`backoffice directory grant team-lead --to PERSON`).
"""

from __future__ import annotations

from backoffice.services.principal import Principal
from backoffice.services.visibility import ADMIN, require, require_somewhere

TEAM_LEAD = "team-lead"
MANAGER = "manager"
DASHBOARD_ROLES = (TEAM_LEAD, MANAGER, ADMIN)


def require_dashboards(principal: Principal, workflow: str | None = None) -> None:
    """Refuse the dashboards to a principal who is no team lead, manager or administrator (of `workflow`, given).

    Without a workflow, the page that asks for one (no figures): for whoever holds one of the
    roles in some workflow. A workflow's figures: for who holds one in every workflow or in that one.

    Raises:
        Forbidden: naming the roles that may.
    """
    if workflow is None:
        require_somewhere(principal, DASHBOARD_ROLES, "read the dashboards")
    else:
        require(principal, DASHBOARD_ROLES, f"read the dashboards of {workflow}", workflow=workflow)
