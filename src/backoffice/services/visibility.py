"""Who may see what: the one place that decides which cases, tasks and queues a principal reads.

- administrators and auditors read everything (auditors only read: the engine gives them no move);
- team leads read every case and task of every workflow, as their dashboards count them (only
  read: taking part, commenting or attaching, still needs the roles that do the work);
- a requester sees the cases they started;
- a worker sees the cases and tasks of their queues: queues they are a member of, and the
  queues of the roles they hold (a definition's `roles: {clerk: {queue: intake}}`);
- anyone sees a case they own, or whose task is theirs (assigned, delegated, claimed or done by them).

A role granted in one workflow only (`role@workflow`) counts in that workflow only, here as in
the gate: an auditor or team lead of one workflow reads every case of it, and nothing of another.

What a principal may *do* is not decided here: the engine's core checks decide that (roles,
separation of duties, the state's control). This module only keeps what is not theirs out of
sight; a case they may not see is answered as absent (404), so ids leak nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

from backoffice.definitions.model import Definition
from backoffice.engine import Case, Engine
from backoffice.engine.roles import PlatformRole
from backoffice.engine.tasks import Task, TaskStatus
from backoffice.errors import Forbidden, NotVisible
from backoffice.services.principal import Principal
from backoffice.store.work_search import Sight

ADMIN = str(PlatformRole.ADMINISTRATOR)
AUDITOR = "auditor"
OPERATOR = str(PlatformRole.OPERATOR)
TEAM_LEAD = str(PlatformRole.TEAM_LEAD)
READS_EVERYTHING = (ADMIN, AUDITOR)
READS_EVERY_CASE = (*READS_EVERYTHING, TEAM_LEAD)
"""Who reads every case, task and queue: a team lead's board and lists cover what their dashboards count.

