"""The rows of parallel work: the branches and sub-cases a case waits for (see engine/branches.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from backoffice.engine.branches_model import BranchKind, BranchStatus, CaseBranch, NewBranch
from backoffice.engine.cases import Case
from backoffice.errors import UnknownCase
from backoffice.engine.audit import AuditRecord, RowSeal, chain_of, seal_row
from backoffice.store.precompiled import Precompiled
from backoffice.store.tables import audit_records, case_branches, cases

_OF_CHILD = sa.select(case_branches).where(case_branches.c.child_id == sa.bindparam("b_child"))
# A case's branches (every case shown over HTTP reads them): precompiled, some 90 us of CPU less than executed.
_SELECT_CASE_BRANCHES = Precompiled(sa.select(case_branches).where(case_branches.c.case_id == sa.bindparam("b_case"))
                                    .order_by(case_branches.c.id))
_LOCK_CASE = sa.select(cases).where(cases.c.id == sa.bindparam("b_id"))


class BranchReads:
    engine: sa.Engine

    def case_branches(self, case_id: int) -> Sequence[CaseBranch]:
        """Return every branch and sub-case a case opened, in the order opened."""
        with self._connect() as connection:
            return [branch_of(row) for row in _SELECT_CASE_BRANCHES.run(connection, {"b_case": case_id})]

    def branch_of_child(self, child_id: int) -> CaseBranch | None:
        with self._connect() as connection:
            row = connection.execute(_OF_CHILD, dict(b_child=child_id)).first()
        return branch_of(row) if row is not None else None


class BranchWrites:
    connection: sa.Connection

    def lock_case(self, case_id: int) -> Case:
        """Return a case as it is now, locked until this transaction ends (the join's guard)."""
        from backoffice.store.sql_store import _case
        # FOR UPDATE on PostgreSQL: two branches finishing at once are joined one after the other.
        # On SQLite the writing transaction holds the whole database already.
        row = self.connection.execute(_LOCK_CASE.with_for_update(), dict(b_id=case_id)).first()
        if row is None:
            raise UnknownCase(case_id)
        return _case(row)

    def insert_branch(self, branch: NewBranch) -> int:
        result = self.connection.execute(sa.insert(case_branches).values(
            case_id=branch.case_id, state=branch.state, round=branch.round, branch=branch.branch,
            kind=str(branch.kind), child_id=branch.child_id, required=branch.required,
            status=str(BranchStatus.OPEN), opened_at=branch.opened_at, due_at=branch.due_at))
        self.wrote(case_branches, result.inserted_primary_key)
        return result.inserted_primary_key[0]

    def branch_of_child_now(self, child_id: int) -> CaseBranch | None:
        row = self.connection.execute(_OF_CHILD, dict(b_child=child_id)).first()
        return branch_of(row) if row is not None else None

    def branches_of(self, case_id: int, state: str, round: int) -> Sequence[CaseBranch]:
        query = sa.select(case_branches).where(case_branches.c.case_id == case_id, case_branches.c.state == state,
                                               case_branches.c.round == round).order_by(case_branches.c.id)
        return [branch_of(row) for row in self.connection.execute(query)]

    def branches_as_written(self, case_id: int, state: str, round: int
                            ) -> tuple[list[tuple[CaseBranch, RowSeal | None]], list[AuditRecord]]:
        """Return `branches_of`, each row sealed as it is now (None: this transaction wrote it and has not yet
        recorded it), with the records that may have written them, newest first: those of the case's chain and of
        its branches' chains that list a branch row. Two reads, on a join only (see `Engine._join`)."""
        query = sa.select(case_branches).where(case_branches.c.case_id == case_id, case_branches.c.state == state,
                                               case_branches.c.round == round).order_by(case_branches.c.id)
        found = self.connection.execute(query).all()
        pending = self.pending_writes(case_branches.name)
        rows = [(branch_of(row), None if row.id in pending else
                 seal_row(case_branches.name, row.id, dict(row._mapping), case_id=case_id)) for row in found]
        chains = [chain_of(case_id)] + [chain_of(row.child_id) for row in found if row.child_id is not None]
        records = self.connection.execute(
            sa.select(audit_records).where(audit_records.c.chain.in_(chains),
                                           audit_records.c.rows.like(f'%["{case_branches.name}",%'))
            .order_by(audit_records.c.id.desc())).all()
        return rows, [AuditRecord(**row._mapping) for row in records]

    def open_branches_of(self, case_id: int) -> Sequence[CaseBranch]:
        query = sa.select(case_branches).where(case_branches.c.case_id == case_id,
                                               case_branches.c.status == str(BranchStatus.OPEN))
        return [branch_of(row) for row in self.connection.execute(query.order_by(case_branches.c.id))]

    def close_branch(self, branch_id: int, *, status: BranchStatus, at: datetime, outcome: str | None = None,
                     reason: str | None = None) -> bool:
        """Close an open branch; False when it was closed already (by a join that ran first)."""
        result = self.connection.execute(sa.update(case_branches).where(
            case_branches.c.id == branch_id, case_branches.c.status == str(BranchStatus.OPEN)).values(
            status=str(status), closed_at=at, outcome=outcome, reason=reason))
        if result.rowcount == 1:
            self.wrote(case_branches, [branch_id])
        return result.rowcount == 1


def branch_of(row: sa.Row) -> CaseBranch:
    return CaseBranch(id=row.id, case_id=row.case_id, state=row.state, round=row.round, branch=row.branch,
                      kind=BranchKind(row.kind), child_id=row.child_id, required=row.required,
                      status=BranchStatus(row.status), opened_at=row.opened_at, outcome=row.outcome,
                      due_at=row.due_at, closed_at=row.closed_at, reason=row.reason)
