"""Approvals: votes by the named approvers up to the quorum, after the evidence, never by the wrong person.

Mixed into `Engine`. Entering an approval state makes one task per approver (see `tasks`).
A vote is refused, with the rule named, when separation of duties excludes the voter (the
requester, or whoever acted in the states it lists), or when the evidence the definition
requires is not attached (documents) or filled (fields). The case moves on in the vote's
transaction when the quorum is reached, and on the first rejection. An approver may delegate
their task when the definition allows it; `tick` hands overdue approval tasks to the
secondary approver, whose single vote then decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from backoffice.definitions.model import REQUESTER, Approval, Definition, StateKind, Transition
from backoffice.engine.audit import AuditAction, AuditEntry
from backoffice.engine.evidence_reference import check_reference
from backoffice.engine.cases import Actor, Case, utc
from backoffice.engine.controls import Exit, person, persons_of
from backoffice.engine.events import EngineEvent
from backoffice.engine.ports import Vote
from backoffice.engine.rules import check_transition, filled
from backoffice.engine.sealed_rows import held_row_problem
from backoffice.engine.tasks import Assignment, Task, TaskKind, TaskStatus, assignment_of
from backoffice.errors import (AlreadyVoted, BackofficeError, CaseAltered, DelegationNotAllowed, EvidenceMissing, NoApprovalHere, NotAnApprover,
                               NotEligibleForTask, SeparationOfDuties, TransitionNotAllowed)

if TYPE_CHECKING:
    from backoffice.engine.engine import Engine
    from backoffice.engine.ports import StoreTransaction


class VoteDecision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class ApprovalOperations:
    """The approval half of `Engine`."""

    def attach_evidence(self: Engine, case_id: int, name: str, *, actor: Actor, now: datetime,
                        reference: str | None = None) -> None:
        """Attach a named document (a scan, a report) to a case, with where it is kept.

        Raises:
            InputRefused: a reference that names a kept file (`sha256:...`) but is not one.
        """
        now = utc(now)
        if reference is not None:
            check_reference(reference)
        case = self.case(case_id)
        actor = self.identify(actor, workflow=case.workflow, now=now)
        self._check_takes_part(self.running(case.workflow, case.definition_version).definition, case, actor,
                               requester=True, what=f"attach {name!r} to case {case.id}")
        with self.store.transaction() as tx:
            tx.insert_evidence(case.id, name, reference=reference, by=actor.id, at=now)
            self._audit(tx, AuditEntry(AuditAction.EVIDENCE_ATTACHED, actor=actor.id, role=actor.role, at=now,
                                       case_id=case.id, workflow=case.workflow, version=case.definition_version,
                                       detail={"name": name, "reference": reference, **actor.on_behalf()}))

    def approve(self: Engine, case_id: int, *, actor: Actor, now: datetime, reject: bool = False,
                note: str | None = None) -> Case:
        """Cast the actor's vote on the case's approval; return the case (moved on when decided).

        Raises:
            NoApprovalHere: the case is not in an approval state.
            SeparationOfDuties: the rule that excludes this voter (named in the message).
            EvidenceMissing: required documents or fields are absent (approving only).
            NotAnApprover: the actor has no open approval task on the case (or voted already).
        """
        now = utc(now)
        case = self.case(case_id)
        actor = self.identify(actor, workflow=case.workflow, now=now)
        with self.store.transaction() as tx:
            # One vote at a time on a case, planned on the votes cast so far: two votes sent at once
            # (one person's under two roles, or theirs and their delegate's) are checked one after
            # the other, never both against the votes before either (FOR UPDATE on PostgreSQL; on
            # SQLite the writing transaction holds the database already).
            tx.lock_case(case_id)
            case = self.case(case_id)
            plan = self._plan_vote(case, actor, now=now, reject=reject, held_in=tx)
            task, cast, approval, transition = plan.task, plan.cast, plan.approval, plan.transition
            decision = VoteDecision.REJECT if reject else VoteDecision.APPROVE
            approvals = sum(v.decision == VoteDecision.APPROVE for v in cast)
            vote = Vote(case_id=case.id, state=case.state, round=task.round, task_id=task.id,
                        approver=person(actor.id) or actor.id, decision=str(decision), at=now, role=actor.role,
                        on_behalf_of=person(actor.on_behalf_of or task.delegated_by), note=note)
            detail = {"task_id": task.id, "vote": str(decision), "votes_for": approvals + (not reject),
                      "quorum": approval.votes_needed(), **({"note": note} if note else {})}
            if transition is not None:
                moved = self._moved(case, transition.to, actor=actor, now=now, data=case.data)
            if not tx.close_task(task.id, status=TaskStatus.COMPLETED, by=actor.id, at=now):
                raise NotAnApprover(case.id, actor.id, [])
            tx.insert_vote(vote)
            if transition is not None:
                return self._write_move(tx, case, moved, actor=actor, role=actor.role, now=now, data=None,
                                        activity=transition.name or transition.to, transition=transition.name,
                                        detail=detail, how=Exit.DECISION)
            event = tx.insert_event(EngineEvent(case_id=case.id, activity=f"{decision} vote", timestamp=now,
                                                workflow=case.workflow, version=case.definition_version,
                                                resource=actor.id, role=actor.role, branch=case.branch,
                                                attributes={"state": case.state, **detail,
                                                            **actor.on_behalf()}))
            self._audit(tx, AuditEntry(AuditAction.APPROVAL_VOTED, actor=actor.id, role=actor.role, at=now,
                                       case_id=case.id, workflow=case.workflow, version=case.definition_version,
                                       detail={"event_id": event.id, "state": case.state, **detail,
                                               **actor.on_behalf()}))
        return case

    def vote_refusal(self: Engine, case_id: int, *, actor: Actor | str, now: datetime,
                     reject: bool = False) -> BackofficeError | None:
        """Return why the actor's vote on the case would be refused now, or None when it would count.

        Runs the very checks `approve` runs before it writes (the gate, separation of duties,
        the evidence, the approver's open task, a vote cast already, the way out a deciding vote
        takes), so a page that shows the refusal before the click never disagrees with the core.
        Nothing is written.

        Raises:
            UnknownCase: there is no such case.
        """
        now = utc(now)
        case = self.case(case_id)
        try:
            who = self.identify(actor, workflow=case.workflow, now=now)
            self._plan_vote(case, who, now=now, reject=reject)
        except BackofficeError as refused:
            return refused
        return None

    def delegate(self: Engine, case_id: int, *, actor: Actor, to: str, now: datetime) -> Task:
        """Hand the actor's approval task on a case to another person, when the definition allows it.

        Raises:
            NoApprovalHere, NotAnApprover: as for `approve`.
            DelegationNotAllowed: the approval says delegation: false.
            NotEligibleForTask, SeparationOfDuties: the receiver lacks the task's role, or may not vote here.
        """
        now = utc(now)
        case = self.case(case_id)
        actor = self.identify(actor, workflow=case.workflow, now=now)
        # The task goes to a person of the directory under their one spelling.
        receiver = self.identify(to, workflow=case.workflow, now=now)
        with self.store.transaction() as tx:
            # Checked on the case and its task as they are now, one change at a time on the case (as a
            # vote is): a delegation planned on a task someone else delegated, claimed or voted on
            # meanwhile would take it from them (FOR UPDATE on PostgreSQL; SQLite's writing
            # transaction holds the database already).
            tx.lock_case(case_id)
            case = self.case(case_id)
            task = self._planned_delegation(case, actor, receiver, now=now)
            self._approval_held(tx, case, task)
            if not tx.reassign_task(task.id, Assignment(queue=None, assignee=receiver.id), delegated_by=actor.id):
                raise NotAnApprover(case.id, actor.id, [])
            self._audit(tx, AuditEntry(AuditAction.APPROVAL_DELEGATED, actor=actor.id, role=actor.role, at=now,
                                       case_id=case.id, workflow=case.workflow, version=case.definition_version,
                                       detail={"task_id": task.id, "to": receiver.id}))
        return self.task(task.id)

    def tick(self: Engine, now: datetime) -> Sequence[Task]:
        """Hand every approval task whose timeout passed by `now` to the secondary approver; return them."""
        now = utc(now)
        escalated = []
        for task in self.store.due_escalations(now):
            try:
                case = self.case(task.case_id)
            except CaseAltered:
                continue  # its case was edited outside the engine: not escalated; `audit verify` names it
            definition = self.running(case.workflow, case.definition_version).definition
            approval = definition.approval(task.state)
            if approval is None or approval.timeout is None:
                continue
            secondary = assignment_of(definition, approval.timeout.to, case)
            system = Actor("backoffice")
            try:
                with self.store.transaction() as tx:
                    # The task row held to its record: an escalation time moved back in SQL hands nothing on.
                    self._approval_held(tx, case, task)
                    if not tx.reassign_task(task.id, secondary, escalated=True):
                        continue  # decided or escalated meanwhile
                    detail = {"task_id": task.id, "state": task.state, "to": str(approval.timeout.to),
                              "after": str(approval.timeout.after), "from": task.assignment.describe()}
                    event = tx.insert_event(EngineEvent(case_id=case.id, activity="escalate approval", timestamp=now,
                                                        workflow=case.workflow, version=case.definition_version,
                                                        resource=system.id, attributes=detail,
                                                        branch=case.branch))
                    self._audit(tx, AuditEntry(AuditAction.APPROVAL_ESCALATED, actor=system.id, at=now, case_id=case.id,
                                               workflow=case.workflow, version=case.definition_version,
                                               detail={"event_id": event.id, **detail}))
                    self._notify(tx, case, kind="approval_escalated", subject=f"approval of {task.state} is yours",
                                 to=secondary.describe(), now=now, key=f"approval-timeout/{task.id}", detail=detail)
            except CaseAltered:
                continue  # the task or a vote was edited outside the engine: not escalated; `audit verify` names it
            escalated.append(self.task(task.id))
        return escalated

    # --- inside ---

    def _planned_delegation(self: Engine, case: Case, actor: Actor, receiver: Actor, *, now: datetime) -> Task:
        """Check that the (identified) actor may hand their approval task on the case to the receiver; return it.

        Raises what `delegate` raises before it writes (see there).
        """
        definition = self.running(case.workflow, case.definition_version).definition
        approval = definition.approval(case.state)
        if approval is None:
            raise NoApprovalHere(case.id, case.state)
        if not approval.delegation:
            raise DelegationNotAllowed(case.id, case.state)
        task = self._approval_task(case, actor, now)
        # The receiver must be eligible: hold the role the task is for, as the delegating approver does.
        needed = task.role or definition.state(case.state).role
        if needed is not None and needed not in receiver.roles:
            raise NotEligibleForTask(task.id, receiver.id, f"role {needed}")
        # Nor excluded from this approval (the requester, a reviewer): their vote would be refused anyway.
        rule = self._excluded_by(approval, case, persons_of(receiver))
        if rule is not None:
            raise SeparationOfDuties(case.id, str(receiver), rule)
        return task

    def _plan_vote(self: Engine, case: Case, actor: Actor, *, now: datetime, reject: bool,
                   held_in: StoreTransaction | None = None) -> _VotePlan:
        """Check that the (identified) actor may cast this vote now; return what casting it needs.

        Args:
            held_in: the vote's transaction: the task and the votes cast so far are then held to their records
                (`_approval_held`); a check before the click (`vote_refusal`) reads them as they are.

        Raises what `approve` raises before it writes (see there).
        """
        definition = self.running(case.workflow, case.definition_version).definition
        approval = definition.approval(case.state)
        if approval is None or definition.state(case.state).kind is not StateKind.APPROVAL:
            raise NoApprovalHere(case.id, case.state)
        rule = self._excluded_by(approval, case, persons_of(actor))
        if rule is not None:
            raise SeparationOfDuties(case.id, str(actor), rule)
        if not reject:
            self._check_evidence(approval, case, held_in=held_in)
        task = self._approval_task(case, actor, now)
        # Who this vote counts for: the actor, whom they act for, and whoever delegated the task to them.
        voters = persons_of(actor, task.delegated_by)
        if task.delegated_by is not None:
            rule = self._excluded_by(approval, case, voters)
            if rule is not None:
                raise SeparationOfDuties(case.id, f"{actor.id} (for {task.delegated_by})", rule)
        cast = self.store.votes(case.id, task.round) if held_in is None else self._approval_held(held_in, case, task)
        for earlier in cast:
            if voters & persons_of(Actor(earlier.approver), earlier.on_behalf_of):
                raise AlreadyVoted(case.id, actor.id, earlier.approver, case.state)
        approvals = sum(v.decision == VoteDecision.APPROVE for v in cast)
        decided = reject or task.escalated or approvals + 1 >= approval.votes_needed()
        transition = _outcome(definition, case, actor, reject=reject, now=now) if decided else None
        return _VotePlan(approval=approval, task=task, cast=cast, transition=transition)

    def _approval_held(self: Engine, tx: StoreTransaction, case: Case, task: Task) -> list[Vote]:
        """Return the votes of the task's round, once the task and each vote are held to the record that wrote them.

        A vote decides by rows the case row does not hold: the votes cast so far (how many approved,
        and who, so nobody votes twice) and the approval task (whose it is, whether it was escalated
        so that one vote decides). A vote inserted or renamed in SQL, or a task given to someone or
        marked escalated there, would let a vote through that the approval refuses: refused, as an
        edited case is.

        Raises:
            CaseAltered: the task or a vote is not as the newest record of the case's chain that lists it.
        """
        task_seal, votes, records = tx.approval_as_written(case.id, task.id, task.round)
        for seal in [task_seal, *(vote_seal for _, vote_seal in votes)]:
            if seal is None:
                continue
            problem = held_row_problem(seal, records, sealer=self.audit_key, legacy_marks=self.store.legacy_row_marks)
            if problem is not None:
                what = "approval task" if seal.table == "tasks" else "vote"
                raise CaseAltered(case.id, f"has an {what} of its approval of {case.state!r} whose row "
                                           f"({seal.table} {seal.key}) {problem}")
        return [vote for vote, _ in votes]

    def _excluded_by(self: Engine, approval: Approval, case: Case, voters: frozenset[str]) -> str | None:
        """Return the rule that excludes these persons from voting on the case, or None.

        Persons, never spellings: 'Bob ' and 'BOB' are bob. The requester never approves their
        own request, whatever the definition says, unless the approval names the requester role
        among its approvers (a confirmation by the requester is then the point of it).
        """
        requester = person(case.requester)
        rules = approval.separation_of_duties
        names_requester = any(party.role == REQUESTER for party in approval.approvers)
        if requester in voters and rules is not None and rules.requester:
            return "they requested it (separation_of_duties.requester)"
        if requester in voters and not names_requester:
            return "they requested it, and nobody approves their own request"
        if rules is None or not rules.actors_of:
            return None
        # A branch's story starts in its case: whoever acted there before the split counts too.
        for event in (self.lineage_events(case) if case.parent_id is not None else self.store.events(case.id)):
            attributes = event.attributes
            if attributes.get("from_state") is not None and attributes.get("from_state") == attributes.get("to_state") \
                    and "transition" not in attributes and not event.reason:
                continue  # no act in the state: a version migration or a timer's escalation
            acted_in = attributes.get("from_state", attributes.get("state"))
            if acted_in in rules.actors_of and voters & {person(event.resource), person(attributes.get("on_behalf_of"))}:
                return (f"{event.resource} acted in {acted_in!r} ({event.activity}), a state "
                        f"separation_of_duties.actors_of names")
        return None

    def _check_evidence(self: Engine, approval: Approval, case: Case,
                        held_in: StoreTransaction | None = None) -> None:
        """Refuse an approval whose required documents are not attached or fields not filled.

        In the vote's transaction (`held_in`) each required document is held to the record that
        attached it: a row inserted in SQL would stand for a document nobody attached.
        """
        if approval.evidence is None:
            return
        attached = self._attached(case, approval.evidence.documents, held_in)
        parent = case
        while parent.parent_id is not None and parent.branch is not None:
            # A branch decides on its case's documents too: what was attached before the split counts.
            parent = self.case(parent.parent_id)
            attached |= self._attached(parent, approval.evidence.documents, held_in)
        documents = [name for name in approval.evidence.documents if name not in attached]
        fields = [name for name in approval.evidence.fields if not filled(case.data, name)]
        if documents or fields:
            raise EvidenceMissing(case.id, documents, fields)

    def _attached(self: Engine, case: Case, documents: Sequence[str], held_in: StoreTransaction | None) -> set[str]:
        """Return the names of the case's evidence (held to their records when `held_in` is the vote's transaction)."""
        if held_in is None or not documents:
            return set(self.store.evidence_names(case.id))
        rows, records = held_in.evidence_as_written(case.id, documents)
        for name, seal in rows:
            problem = None if seal is None else held_row_problem(seal, records, sealer=self.audit_key,
                                                                 legacy_marks=self.store.legacy_row_marks)
            if problem is not None:
                raise CaseAltered(case.id, f"has evidence {name!r} whose row ({seal.table} {seal.key}) {problem}")
        return {name for name, _ in rows}

    def _approval_task(self: Engine, case: Case, actor: Actor, now: datetime) -> Task:
        open_tasks = [t for t in self.store.tasks(case_id=case.id, status=TaskStatus.OPEN, kind=TaskKind.APPROVAL)]
        mine = [t for t in open_tasks if t.may_be_taken_by(actor) and t.held_by(now) in (None, actor.id)]
        if not mine:
            raise NotAnApprover(case.id, actor.id, [t.assignment.describe() for t in open_tasks])
        # A task given to this person (delegated, escalated) before one open to their whole role.
        return sorted(mine, key=lambda t: (t.assignee is None, t.id))[0]


@dataclass(frozen=True)
class _VotePlan:
    """What casting a vote that passed every check needs: the approval, the voter's task, the votes
    cast before, and the way out when this vote decides (None when it does not)."""

    approval: Approval
    task: Task
    cast: Sequence[Vote]
    transition: Transition | None


def _outcome(definition: Definition, case: Case, actor: Actor, *, reject: bool, now: datetime) -> Transition:
    """Return the way out a deciding vote takes: the first approving (or rejecting) transition allowed now.

    An approval may have several approving ways out told apart by their guards ("approve, remove
    now" or "approve, remove at cutoff"), so the first one whose guard holds is taken, in the
    order written, as for any other move.

    Raises:
        TransitionNotAllowed: no such transition, or none is allowed now (the first refusal is named).
    """
    outgoing = definition.allowed_transitions(case.state)
    rejecting = [t for t in outgoing if definition.state(t.to).kind is StateKind.CANCELLED
                 or (t.name or "").lower().startswith("reject")]
    chosen = rejecting if reject else [t for t in outgoing if t not in rejecting]
    if not chosen:
        raise TransitionNotAllowed(case.id, case.state, "?", f"{case.state!r} has no transition for a "
                                                             f"{'rejection' if reject else 'approval'}")
    refusals = []
    for transition in chosen:
        # The approval section is the authority here: its approvers may take the move it decides,
        # even where the transition names other roles (a delegate, the secondary after a timeout).
        authorized = Actor(actor.id, None, (*actor.roles, *transition.roles,
                                            *filter(None, [definition.state(case.state).role])))
        allowed = check_transition(definition, case, transition.to, actor=authorized, data=case.data, now=now)
        if allowed:
            return transition
        refusals.append(allowed.reason or "")
    raise TransitionNotAllowed(case.id, case.state, chosen[0].to, refusals[0])

