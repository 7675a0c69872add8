"""What a reader sees of a case's parallel work: its branches, the case it is a branch of, why its clock stands.

A case's branch rows are its own record (bound to its audit chain): whoever may see the case
sees them, each with where its branch case stands now. The branch case itself (its data, tasks,
timeline) is read through the visibility rule like any case. The other way, a branch names the
case it belongs to only to a reader who may see that case: someone working one branch of
another team's case learns nothing of the case above it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from backoffice.engine import Case, Engine
from backoffice.engine.branches_model import BranchStatus, CaseBranch
from backoffice.engine.sla import PausedTime
from backoffice.services.principal import Principal
from backoffice.services.visibility import Visibility


@dataclass(frozen=True)
class BranchSeen:
    """A branch of a case, and the state its own case is in now."""

    row: CaseBranch
    case_state: str


@dataclass(frozen=True)
class ParentSeen:
    """The case a branch (or sub-case) belongs to, the state that opened it, and the branch's name there."""

    case_id: int
    state: str
    branch: str | None


def branches_of(engine: Engine, case: Case) -> list[BranchSeen]:
    """Return the branches and sub-cases a case opened (open and closed, in the order opened)."""
    # The case is in hand: its branches are read by its id (Engine.branches would read the case again).
    return [BranchSeen(row, engine.case(row.child_id).state) for row in engine.store.case_branches(case.id)]


def parent_of(engine: Engine, visibility: Visibility, principal: Principal, case: Case) -> ParentSeen | None:
    """Return the case a branch belongs to, when the principal may see it; None otherwise or for a plain case."""
    if case.parent_id is None:
        return None
    parent = engine.case(case.parent_id)
    if not visibility.may_see_case(principal, parent):
        return None
    row = next((branch for branch in engine.branches(parent.id) if branch.child_id == case.id), None)
    return ParentSeen(parent.id, case.parent_state or (row.state if row else parent.state),
                      row.branch if row is not None else case.branch)


def paused_because(engine: Engine, case: Case, paused: PausedTime, branches: Sequence[BranchSeen]) -> str | None:
    """Return why a case's SLA clock stands still: its own waiting state, or its branches all waiting; None running."""
    if paused.since is None:
        return None
    definition = engine.running(case.workflow, case.definition_version).definition
    if definition.pauses_sla(case.state):
        return f"it waits in {case.state!r}"
    waiting = [f"{seen.row.branch} in {seen.case_state!r}" for seen in branches
               if seen.row.status is BranchStatus.OPEN]
    if waiting:
        return "every open branch waits: " + ", ".join(waiting)
    return None
