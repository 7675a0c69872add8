"""Who takes part in a case's work: the rule behind moves that no role of their own guards.

Mixed into `Engine`. Some moves name no role: a transition open to anyone, raising an
exception, attaching a document. "Anyone" there means anyone who works the workflow, never
anyone the directory knows: an auditor or a team lead reads every case and moves none, and a
colleague of another department moves nothing of this one. The rule lives here, in the core,
so the command line, the Python API, HTTP and the web refuse alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from backoffice.definitions.model import REQUESTER, Definition
from backoffice.engine.cases import Actor, Case
from backoffice.engine.directory import PrincipalKind
from backoffice.engine.roles import PlatformRole
from backoffice.engine.tasks import TaskStatus
from backoffice.errors import RoleRequired

if TYPE_CHECKING:
    from backoffice.engine.engine import Engine


class TakingPart:
    """The "who works this case" half of `Engine`."""

    def _check_takes_part(self: Engine, definition: Definition, case: Case, actor: Actor, *, what: str,
                          requester: bool = False) -> None:
        """Refuse an actor who takes no part in the workflow's work.

        Taking part is holding a role the definition names (or the state's role), being the
        requester where `requester` allows it (and in a state whose role is theirs), being
        someone who may take one of the state's open tasks, an operator or administrator, or a
        service account reporting what its step found. Reading every case is not taking part.

        Raises:
            RoleRequired: the actor holds none of those.
        """
        state = definition.state(case.state)
        allowed = tuple(dict.fromkeys([*definition.roles, *([state.role] if state.role else []),
                                       *([REQUESTER] if requester else []),
                                       str(PlatformRole.OPERATOR), str(PlatformRole.ADMINISTRATOR)]))
        if actor.acting_role(allowed, requester=case.requester) is not None:
            return
        for task in self.store.tasks(case_id=case.id, status=TaskStatus.OPEN, limit=100):
            if task.state == case.state and (task.role or task.assignee) and task.may_be_taken_by(actor):
                return
        principal = self.store.principal(actor.id)
        if principal is not None and principal.kind is PrincipalKind.SERVICE:
            return
        raise RoleRequired(str(actor), list(allowed), what)
