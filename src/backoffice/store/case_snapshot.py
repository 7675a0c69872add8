"""A read-only view of the store over a batch of cases, read in a few queries, for the core's read-only checks.

    snapshot = CaseSnapshot.read(store, case_ids)
    refusal = Engine(snapshot).vote_refusal(case_id, actor=..., now=...)   # the core's own rule

A page that shows, for each of a hundred cases, what the core would answer (the approvals
inbox: would my vote count?) asked the store the same handful of questions per case: the case,
its events, its open approval tasks, the votes of the round, its evidence, who the voter is.
The snapshot reads those rows for every case of the batch at once (one query per table, by
`case_id IN (...)`) and answers the engine's questions about them from memory; any other
question goes to the store itself, so the engine's checks run unchanged and see what they
would have read. It refuses to write: it only answers reads.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from backoffice.engine import Case, EngineEvent
from backoffice.engine.ports import Vote
from backoffice.engine.tasks import Task, TaskStatus
from backoffice.store.evidence_reads import AttachedEvidence
from backoffice.store.tables import approval_votes, cases, events, evidence, tasks
from backoffice.store.work_store import task_of


class CaseSnapshot:
    """The rows of some cases (case, events, tasks, votes, evidence), read at once; the rest from the store."""

    def __init__(self, store: Any, *, found: dict[int, Case], history: dict[int, list[EngineEvent]],
                 work: dict[int, list[Task]], votes: dict[tuple[int, int], list[Vote]],
                 attached: dict[int, list[AttachedEvidence]]) -> None:
        self._store = store
        self._found = found
        self._history = history
        self._work = work
        self._votes = votes
        self._attached = attached
        self._principals: dict[tuple[str, str | None], tuple[Any, Sequence[str]]] = {}
        self._principal_rows: dict[tuple[str, str | None], tuple[Any, ...]] = {}

    @classmethod
    def read(cls, store: Any, case_ids: Iterable[int]) -> CaseSnapshot:
        """Read the rows of these cases from `store` (a SqlStore): five queries, whatever their number."""
        from backoffice.store.sql_store import _case, _event

        wanted = sorted(set(case_ids))
        found: dict[int, Case] = {}
        history: dict[int, list[EngineEvent]] = defaultdict(list)
        work: dict[int, list[Task]] = defaultdict(list)
        votes: dict[tuple[int, int], list[Vote]] = defaultdict(list)
        attached: dict[int, list[AttachedEvidence]] = defaultdict(list)
        if wanted:
            with store._connect() as connection:
                for row in connection.execute(sa.select(cases).where(cases.c.id.in_(wanted))):
                    found[row.id] = _case(row)
                for row in connection.execute(sa.select(events).where(events.c.case_id.in_(wanted))
                                              .order_by(events.c.id)):
                    history[row.case_id].append(_event(row))
                for row in connection.execute(sa.select(tasks).where(tasks.c.case_id.in_(wanted))
                                              .order_by(tasks.c.id)):
                    work[row.case_id].append(task_of(row))
                for row in connection.execute(sa.select(approval_votes).where(approval_votes.c.case_id.in_(wanted))
                                              .order_by(approval_votes.c.id)):
                    votes[(row.case_id, row.round)].append(
                        Vote(**{k: v for k, v in row._mapping.items() if k != "id"}))
                for row in connection.execute(
                        sa.select(evidence.c.case_id, evidence.c.name, evidence.c.reference, evidence.c.attached_by,
                                  evidence.c.attached_at).where(evidence.c.case_id.in_(wanted))
                        .order_by(evidence.c.id)):
                    attached[row.case_id].append(AttachedEvidence(row.name, row.reference, row.attached_by,
                                                                  row.attached_at))
        return cls(store, found=found, history=dict(history), work=dict(work), votes=dict(votes),
                   attached=dict(attached))

    # --- what the snapshot holds ---

    def attached(self, case_id: int) -> list[AttachedEvidence]:
        """Return a case's attachments in the order attached (as `evidence_reads.evidence_of`)."""
        if case_id not in self._found:
            from backoffice.store.evidence_reads import evidence_of

            return evidence_of(self._store.engine, case_id)
        return list(self._attached.get(case_id, ()))

    # --- the store's reads, answered from the rows read (the same answers the store gives) ---

    def case(self, case_id: int) -> Case | None:
        if case_id in self._found:
            return self._found[case_id]
        return self._store.case(case_id)

    def events(self, case_id: int) -> Sequence[EngineEvent]:
        if case_id in self._found:
            return list(self._history.get(case_id, ()))
        return self._store.events(case_id)

    def tasks(self, *, queue: str | None = None, case_id: int | None = None, status: TaskStatus | None = None,
              kind: str | None = None, after_id: int = 0, limit: int = 100) -> Sequence[Task]:
        if case_id not in self._found or queue is not None:
            return self._store.tasks(queue=queue, case_id=case_id, status=status, kind=kind, after_id=after_id,
                                     limit=limit)
        return [task for task in self._work.get(case_id, ())
                if task.id > after_id and (status is None or task.status == status)
                and (kind is None or task.kind == kind)][:limit]

    def votes(self, case_id: int, round: int) -> Sequence[Vote]:
        if case_id in self._found:
            return list(self._votes.get((case_id, round), ()))
        return self._store.votes(case_id, round)

    def evidence_names(self, case_id: int) -> set[str]:
        if case_id in self._found:
            return {piece.name for piece in self._attached.get(case_id, ())}
        return self._store.evidence_names(case_id)

    def principal_and_roles(self, principal_id: str, workflow: str | None):
        # The same voter is identified once per case and vote: read once per workflow.
        key = (principal_id, workflow)
        if key not in self._principals:
            self._principals[key] = self._store.principal_and_roles(principal_id, workflow)
        return self._principals[key]

    def principal_roles_and_rows(self, principal_id: str, workflow: str | None):
        # As above, with the rows the gate holds to their audit records (engine/directory_seal): the
        # engine holds them once, so the voter's check costs no statement per case.
        key = (principal_id, workflow)
        if key not in self._principal_rows:
            self._principal_rows[key] = self._store.principal_roles_and_rows(principal_id, workflow)
        return self._principal_rows[key]

    # --- nothing is written through a snapshot ---

    def transaction(self, *, audited: bool = True):
        raise RuntimeError("a CaseSnapshot only reads; write through the store")

    def __getattr__(self, name: str) -> Any:
        # Every other read goes to the store as it is.
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._store, name)
