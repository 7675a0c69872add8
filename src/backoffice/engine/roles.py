"""The platform's own roles: who manages the directory, operates a workflow, approves a change to it.

Definitions name their own roles (line-manager, service-desk); these five are the engine's, the
same for every workflow, and granted like any other role by the directory (`gate` reads the
grants; a role an actor merely claims counts for nothing):

- `administrator`: manages the directory (people, grants, tokens, delegations) and may act on
  behalf of anyone, recorded as such. A fresh install bootstraps the first one.

- `operator`: migrates running cases to a new version, switches a workflow's automated steps
  to people (manual mode) and back, and replays dead letters. Each of these changes running
  work outside its definition's transitions, so each is reserved and audited.
- `worker`: runs automated steps and notifications (`backoffice worker`). A service account with
  a token, as a rule; the moves its steps make are recorded as that account's, so the trail says
  which worker did what, and revoking the grant or the account stops it at its next poll.
- `change-approver`: approves or rejects a deployed version that waits for a second person
  (a version that weakens a control, or of a workflow whose change rules ask for a second
  approver). Never the person who deployed it; when the definition lists `change.approvers`,
  the approver must also hold one of those roles.
- `team-lead`: gives others' work to someone else (reassigns a task); so do the administrator and
  an operator (see `queues.REASSIGNERS`).
"""

from __future__ import annotations

from enum import StrEnum

from backoffice.engine.cases import Actor
from backoffice.errors import RoleRequired


class PlatformRole(StrEnum):
    ADMINISTRATOR = "administrator"
    OPERATOR = "operator"
    CHANGE_APPROVER = "change-approver"
    WORKER = "worker"
    TEAM_LEAD = "team-lead"


def require_role(actor: Actor, role: PlatformRole, *, what: str) -> None:
    """Refuse an actor who does not hold `role` for `what` (an operation, said as a verb phrase).

    `actor` is one the gate identified (`Engine.identify`): its roles are the directory's grants.

    Raises:
        RoleRequired: the actor holds another role or none.
    """
    if str(role) not in actor.roles:
        raise RoleRequired(actor.id, [str(role)], what)
