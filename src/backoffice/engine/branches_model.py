"""The values of parallel work: a branch (or sub-case) a case waits for, and where it stands.

A parallel state, a checklist or a sub-case step opens work that runs beside the case as child
cases of their own (each with its tasks, queue, role, timers, approvals and exceptions, held to
every control as any case is). The case records one `CaseBranch` per child; the join reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class BranchKind(StrEnum):
    BRANCH = "branch"
    """A branch of a parallel state or an item of a checklist: a child case on the same definition version."""
    SUBCASE = "subcase"
    """A case of another workflow that a sub-case step started and waits for."""


class BranchStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    """Came back to its parallel state (a branch), or reached an end state (a sub-case)."""
    ENDED = "ended"
    """A branch that reached an end state of its own (rejected, cancelled) instead of its join."""
    CANCELLED = "cancelled"
    """Closed by the join (another branch finished first, or an optional one left open) or by the case ending."""


@dataclass(frozen=True)
class NewBranch:
    case_id: int
    state: str
    round: int
    branch: str
    kind: BranchKind
    child_id: int
    required: bool
    opened_at: datetime
    due_at: datetime | None = None


@dataclass(frozen=True)
class CaseBranch:
    """A stored branch: the case waiting (case_id, in `state` since its version `round`) and its child case."""

    id: int
    case_id: int
    state: str
    round: int
    branch: str
    kind: BranchKind
    child_id: int
    required: bool
    status: BranchStatus
    opened_at: datetime
    outcome: str | None = None
    due_at: datetime | None = None
    closed_at: datetime | None = None
    reason: str | None = None

    def as_json(self) -> dict[str, object]:
        def when(moment: datetime | None) -> str | None:
            return moment.isoformat() if moment else None
        return {"branch": self.branch, "kind": str(self.kind), "state": self.state, "case_id": self.child_id,
                "required": self.required, "status": str(self.status), "outcome": self.outcome,
                "opened_at": when(self.opened_at), "due_at": when(self.due_at), "closed_at": when(self.closed_at),
                "reason": self.reason}
