"""The approvals inbox: what waits for my vote, the request and its evidence beside it, and why it is mine.

Each item carries the core's own answer to "would my vote count?" (`Engine.vote_refusal`,
the checks `approve` runs), for approving and for rejecting, so a page shows a refusal of
separation of duties before the click and never disagrees with the vote itself.

The inbox reads in a few queries, whatever its length: the approvals waiting (one search),
then the rows of their cases at once (`store.case_snapshot`: cases, events, tasks, votes,
evidence), over which the core's checks run as they are, asking the snapshot what they would
have asked the store, case by case.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backoffice.definitions.model import REQUESTER, Approval, Party
from backoffice.engine import Actor, Case, Engine
from backoffice.engine.ports import Vote
from backoffice.engine.tasks import Task, TaskKind
from backoffice.engine.worklist import TaskFilter, Viewer
from backoffice.errors import BackofficeError, EvidenceMissing
from backoffice.services.display import shown
from backoffice.store.case_snapshot import CaseSnapshot
from backoffice.store.evidence_reads import AttachedEvidence, evidence_of


@dataclass(frozen=True)
class InboxItem:
    """One approval waiting for the viewer's vote.

    Attributes:
        why: why the vote is theirs (the approval's rule and route), in a sentence.
        rules: the approval's rules, each in a sentence (quorum, evidence, separation of duties).
        approve_refusal, reject_refusal: the core's refusal of each vote, or None when it would count.
    """

    task: Task
    case: Case
    approval: Approval
    why: str
    rules: tuple[str, ...]
    evidence: tuple[AttachedEvidence, ...]
    missing_documents: tuple[str, ...]
    votes: tuple[Vote, ...]
    approve_refusal: BackofficeError | None
    reject_refusal: BackofficeError | None
    data: Any = None
    """The case's data as the page shows it (`services.display.shown`: amounts, times)."""

    @property
    def approve_blocked(self) -> bool:
        """Whether the approval is refused whatever the voter attaches (only missing documents can be attached)."""
        refused = self.approve_refusal
        if refused is None:
            return False
        return not isinstance(refused, EvidenceMissing) or bool(refused.fields)


def inbox(engine: Engine, viewer: Viewer, *, now: datetime, limit: int = 100, skip: int = 0) -> Sequence[InboxItem]:
    """Return the approvals waiting for the viewer's vote, soonest due first (one item per case).

    `skip` leaves out the first approvals of that order (the pages before), `limit` is the page's length.
    """
    waiting: list[Task] = []
    seen: set[int] = set()
    for work in engine.store.work_items(viewer, TaskFilter(kind=str(TaskKind.APPROVAL)), now=now,
                                        limit=(skip + limit) * 3):
        task = work.task
        # An approval open to a role the viewer holds, or given to them: theirs to vote on.
        # The roles they hold in the task's workflow: one granted in another workflow counts there only.
        actor = Actor(viewer.person, roles=viewer.roles_in(task.workflow))
        if task.case_id in seen or not task.may_be_taken_by(actor):
            continue
        seen.add(task.case_id)
        waiting.append(task)
    waiting = waiting[skip:]
    items: list[InboxItem] = []
    while waiting and len(items) < limit:
        # The cases of as many approvals as the page still lacks, read at once; another batch only when
        # some case has left its approval since (rare).
        batch, waiting = waiting[:limit - len(items)], waiting[limit - len(items):]
        core = _over_snapshot(engine, CaseSnapshot.read(engine.store, (task.case_id for task in batch)))
        for task in batch:
            item = inbox_item(core, viewer, task, now=now)
            if item is not None:
                items.append(item)
    return items


def inbox_item(engine: Engine, viewer: Viewer, task: Task, *, now: datetime) -> InboxItem | None:
    """Return the inbox's view of one approval task, or None when its case is no longer at that approval."""
    case = engine.case(task.case_id)
    running = engine.running(case.workflow, case.definition_version)
    definition = running.definition
    approval = definition.approval(case.state)
    if approval is None or case.state != task.state:
        return None
    store = engine.store
    attached = tuple(store.attached(case.id) if isinstance(store, CaseSnapshot) else evidence_of(store.engine, case.id))
    names = {piece.name for piece in attached}
    required = approval.evidence.documents if approval.evidence else []
    return InboxItem(
        task=task, case=case, approval=approval, why=_why(task, approval, viewer),
        rules=tuple(_rules(approval)), evidence=attached,
        missing_documents=tuple(name for name in required if name not in names),
        votes=tuple(store.votes(case.id, task.round)),
        approve_refusal=engine.vote_refusal(case.id, actor=viewer.person, now=now),
        reject_refusal=engine.vote_refusal(case.id, actor=viewer.person, now=now, reject=True),
        data=shown(case.data, running.inputs.json_schema()))


def _over_snapshot(engine: Engine, snapshot: CaseSnapshot) -> Engine:
    """Return the core over the snapshot: the same checks, reading the rows read at once."""
    core = Engine(snapshot, audit_key=engine._audit_key)
    # Deployed versions never change: share the ones this engine already rebuilt (and held to the trail)
    # instead of parsing them again; and the modes it checked.
    core._running = engine._running
    core._held_modes = engine._held_modes
    return core


def _why(task: Task, approval: Approval, viewer: Viewer) -> str:
    where = f"the approval of state {approval.state!r}"
    if task.escalated:
        return f"{where} timed out and moved to you as its secondary approver: your vote alone decides"
    if task.delegated_by:
        return f"{task.delegated_by} delegated their vote in {where} to you"
    if task.assignee == viewer.person:
        return f"{where} names you ({_party_list(approval.approvers)})"
    return f"{where} asks a vote of role {task.role}, which you hold ({_party_list(approval.approvers)})"


def _rules(approval: Approval) -> list[str]:
    needed = approval.votes_needed()
    rules = [f"{needed} approving vote{'s' if needed != 1 else ''} of {len(approval.approvers)} decide; "
             f"one rejection rejects"]
    if approval.evidence is not None:
        if approval.evidence.documents:
            rules.append("documents required before approving: " + ", ".join(approval.evidence.documents))
        if approval.evidence.fields:
            rules.append("fields required before approving: " + ", ".join(approval.evidence.fields))
    sod = approval.separation_of_duties
    if not any(party.role == REQUESTER for party in approval.approvers):
        rules.append("the requester never approves their own request")
    if sod is not None and sod.actors_of:
        rules.append("whoever acted in " + ", ".join(sod.actors_of) + " may not approve")
    if approval.timeout is not None:
        rules.append(f"after {approval.timeout.after} of business time it moves to {approval.timeout.to}")
    return rules


def _party_list(parties: Sequence[Party]) -> str:
    return "approvers: " + ", ".join("the requester" if party.role == REQUESTER else str(party) for party in parties)
