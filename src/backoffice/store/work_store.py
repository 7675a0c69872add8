"""The store's part for tasks, approval votes, evidence, exceptions and paused SLA clocks.

Mixed into `SqlStore` (reads) and `SqlTransaction` (writes). The guard of a claim is the
conditional UPDATE: `WHERE status = 'open' AND (claimed_by IS NULL OR claim_expires_at < now)`,
checked by its row count, so two workers can never both hold one task. On PostgreSQL `next`
first picks its row with FOR UPDATE SKIP LOCKED, so concurrent workers pick different tasks
instead of queueing on one; on SQLite the writing transaction (BEGIN IMMEDIATE) has the
database to itself already.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import datetime

import sqlalchemy as sa

from backoffice.definitions.model import Priority
from backoffice.engine.audit import AuditRecord, RowSeal, seal_row
from backoffice.engine.ports import RaisedException, Vote
from backoffice.engine.sealed_rows import SLA_CLOCK_ROW
from backoffice.engine.sla import PausedTime
from backoffice.engine.tasks import PRIORITY_RANK, Assignment, NewTask, Task, TaskKind, TaskStatus
from backoffice.errors import NotAnApprover
from backoffice.store.audit_store import case_records_giving
from backoffice.store.precompiled import Precompiled, case_chain, sql_text
from backoffice.store.tables import approval_votes, audit_records, case_exceptions, evidence, sla_clocks, tasks

OPEN = str(TaskStatus.OPEN)


def _urgency() -> tuple[sa.ColumnElement, ...]:
    return (tasks.c.priority_rank.desc(), tasks.c.due_at.asc().nulls_last(), tasks.c.created_at, tasks.c.id)


# Built once, given values as parameters (see sql_store: the statements of every change). Each
# returns the rows it wrote as stored, for the audit record to seal without reading them again.
_INSERT_TASK = Precompiled(sa.insert(tasks).returning(*tasks.c))
_CLOSE_CASE_TASKS_STATEMENT = sa.update(tasks).where(tasks.c.case_id == sa.bindparam("b_case"),
                                                     tasks.c.status == sa.bindparam("b_open")).returning(*tasks.c)
# A branch cancelled by its join replaces the tasks' reason: the same statement, with the reason set.
_CLOSE_CASE_TASKS = Precompiled(_CLOSE_CASE_TASKS_STATEMENT)
_UNHELD = sa.or_(tasks.c.claimed_by.is_(None), tasks.c.claim_expires_at < sa.bindparam("b_now"))
_CLAIM_TASK = Precompiled(sa.update(tasks).where(tasks.c.id == sa.bindparam("b_id"), tasks.c.status == OPEN,
                                                 sa.or_(_UNHELD, tasks.c.claimed_by == sa.bindparam("b_actor")))
                          .returning(*tasks.c))
_CLOSE_TASK_STATEMENT = (sa.update(tasks).where(tasks.c.id == sa.bindparam("b_id"), tasks.c.status == OPEN)
                         .returning(*tasks.c))
_CLOSE_TASK = Precompiled(_CLOSE_TASK_STATEMENT)
_CLOSE_HELD_TASK = Precompiled(_CLOSE_TASK_STATEMENT.where(tasks.c.claimed_by == sa.bindparam("b_holder"),
                                                           tasks.c.claim_expires_at >= sa.bindparam("b_at")))
_SELECT_PAUSED = Precompiled(sa.select(sla_clocks).where(sla_clocks.c.case_id == sa.bindparam("b_case")))
# Read only when a case has a clock row: the records of its chain that may give it (see sealed_rows.SLA_CLOCK_ROW).
_CLOCK_LISTINGS = case_records_giving(SLA_CLOCK_ROW)
# What showing a case reads of it, precompiled (some 90 us of CPU less each than executed): its tasks, its evidence's names.
_SELECT_CASE_TASKS = Precompiled(sa.select(tasks).where(tasks.c.id > sa.bindparam("b_after"),
                                                        tasks.c.case_id == sa.bindparam("b_case"))
                                 .order_by(tasks.c.id).limit(sa.bindparam("b_limit")))
_SELECT_EVIDENCE_NAMES = Precompiled(sa.select(evidence.c.name).where(evidence.c.case_id == sa.bindparam("b_case")))


_SELECT_TASK = Precompiled(sa.select(tasks).where(tasks.c.id == sa.bindparam("b_id")))
# What a vote holds to the trail (`approval_as_written`): its round's votes, and the records of the case's chain that
# list a task or a vote. Precompiled, as they run on every vote. The chain's name is built in SQL from the case id and
# the rows' marks are written in the SQL: SQLite prepares a statement again on every run when a parameter stands on
# the right of a LIKE or is compared with `chain` (the column of a partial index's condition), see sql_store.
_CHAIN_OF_BOUND_CASE = case_chain(sa.bindparam("b_case", type_=sa.Integer))
_SELECT_ROUND_VOTES = Precompiled(sa.select(approval_votes).where(approval_votes.c.case_id == sa.bindparam("b_case"),
                                                                  approval_votes.c.round == sa.bindparam("b_round"))
                                  .order_by(approval_votes.c.id))
_SELECT_APPROVAL_WRITERS = Precompiled(
    sa.select(audit_records).where(audit_records.c.chain == _CHAIN_OF_BOUND_CASE,
                                   sa.or_(audit_records.c.rows.like(sql_text(f'%["{tasks.name}",%')),
                                          audit_records.c.rows.like(
                                              sql_text(f'%["{approval_votes.name}",%'))))
    .order_by(audit_records.c.id.desc()))

# The records of a case's chain that list an exception, or evidence (an exception resolved, a vote whose approval
# requires documents): built once, in the same form, for the same reason.
_SELECT_EXCEPTION_WRITERS = (sa.select(audit_records).where(
    audit_records.c.chain == _CHAIN_OF_BOUND_CASE,
    audit_records.c.rows.like(sql_text(f'%["{case_exceptions.name}",%')))
    .order_by(audit_records.c.id.desc()))
_SELECT_EVIDENCE_WRITERS = (sa.select(audit_records).where(
    audit_records.c.chain == _CHAIN_OF_BOUND_CASE,
    audit_records.c.rows.like(sql_text(f'%["{evidence.name}",%')))
    .order_by(audit_records.c.id.desc()))


def _one_of(column: sa.Column, prefix: str, count: int) -> sa.ColumnElement:
    # One parameter per value (not an expanding list, which a precompiled statement cannot take).
    return column.in_([sa.bindparam(f"{prefix}_{number}") for number in range(count)]) if count else sa.false()


@functools.lru_cache(maxsize=512)
def _pick(queues: int, roles: int | tuple[int, ...], postgresql: bool) -> Precompiled:
    """The statement `next` picks its task with, for `queues` queues and roles held everywhere (`roles` of
    them) or in some workflows (`roles`: how many in each).

    Built and compiled once per shape, its queues, workflows and roles given as parameters: built per
    call, SQLAlchemy spends more time keying it than the database running it.
    """
    if isinstance(roles, int):
        held = _one_of(tasks.c.role, "b_roles", roles)
    else:
        # Roles granted in one workflow take that workflow's tasks only.
        held = sa.or_(sa.false(), *(sa.and_(tasks.c.workflow == sa.bindparam(f"b_workflow_{number}"),
                                            _one_of(tasks.c.role, f"b_roles_{number}", count))
                                    for number, count in enumerate(roles)))
    eligible = sa.or_(tasks.c.assignee == sa.bindparam("b_actor"),
                      sa.and_(tasks.c.assignee.is_(None), sa.or_(tasks.c.role.is_(None), held)))
    pick = (sa.select(tasks.c.id).where(tasks.c.status == OPEN, _one_of(tasks.c.queue, "b_queues", queues),
                                        _UNHELD, eligible)
            .order_by(*_urgency()).limit(1))
    return Precompiled(pick.with_for_update(skip_locked=True) if postgresql else pick)


class WorkReads:
    """Reads of tasks and what hangs on them."""

    engine: sa.Engine

    def task(self, task_id: int) -> Task | None:
        with self._connect() as connection:
            row = _SELECT_TASK.run(connection, dict(b_id=task_id)).first()
        return task_of(row) if row is not None else None

    def tasks(self, *, queue: str | None = None, case_id: int | None = None, status: TaskStatus | None = None,
              kind: str | None = None, after_id: int = 0, limit: int = 100) -> Sequence[Task]:
        if case_id is not None and queue is None and status is None and kind is None:
            # A case's tasks (showing a case): the same query, precompiled.
            with self._connect() as connection:
                return [task_of(row) for row in _SELECT_CASE_TASKS.run(
                    connection, {"b_after": after_id, "b_case": case_id, "b_limit": limit})]
        query = sa.select(tasks).where(tasks.c.id > after_id).order_by(tasks.c.id).limit(limit)
        for column, value in ((tasks.c.queue, queue), (tasks.c.case_id, case_id), (tasks.c.kind, kind),
                              (tasks.c.status, str(status) if status else None)):
            if value is not None:
                query = query.where(column == value)
        with self._connect() as connection:
            return [task_of(row) for row in connection.execute(query)]

    def due_escalations(self, now: datetime, *, limit: int = 100) -> Sequence[Task]:
        query = (sa.select(tasks).where(tasks.c.status == OPEN, tasks.c.kind == str(TaskKind.APPROVAL),
                                        tasks.c.escalate_at <= now, tasks.c.escalated.is_(False))
                 .order_by(tasks.c.escalate_at, tasks.c.id).limit(limit))
        with self._connect() as connection:
            return [task_of(row) for row in connection.execute(query)]

    def votes(self, case_id: int, round: int) -> Sequence[Vote]:
        query = (sa.select(approval_votes).where(approval_votes.c.case_id == case_id, approval_votes.c.round == round)
                 .order_by(approval_votes.c.id))
        with self._connect() as connection:
            return [Vote(**{k: v for k, v in row._mapping.items() if k != "id"}) for row in connection.execute(query)]

    def evidence_names(self, case_id: int) -> set[str]:
        with self._connect() as connection:
            return set(_SELECT_EVIDENCE_NAMES.run(connection, {"b_case": case_id}).scalars())

    def open_exception(self, case_id: int) -> RaisedException | None:
        query = (sa.select(case_exceptions).where(case_exceptions.c.case_id == case_id,
                                                  case_exceptions.c.resolved_at.is_(None))
                 .order_by(case_exceptions.c.id.desc()).limit(1))
        with self._connect() as connection:
            row = connection.execute(query).first()
        return RaisedException(**row._mapping) if row is not None else None

    def exception_as_written(self, case_id: int, exception_id: int) -> tuple[RowSeal | None, list[AuditRecord]]:
        """Return a case's exception row sealed as it is now (None: there is none, or an open transaction of this
        thread wrote it and has not yet recorded it), with the records of the case's chain that list an exception,
        newest first."""
        with self._connect() as connection:
            row = connection.execute(sa.select(case_exceptions).where(case_exceptions.c.id == exception_id,
                                                                      case_exceptions.c.case_id == case_id)).first()
            records = connection.execute(_SELECT_EXCEPTION_WRITERS, dict(b_case=case_id)).all()
        pending = any(exception_id in tx.pending_writes(case_exceptions.name) for tx in getattr(self._open, "txs", ()))
        seal = None if row is None or pending else \
            seal_row(case_exceptions.name, row.id, dict(row._mapping), case_id=case_id)
        return seal, [AuditRecord(**row._mapping) for row in records]

    def paused_time(self, case_id: int) -> PausedTime:
        with self._connect() as connection:
            return _paused(connection, case_id)

    def clock_rows(self, case_ids: Sequence[int]) -> list[RowSeal]:
        """Return the SLA clock rows of these cases, each sealed as it is now (what `audit verify` holds)."""
        with self._connect() as connection:
            rows = connection.execute(sa.select(sla_clocks).where(sla_clocks.c.case_id.in_(list(case_ids)))
                                      .order_by(sla_clocks.c.case_id)).all()
        return [_sealed_clock(row) for row in rows]


class WorkWrites:
    """Writes of tasks and what hangs on them, inside the transaction of the change that causes them."""

    connection: sa.Connection

    def evidence_as_written(self, case_id: int, names: Sequence[str]
                            ) -> tuple[list[tuple[str, RowSeal | None]], list[AuditRecord]]:
        """Return the case's evidence of these names, each sealed as it is now (None: written by this transaction and
        not yet recorded), with the records of the case's chain that list evidence, newest first (none read when
        no such evidence is attached)."""
        found = self.connection.execute(sa.select(evidence).where(evidence.c.case_id == case_id,
                                                                  evidence.c.name.in_(list(names)))
                                        .order_by(evidence.c.id)).all()
        if not found:
            return [], []
        pending = self.pending_writes(evidence.name)
        rows = [(row.name, None if row.id in pending else
                 seal_row(evidence.name, row.id, dict(row._mapping), case_id=case_id)) for row in found]
        records = self.connection.execute(_SELECT_EVIDENCE_WRITERS, dict(b_case=case_id)).all()
        return rows, [AuditRecord(**row._mapping) for row in records]

    def approval_as_written(self, case_id: int, task_id: int, round: int
                            ) -> tuple[RowSeal | None, list[tuple[Vote, RowSeal | None]], list[AuditRecord]]:
        """Return an approval task's row and the votes of its round, each sealed as it is now (None: written by
        this transaction and not yet recorded, or no such task), with the records of the case's chain that list a
        task or a vote, newest first. Three reads, on a vote, a delegation or an escalation only (see
        `Engine._approval_held`)."""
        task = _SELECT_TASK.run(self.connection, dict(b_id=task_id)).first()
        found = _SELECT_ROUND_VOTES.run(self.connection, dict(b_case=case_id, b_round=round)).all()
        written_tasks, written_votes = self.pending_writes(tasks.name), self.pending_writes(approval_votes.name)
        task_seal = None if task is None or task.id in written_tasks else \
            seal_row(tasks.name, task.id, dict(task._mapping), case_id=case_id)
        votes = [(Vote(**{k: v for k, v in row._mapping.items() if k != "id"}),
                  None if row.id in written_votes else
                  seal_row(approval_votes.name, row.id, dict(row._mapping), case_id=case_id)) for row in found]
        records = _SELECT_APPROVAL_WRITERS.run(self.connection, dict(b_case=case_id)).all()
        return task_seal, votes, [AuditRecord(**row._mapping) for row in records]

    def insert_task(self, task: NewTask) -> Task:
        values = dict(case_id=task.case_id, workflow=task.workflow, state=task.state, round=task.round,
                      kind=str(task.kind), status=OPEN, queue=task.assignment.queue, role=task.assignment.role,
                      assignee=task.assignment.assignee, priority=str(task.priority),
                      priority_rank=PRIORITY_RANK[task.priority], due_at=task.due_at, created_at=task.created_at,
                      reason=task.reason, escalate_at=task.escalate_at, escalated=False)
        row = _INSERT_TASK.run(self.connection, values).one()
        self.wrote(tasks, [row.id], [row])
        return Task(id=row.id, case_id=task.case_id, workflow=task.workflow,
                    state=task.state, round=task.round, kind=task.kind, status=TaskStatus.OPEN,
                    queue=task.assignment.queue, role=task.assignment.role, assignee=task.assignment.assignee,
                    priority=task.priority, due_at=task.due_at, created_at=task.created_at, reason=task.reason,
                    escalate_at=task.escalate_at)

    def close_case_tasks(self, case_id: int, *, status: TaskStatus, by: str, at: datetime,
                         reason: str | None = None) -> int:
        """Close a case's open tasks; `reason` (a branch cancelled by its join) replaces the tasks' reason."""
        values = dict(b_case=case_id, b_open=OPEN, status=str(status), closed_by=by, closed_at=at)
        if reason is not None:
            values["reason"] = reason
        closed = _CLOSE_CASE_TASKS.run(self.connection, values).all()
        self.wrote(tasks, [row.id for row in closed], closed)
        return len(closed)

    def claim_task(self, task_id: int, *, actor: str, now: datetime, until: datetime) -> bool:
        return self._claimed(task_id, actor=actor, now=now, until=until) is not None

    def _claimed(self, task_id: int, *, actor: str, now: datetime, until: datetime) -> sa.Row | None:
        """Claim the task if nobody else holds it; return its row as claimed, or None."""
        row = _CLAIM_TASK.run(self.connection, dict(b_id=task_id, b_now=now, b_actor=actor, claimed_by=actor,
                                                    claimed_at=now, claim_expires_at=until)).first()
        if row is not None:
            self.wrote(tasks, [task_id], [row])
        return row

    def claim_next(self, queues: Sequence[str], *, actor: str, roles: Sequence[str], now: datetime,
                   until: datetime, roles_by_workflow: Mapping[str, Sequence[str]] | None = None) -> Task | None:
        values: dict[str, object] = dict(b_actor=actor, b_now=now)
        values.update((f"b_queues_{number}", queue) for number, queue in enumerate(queues))
        postgresql = self.connection.dialect.name == "postgresql"
        if roles_by_workflow is None:
            pick = _pick(len(queues), len(roles), postgresql)
            values.update((f"b_roles_{number}", role) for number, role in enumerate(roles))
        else:
            granted = [(workflow, list(held)) for workflow, held in roles_by_workflow.items() if held]
            pick = _pick(len(queues), tuple(len(held) for _, held in granted), postgresql)
            for number, (workflow, held) in enumerate(granted):
                values[f"b_workflow_{number}"] = workflow
                values.update((f"b_roles_{number}_{index}", role) for index, role in enumerate(held))
        task_id = pick.run(self.connection, values).scalar()
        row = self._claimed(task_id, actor=actor, now=now, until=until) if task_id is not None else None
        return task_of(row) if row is not None else None

    def release_task(self, task_id: int, *, actor: str, now: datetime) -> bool:
        result = self.connection.execute(
            sa.update(tasks).where(tasks.c.id == task_id, tasks.c.status == OPEN, tasks.c.claimed_by == actor,
                                   tasks.c.claim_expires_at >= now)
            .values(claimed_by=None, claimed_at=None, claim_expires_at=None))
        return self._wrote_task(result, task_id)

    def close_task(self, task_id: int, *, status: TaskStatus, by: str, at: datetime,
                   holder: str | None = None) -> bool:
        values = dict(b_id=task_id, status=str(status), closed_by=by, closed_at=at)
        if holder is not None:
            values.update(b_holder=holder, b_at=at)
        row = (_CLOSE_TASK if holder is None else _CLOSE_HELD_TASK).run(self.connection, values).first()
        if row is not None:
            self.wrote(tasks, [task_id], [row])
        return row is not None

    def reassign_task(self, task_id: int, assignment: Assignment, *, escalated: bool | None = None,
                      delegated_by: str | None = None) -> bool:
        values: dict[str, object] = dict(queue=assignment.queue, role=assignment.role, assignee=assignment.assignee,
                                         claimed_by=None, claimed_at=None, claim_expires_at=None)
        if escalated is not None:
            values["escalated"] = escalated
        if delegated_by is not None:
            values["delegated_by"] = delegated_by
        result = self.connection.execute(
            sa.update(tasks).where(tasks.c.id == task_id, tasks.c.status == OPEN).values(**values))
        return self._wrote_task(result, task_id)

    def _wrote_task(self, result: sa.CursorResult, task_id: int) -> bool:
        if result.rowcount == 1:
            self.wrote(tasks, [task_id])
            return True
        return False

    def insert_vote(self, vote: Vote) -> None:
        try:
            result = self.connection.execute(sa.insert(approval_votes).values(**vote.__dict__))
        except sa.exc.IntegrityError as exc:
            raise NotAnApprover(vote.case_id, vote.approver, []) from exc
        self.wrote(approval_votes, result.inserted_primary_key)

    def insert_evidence(self, case_id: int, name: str, *, reference: str | None, by: str, at: datetime) -> None:
        result = self.connection.execute(sa.insert(evidence).values(case_id=case_id, name=name, reference=reference,
                                                                    attached_by=by, attached_at=at))
        self.wrote(evidence, result.inserted_primary_key)

    def insert_exception(self, case_id: int, reason: str, *, raised_in: str, note: str | None, by: str,
                         at: datetime) -> RaisedException:
        result = self.connection.execute(sa.insert(case_exceptions).values(
            case_id=case_id, reason=reason, raised_in=raised_in, note=note, raised_by=by, raised_at=at))
        self.wrote(case_exceptions, result.inserted_primary_key)
        return RaisedException(id=result.inserted_primary_key[0], case_id=case_id, reason=reason,
                               raised_in=raised_in, raised_by=by, raised_at=at, note=note)

    def resolve_exception(self, exception_id: int, *, resolution: str, by: str, at: datetime) -> bool:
        result = self.connection.execute(
            sa.update(case_exceptions).where(case_exceptions.c.id == exception_id,
                                             case_exceptions.c.resolved_at.is_(None))
            .values(resolution=resolution, resolved_by=by, resolved_at=at))
        if result.rowcount == 1:
            self.wrote(case_exceptions, [exception_id])
        return result.rowcount == 1

    def paused_time_as_written(self, case_id: int) -> tuple[PausedTime, RowSeal | None, list[AuditRecord]]:
        """Return a case's paused time, its clock row sealed as it is now, and the records of its chain that may
        give that row, newest first. No seal (nothing to hold) when it has no row, or this change wrote it and its
        record is still to come."""
        row = _SELECT_PAUSED.run(self.connection, dict(b_case=case_id)).first()
        if row is None:
            return PausedTime(), None, []
        paused = PausedTime(row.paused_seconds, row.paused_since)
        if self.__dict__.get("_clock_rows", {}).get(case_id) is not None:
            return paused, None, []
        records = _CLOCK_LISTINGS.run(self.connection, dict(b_case=case_id)).all()
        return (paused, _sealed_clock(row),
                [AuditRecord(**record._mapping) for record in records])

    def set_paused_time(self, case_id: int, paused: PausedTime) -> None:
        values = dict(paused_seconds=paused.seconds, paused_since=paused.since)
        row = self.connection.execute(sa.update(sla_clocks).where(sla_clocks.c.case_id == case_id)
                                      .values(**values).returning(*sla_clocks.c)).first()
        if row is None:
            row = self.connection.execute(sa.insert(sla_clocks).values(case_id=case_id, **values)
                                          .returning(*sla_clocks.c)).one()
        # The case's next record gives the row as written (`clock_listing`).
        self.__dict__.setdefault("_clock_rows", {})[case_id] = row

    def no_clock_yet(self, case_id: int) -> None:
        """Note that a case just inserted has no clock row: its first record says so (see `clock_listing`)."""
        self.__dict__.setdefault("_clock_rows", {}).setdefault(case_id, None)

    def clock_listing(self, case_id: int | None) -> dict[str, object]:
        """Return what the case's next record gives of its clock row, under sealed_rows.SLA_CLOCK_ROW: the row as
        this change wrote it, null in a new case's first record, nothing ({}) when the change left it alone."""
        written = self.__dict__.get("_clock_rows")
        if not written or case_id not in written:
            return {}
        row = written.pop(case_id)
        if row is None:
            return {SLA_CLOCK_ROW: None}
        return {SLA_CLOCK_ROW: _sealed_clock(row).listed()[2:]}


def _sealed_clock(row: sa.Row) -> RowSeal:
    # Its seconds as a float, as the column reads back: SQLite's RETURNING gives a whole REAL as an integer, and
    # the digest of the row written must be the one a later read computes.
    values = {**row._mapping, "paused_seconds": float(row.paused_seconds)}
    return seal_row(sla_clocks.name, row.case_id, values, case_id=row.case_id)


def _paused(connection: sa.Connection, case_id: int) -> PausedTime:
    row = _SELECT_PAUSED.run(connection, dict(b_case=case_id)).first()
    return PausedTime(row.paused_seconds, row.paused_since) if row is not None else PausedTime()


def task_of(row: sa.Row) -> Task:
    return task_from(dict(row._mapping))


def task_from(values: dict) -> Task:
    """Return the task of a row's values (the tasks table's columns, and no others)."""
    values.pop("priority_rank")
    return Task(**{**values, "kind": TaskKind(values["kind"]), "status": TaskStatus(values["status"]),
                   "priority": Priority(values["priority"])})
