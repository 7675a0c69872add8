"""The store's part for people's searches of the work: my work, open exceptions, a workflow's board.

Mixed into `SqlStore`. What a viewer may see is a clause of each query (see `_task_visible`,
`_case_visible`), never a filter applied after reading: a clerk who sees 50 of a million tasks
reads 50 rows. The rule mirrors the API's visibility (api/visibility.py): a task is the
viewer's when it is given to, held by or delegated by them, open to a role they hold, or in a
queue they work; a case, when they started or own it, it waits in one of their queues, or one
of its open tasks is theirs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from backoffice.engine.tasks import TaskKind, TaskStatus
from backoffice.engine.worklist import BoardCard, OpenException, RequestedCase, TaskFilter, Viewer, WorkItem, WorkKey
from backoffice.store.precompiled import Precompiled
from backoffice.store.tables import case_exceptions, cases, saved_filters, tasks, workflow_versions
from backoffice.engine.cases import Case
from backoffice.engine.tasks import Task
from backoffice.store.work_store import task_from, task_of
from backoffice.errors import InputRefused
from backoffice.limits import check_text

OPEN = str(TaskStatus.OPEN)


@dataclass(frozen=True)
class Sight:
    """What one principal may read of cases and tasks, as the API's lists filter by it in SQL.

    Built by `services.visibility.Visibility.sight`, the one place that decides it; the clauses
    below say the same as its `may_see_case` and `may_see_task`, row by row.

    Attributes:
        person: the principal's canonical id.
        roles: every role they hold.
        member_of: the queues they are a member of (a task in one of them is theirs to see).
        case_queues: per deployed workflow version, the queues they work there (memberships and
            their roles' queues): a case waiting in one of them is theirs to see.
        everything: they read every case and task (administrator, auditor, team lead).
        scoped_roles: (workflow, role) of the roles they hold in one workflow only: a task open to
            one of them is theirs to see in that workflow only.
        every_case_of: the workflows whose every case and task they read (a reader of all, there only).
    """

    person: str
    roles: tuple[str, ...] = ()
    member_of: tuple[str, ...] = ()
    case_queues: tuple[tuple[str, int, tuple[str, ...]], ...] = ()
    everything: bool = False
    scoped_roles: tuple[tuple[str, str], ...] = ()
    every_case_of: tuple[str, ...] = ()


def _scoped(table: sa.Table, scoped_roles: Sequence[tuple[str, str]]) -> list[sa.ColumnElement[bool]]:
    """A task open to a role its holder holds in its workflow only."""
    return [sa.and_(table.c.assignee.is_(None), table.c.workflow == workflow, table.c.role == role)
            for workflow, role in scoped_roles]


def _task_in_sight(sight: Sight, table: sa.Table = tasks) -> sa.ColumnElement[bool]:
    """The rule of `Visibility.may_see_task`: theirs (given, held, closed or delegated), their role's, their queue's."""
    me = sight.person
    return sa.or_(table.c.assignee == me, table.c.claimed_by == me, table.c.closed_by == me,
                  table.c.delegated_by == me,
                  sa.and_(table.c.assignee.is_(None), table.c.role.in_(list(sight.roles))),
                  table.c.queue.in_(list(sight.member_of)), *_scoped(table, sight.scoped_roles),
                  *([table.c.workflow.in_(list(sight.every_case_of))] if sight.every_case_of else []))


def _case_in_sight(sight: Sight) -> sa.ColumnElement[bool]:
    """The rule of `Visibility.may_see_case`: requested or owned, waiting in a queue they work, or a task of it theirs."""
    if sight.everything:
        return sa.true()
    any_task = tasks.alias("sighted_task")
    in_their_queue = [sa.and_(cases.c.workflow == workflow, cases.c.definition_version == version,
                              cases.c.queue.in_(list(queues)))
                      for workflow, version, queues in sight.case_queues if queues]
    # Each arm can use an index of its own (requester, owner, queue; a task's case and person), so a
    # principal who sees few of many cases reads few rows.
    every_case = [cases.c.workflow.in_(list(sight.every_case_of))] if sight.every_case_of else []
    return sa.or_(cases.c.requester == sight.person, cases.c.owner == sight.person, *in_their_queue, *every_case,
                  cases.c.id.in_(sa.select(any_task.c.case_id).where(_task_in_sight(sight, any_task))))


def _task_visible(viewer: Viewer, table: sa.Table = tasks) -> sa.ColumnElement[bool]:
    me = viewer.person
    return sa.or_(table.c.assignee == me, table.c.claimed_by == me, table.c.delegated_by == me,
                  sa.and_(table.c.assignee.is_(None), table.c.role.in_(list(viewer.roles))),
                  table.c.queue.in_(list(viewer.queues)), *_scoped(table, viewer.scoped_roles),
                  *([table.c.workflow.in_(list(viewer.every_case_of))] if viewer.every_case_of else []))


def _case_visible(viewer: Viewer) -> sa.ColumnElement[bool]:
    if viewer.sees_everything:
        return sa.true()
    open_task = tasks.alias("visible_task")
    theirs = (sa.select(open_task.c.id).where(open_task.c.case_id == cases.c.id, open_task.c.status == OPEN,
                                               _task_visible(viewer, open_task)).exists())
    every_case = [cases.c.workflow.in_(list(viewer.every_case_of))] if viewer.every_case_of else []
    return sa.or_(cases.c.requester == viewer.person, cases.c.owner == viewer.person,
                  cases.c.queue.in_(list(viewer.queues)), theirs, *every_case)


def _text_matches(text: str) -> sa.ColumnElement[bool]:
    needle = text.strip().lower()
    matches = [sa.func.lower(sa.cast(cases.c.data, sa.Text)).contains(needle, autoescape=True),
               sa.func.lower(cases.c.workflow).contains(needle, autoescape=True),
               sa.func.lower(tasks.c.state).contains(needle, autoescape=True)]
    number = needle.lstrip("#")
    if number.isdigit() and len(number) < 18:
        matches += [tasks.c.id == int(number), tasks.c.case_id == int(number)]
    return sa.or_(*matches)


def _after_in_work_order(due: datetime | None, created: datetime, task_id: int) -> sa.ColumnElement[bool]:
    later_made = sa.or_(tasks.c.created_at > created, sa.and_(tasks.c.created_at == created, tasks.c.id > task_id))
    if due is None:
        return sa.and_(tasks.c.due_at.is_(None), later_made)
    return sa.or_(tasks.c.due_at.is_(None), tasks.c.due_at > due, sa.and_(tasks.c.due_at == due, later_made))


_TASK_PAGES: dict[tuple[bool, bool, bool], Precompiled] = {}


def _task_page(shape: tuple[bool, bool, bool]) -> Precompiled:
    """The page of tasks after an id, by a queue, a status and a person (each filter there or not: `shape`)."""
    page = _TASK_PAGES.get(shape)
    if page is None:
        by_queue, by_status, by_person = shape
        query = sa.select(tasks).where(tasks.c.id > sa.bindparam("b_after"))
        if by_queue:
            query = query.where(tasks.c.queue == sa.bindparam("b_queue"))
        if by_status:
            query = query.where(tasks.c.status == sa.bindparam("b_status"))
        if by_person:
            query = query.where(sa.or_(tasks.c.assignee == sa.bindparam("b_person"),
                                       tasks.c.claimed_by == sa.bindparam("b_person")))
        # Built once per shape (eight at most); two threads building one at once build the same statement.
        page = _TASK_PAGES[shape] = Precompiled(query.order_by(tasks.c.id).limit(sa.bindparam("b_limit")))
    return page


_VERSION_KEYS = Precompiled(sa.select(workflow_versions.c.workflow, workflow_versions.c.version).order_by(
    workflow_versions.c.workflow, workflow_versions.c.version))


class WorkSearchReads:
    """Searches of open tasks, open exceptions and boards, for one viewer."""

    engine: sa.Engine

    def version_keys(self) -> Sequence[tuple[str, int]]:
        """Return (workflow, version) of every stored version, in the order of `versions()`, without their content.

        What a viewer may see depends on every deployed definition; a version never changes once
        stored (the engine keeps it built), so a request needs only to know which there are now."""
        with self._connect() as connection:
            return [(row.workflow, row.version) for row in _VERSION_KEYS.run(connection)]

    def work_items(self, viewer: Viewer, search: TaskFilter, *, now: datetime, limit: int = 200,
                   after: WorkKey | None = None) -> Sequence[WorkItem]:
        """Return the open tasks the viewer may see that match, soonest SLA due first, then oldest.

        after: the place (due, created, id) of the last task of the page before: the page after it (keyset).
        """
        mine = sa.or_(tasks.c.assignee == viewer.person,
                      sa.and_(tasks.c.claimed_by == viewer.person, tasks.c.claim_expires_at >= now))
        query = (sa.select(tasks, cases.c.state.label("case_state"), cases.c.requester,
                           cases.c.created_at.label("case_created_at"), cases.c.data)
                 .join(cases, cases.c.id == tasks.c.case_id)
                 .where(tasks.c.status == OPEN, mine if search.mine_only else _task_visible(viewer))
                 .order_by(tasks.c.due_at.asc().nulls_last(), tasks.c.created_at, tasks.c.id).limit(limit))
        for column, value in ((tasks.c.queue, search.queue), (tasks.c.workflow, search.workflow),
                              (tasks.c.state, search.state), (tasks.c.kind, search.kind)):
            if value:
                query = query.where(column == value)
        if search.due_before is not None:
            query = query.where(tasks.c.due_at < search.due_before)
        if after is not None:
            query = query.where(_after_in_work_order(*after))
        if search.text and search.text.strip():
            query = query.where(_text_matches(search.text))
        with self._connect() as connection:
            rows = connection.execute(query).all()
        return [_work_item(row) for row in rows]

    def open_exceptions(self, viewer: Viewer, *, reason: str | None = None, limit: int = 500
                        ) -> Sequence[OpenException]:
        """Return the open exceptions the viewer may see: by reason code, oldest first in each.

        The viewer sees an exception when they see everything, or its resolver's task is theirs.
        """
        query = (sa.select(case_exceptions, cases.c.workflow, cases.c.state.label("case_state"))
                 .join(cases, cases.c.id == case_exceptions.c.case_id)
                 .where(case_exceptions.c.resolved_at.is_(None))
                 .order_by(case_exceptions.c.reason, case_exceptions.c.raised_at, case_exceptions.c.id).limit(limit))
        if reason:
            query = query.where(case_exceptions.c.reason == reason)
        if not viewer.sees_everything:
            query = query.where(sa.select(tasks.c.id).where(
                tasks.c.case_id == case_exceptions.c.case_id, tasks.c.status == OPEN,
                tasks.c.kind == str(TaskKind.EXCEPTION), _task_visible(viewer)).exists())
        with self._connect() as connection:
            rows = connection.execute(query).all()
        return [OpenException(id=row.id, case_id=row.case_id, workflow=row.workflow, reason=row.reason,
                              raised_in=row.raised_in, raised_by=row.raised_by, raised_at=row.raised_at,
                              case_state=row.case_state, note=row.note) for row in rows]

    def requested_cases(self, person: str, *, limit: int = 1000) -> Sequence[RequestedCase]:
        """Return the newest `limit` cases `person` requested, newest first, each saying whether it asks them."""
        asks = (sa.select(tasks.c.id).where(tasks.c.case_id == cases.c.id, tasks.c.status == OPEN,
                                            tasks.c.kind == str(TaskKind.EXCEPTION), tasks.c.assignee == person)
                .exists())
        query = (sa.select(cases.c.id, cases.c.workflow, cases.c.definition_version, cases.c.state,
                           cases.c.created_at, asks.label("asks_me"))
                 .where(cases.c.requester == person).order_by(cases.c.id.desc()).limit(limit))
        with self._connect() as connection:
            return [RequestedCase(case_id=row.id, workflow=row.workflow, definition_version=row.definition_version,
                                  state=row.state, created_at=row.created_at, asks_me=bool(row.asks_me))
                    for row in connection.execute(query)]

    def board_counts(self, viewer: Viewer, workflow: str, version: int) -> dict[str, int]:
        """Return how many of the viewer's cases of a workflow version stand in each state."""
        query = (sa.select(cases.c.state, sa.func.count())
                 .where(cases.c.workflow == workflow, cases.c.definition_version == version, _case_visible(viewer))
                 .group_by(cases.c.state))
        with self._connect() as connection:
            return {state: count for state, count in connection.execute(query)}

    def board_cards(self, viewer: Viewer, workflow: str, version: int, *, states: Sequence[str],
                    per_state: int = 50) -> Sequence[BoardCard]:
        """Return up to `per_state` of the viewer's cases in each of `states`, longest in their state first."""
        ranked = (sa.select(cases, sa.func.row_number().over(partition_by=cases.c.state,
                                                                order_by=(cases.c.updated_at, cases.c.id))
                            .label("place"))
                  .where(cases.c.workflow == workflow, cases.c.definition_version == version,
                         cases.c.state.in_(list(states)), _case_visible(viewer))
                  .subquery())
        query = (sa.select(ranked).where(ranked.c.place <= per_state)
                 .order_by(ranked.c.state, ranked.c.place))
        with self._connect() as connection:
            rows = connection.execute(query).all()
        return [BoardCard(case_id=row.id, state=row.state, version=row.version, priority=row.priority,
                          queue=row.queue, owner=row.owner, requester=row.requester, created_at=row.created_at,
                          updated_at=row.updated_at, data=row.data) for row in rows]

    # --- the API's lists, in what the principal may see ---

    def cases_in_sight(self, sight: Sight, *, workflow: str | None = None, state: str | None = None,
                       queue: str | None = None, requester: str | None = None, after_id: int = 0,
                       limit: int = 100) -> Sequence[Case]:
        """Return the cases in sight that match, in id order after `after_id` (a keyset page)."""
        from backoffice.store.sql_store import _case

        for what, value in (("the workflow filter", workflow), ("the state filter", state), ("the queue filter", queue)):
            if value is not None:
                check_text(value, what)   # PostgreSQL stores no NUL in text: refused, not a database error
        if requester is not None and not _storable(requester):
            return []                     # no case was ever requested by a name that cannot be stored
        query = (sa.select(cases).where(cases.c.id > after_id, _case_in_sight(sight))
                 .order_by(cases.c.id).limit(limit))
        for column, value in ((cases.c.workflow, workflow), (cases.c.state, state), (cases.c.queue, queue),
                              (cases.c.requester, requester)):
            if value is not None:
                query = query.where(column == value)
        with self._connect() as connection:
            return [_case(row) for row in connection.execute(query)]

    def tasks_in_sight(self, sight: Sight | None, *, queue: str | None = None, status: TaskStatus | None = None,
                       person: str | None = None, after_id: int = 0, limit: int = 100) -> Sequence[Task]:
        """Return the tasks in sight that match (`person`: given to or held by them), in id order after `after_id`.

        `sight` None lists without that clause: for a caller already allowed the whole queue, or
        the tasks of a person they may list (the API checks both before).
        """
        return [task_of(row) for row in self.task_rows_in_sight(sight, queue=queue, status=status, person=person,
                                                                after_id=after_id, limit=limit)]

    def task_rows_in_sight(self, sight: Sight | None, *, queue: str | None = None, status: TaskStatus | None = None,
                           person: str | None = None, after_id: int = 0, limit: int = 100) -> Sequence[Any]:
        """`tasks_in_sight`'s rows as read: each the tasks table's columns, by name (`row.id`, `row.due_at`...).

        For a page answered as it is read (the API's list of tasks): building each row's `Task` and
        then its answer cost some 20 us of CPU a task, a millisecond for a page of fifty.
        """
        if queue is not None:
            check_text(queue, "the queue filter")
        if person is not None and not _storable(person):
            return []
        if sight is None or sight.everything:
            # Without the clause of what a caller sees, the page is one of a few fixed statements, run precompiled.
            values: dict[str, Any] = {"b_after": after_id, "b_limit": limit}
            for name, value in (("b_queue", queue), ("b_status", status), ("b_person", person)):
                if value is not None:
                    values[name] = str(value)
            page = _task_page((queue is not None, status is not None, person is not None))
            with self._connect() as connection:
                return page.run(connection, values).all()
        query = sa.select(tasks).where(tasks.c.id > after_id, _task_in_sight(sight)).order_by(tasks.c.id).limit(limit)
        if queue is not None:
            query = query.where(tasks.c.queue == queue)
        if status is not None:
            query = query.where(tasks.c.status == str(status))
        if person is not None:
            query = query.where(sa.or_(tasks.c.assignee == person, tasks.c.claimed_by == person))
        with self._connect() as connection:
            return connection.execute(query).all()

    # --- saved filters ---

    def saved_filters(self, person: str, queues: Sequence[str]) -> Sequence[sa.Row]:
        """Return the person's saved filters and those shared with their queues (theirs first, by name)."""
        query = (sa.select(saved_filters)
                 .where(sa.or_(saved_filters.c.owner == person, saved_filters.c.shared_queue.in_(list(queues))))
                 .order_by((saved_filters.c.owner != person), saved_filters.c.name, saved_filters.c.id))
        with self._connect() as connection:
            return connection.execute(query).all()

    def save_filter(self, *, owner: str, name: str, query: str, shared_queue: str | None, at: datetime) -> int:
        """Save (or replace, under the same name) one of the owner's filters; return its id."""
        with self._writing() as connection:
            connection.execute(sa.delete(saved_filters).where(saved_filters.c.owner == owner,
                                                              saved_filters.c.name == name))
            result = connection.execute(sa.insert(saved_filters).values(
                owner=owner, name=name, query=query, shared_queue=shared_queue, created_at=at))
            return result.inserted_primary_key[0]

    def delete_filter(self, filter_id: int, *, owner: str) -> bool:
        """Delete one of the owner's filters; False when it is not theirs (or gone)."""
        with self._writing() as connection:
            return connection.execute(sa.delete(saved_filters).where(saved_filters.c.id == filter_id,
                                                                     saved_filters.c.owner == owner)).rowcount == 1


def _work_item(row: sa.Row) -> WorkItem:
    values = dict(row._mapping)
    extra = {name: values.pop(name) for name in ("case_state", "requester", "case_created_at", "data")}
    return WorkItem(task=task_from(values), case_state=extra["case_state"], requester=extra["requester"],
                    case_created_at=extra["case_created_at"], data=extra["data"] or {})


def _storable(text: str) -> bool:
    """Whether a name could be stored at all (no NUL byte, no lone surrogate): one that cannot matches nothing."""
    try:
        check_text(text, "a name")
    except InputRefused:
        return False
    return True