Not every record: the audit trail, the directory, the dead letters stay with READS_EVERYTHING."""
# As the core's platform roles: only an operator replays dead letters or switches manual mode.
OPERATES = (OPERATOR,)
DEPLOYS = (ADMIN, "workflow-owner", str(PlatformRole.CHANGE_APPROVER))

T = TypeVar("T")


class Visibility:
    """The read side of authorisation, over one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # The definitions of the versions stored, built once: a version never changes once stored. The lock
        # makes the first requests after a start wait for one build instead of each building every version.
        self._built: dict[tuple[str, int], Definition] = {}
        self._building = threading.Lock()

    # --- cases ---

    def may_see_case(self, principal: Principal, case: Case) -> bool:
        """Whether the principal may read the case (see the module's rules)."""
        if principal.holds_in(case.workflow, *READS_EVERY_CASE):
            return True
        if principal.id in (case.requester, case.owner):
            return True
        if case.queue is not None and case.queue in self.queues_of(principal, self._definition(case)):
            return True
        return any(self.may_see_task(principal, task) for task in self.engine.tasks(case_id=case.id, status=None,
                                                                                    limit=1000))

    def takes_part(self, principal: Principal, case: Case) -> bool:
        """Whether the principal takes part in the case, beyond reading it: they may comment on it and attach to it.

        An administrator does; someone who sees it only through a role that reads every case
        (an auditor, a team lead) does not. What they may do beyond that the engine's gate decides in each act.
        """
        if principal.holds_in(case.workflow, ADMIN):
            return True
        taking_part = Principal(principal.id, roles=tuple(role for role in principal.roles
                                                          if role not in READS_EVERY_CASE), queues=principal.queues,
                                scoped=tuple((workflow, role) for workflow, role in principal.scoped
                                             if role not in READS_EVERY_CASE))
        return self.may_see_case(taking_part, case)

    def case(self, principal: Principal, case_id: int) -> Case:
        """Return a case the principal may see.

        Raises:
            UnknownCase: there is no such case.
            NotVisible: it exists, but is not theirs to see (answered as 404 too).
        """
        case = self.engine.case(case_id)
        if not self.may_see_case(principal, case):
            raise NotVisible(f"case {case_id}")
        return case

    # --- tasks and queues ---

    def may_see_task(self, principal: Principal, task: Task) -> bool:
        """Whether the task is the principal's to see: theirs, their role's, or in one of their queues."""
        if principal.holds_in(task.workflow, *READS_EVERY_CASE):
            return True
        if principal.id in (task.assignee, task.claimed_by, task.closed_by, task.delegated_by):
            return True
        if task.assignee is None and task.role is not None and task.role in principal.roles_in(task.workflow):
            return True
        return task.queue is not None and task.queue in principal.queues

    def task(self, principal: Principal, task_id: int) -> Task:
        """Return a task the principal may see (or one of whose case they may see).

        Raises:
            UnknownTask, NotVisible.
        """
        task = self.engine.task(task_id)
        if self.may_see_task(principal, task):
            return task
        if task.status is not TaskStatus.OPEN and self.may_see_case(principal, self.engine.case(task.case_id)):
            return task
        if task.queue is not None and task.queue in self.all_queues_of(principal):
            return task
        raise NotVisible(f"task {task_id}")

    def check_queue(self, principal: Principal, queue: str) -> None:
        """Refuse to list a queue the principal neither works nor reads everything of.

        Raises:
            Forbidden: the queue is not theirs.
        """
        if principal.holds(*READS_EVERY_CASE) or queue in self.all_queues_of(principal):
            return
        raise Forbidden(f"{principal.id} does not work queue {queue!r}; expected one of their queues: "
                        f"{', '.join(sorted(self.all_queues_of(principal))) or 'none'}")

    def queues_of(self, principal: Principal, definition: Definition) -> set[str]:
        """Return the queues the principal works in one definition: memberships, and their roles' queues."""
        queues = set(principal.queues)
        roles = principal.roles_in(definition.id)
        for role_id, role in definition.roles.items():
            if role.queue is not None and role_id in roles:
                queues.add(role.queue)
        for queue_id, queue in definition.queues.items():
            if queue.role is not None and queue.role in roles:
                queues.add(queue_id)
        return queues

    def all_queues_of(self, principal: Principal) -> set[str]:
        """Return the queues the principal works in any deployed definition."""
        queues = set(principal.queues)
        for _, _, definition in self._deployed():
            queues |= self.queues_of(principal, definition)
        return queues

    # --- lists, filtered in SQL ---

    def sight(self, principal: Principal) -> Sight:
        """Return what the principal may read, for the store's lists to filter by in SQL (the rules above)."""
        if principal.holds(*READS_EVERY_CASE):
            return Sight(principal.id, roles=principal.roles, member_of=principal.queues, everything=True)
        # A role granted in one workflow counts there only: its tasks, and every case of it for a reader of all.
        scoped_roles = tuple(sorted(principal.scoped))
        every_case_of = tuple(sorted({workflow for workflow, role in principal.scoped if role in READS_EVERY_CASE}))
        case_queues = []
        for workflow, version, definition in self._deployed():
            queues = self.queues_of(principal, definition)
            if queues:
                case_queues.append((workflow, version, tuple(sorted(queues))))
        return Sight(principal.id, roles=principal.roles, member_of=principal.queues, case_queues=tuple(case_queues),
                     scoped_roles=scoped_roles, every_case_of=every_case_of)

    # --- pages ---

    @staticmethod
    def page(fetch: Callable[[int, int], Sequence[T]], keep: Callable[[T], bool], key: Callable[[T], int], *,
             after: int, limit: int, scan_budget: int = 5000) -> tuple[list[T], int | None]:
        """Return up to `limit` items that `keep` accepts, reading `fetch(after, batch)` in id order.

        Returns the items and the cursor of the next page (the last id read), or None at the end.
        At most `scan_budget` items are read per page, so a principal who may see few of many
        items gets a short page and a cursor instead of a request that reads the whole table.
        """
        kept: list[T] = []
        batch = max(limit, 100)
        scanned = 0
        while True:
            items = fetch(after, batch)
            for item in items:
                after = key(item)
                scanned += 1
                if keep(item):
                    kept.append(item)
                    if len(kept) == limit:
                        return kept, after
            if len(items) < batch:
                return kept, None
            if scanned >= scan_budget:
                return kept, after

    def _deployed(self) -> list[tuple[str, int, Definition]]:
        """Every stored version and its definition: which versions there are is read now (one small read, no
        content); each version's content is built once per engine, as a version never changes once stored."""
        deployed = []
        for key in self.engine.store.version_keys():
            definition = self._built.get(key)
            if definition is None:
                with self._building:
                    definition = self._built.get(key) or self.engine.running(*key).definition
                    self._built[key] = definition
            deployed.append((*key, definition))
        return deployed

    def _definition(self, case: Case) -> Definition:
        return self.engine.running(case.workflow, case.definition_version).definition


def require(principal: Principal, roles: Sequence[str], doing: str, *, workflow: str | None = None) -> None:
    """Refuse `doing` to a principal holding none of `roles` in every workflow (or, given, in `workflow`).

    A role granted in one workflow only counts for `doing` something to that workflow.

    Raises:
        Forbidden: naming the roles that may.
    """
    if not (principal.holds(*roles) if workflow is None else principal.holds_in(workflow, *roles)):
        raise Forbidden(f"{principal.id} may not {doing}; expected a person holding one of the roles "
                        f"{', '.join(roles)}")


def require_somewhere(principal: Principal, roles: Sequence[str], doing: str) -> None:
    """Refuse `doing` to a principal holding none of `roles` in any workflow: for a first check before the engine's
    own, per workflow (a deploy, a control diff), where the workflow is only known from what is sent.

    Raises:
        Forbidden: naming the roles that may.
    """
    if not any(role in principal.every_role for role in roles):
        raise Forbidden(f"{principal.id} may not {doing}; expected a person holding one of the roles "
                        f"{', '.join(roles)}")
