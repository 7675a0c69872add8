"""Governed change: a version that weakens a control waits for a second person before it is deployed.

Mixed into `Engine`. `deploy` asks `_why_governed` of every new version: the control diff against
the deployed version (`definitions.control_diff`), and the deployed version's change rules
(`change.needs_second_approver`, default true for a risk tag). When either says so, the version is
stored as a pending change, not deployed: new cases keep starting on the deployed version. A second
person approves that exact content (its content hash): someone other than its deployer, holding
the change-approver role and, when the deployed version lists `change.approvers`, one of those
roles. Then it becomes the deployed version, in the approval's transaction. The first version
of a workflow has nothing to weaken and is deployed at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from backoffice.definitions.control_diff import ControlDiff, diff_controls
from backoffice.definitions.model import Definition
from backoffice.engine.audit import AuditAction, AuditEntry, seal_row
from backoffice.engine.cases import Actor, utc
from backoffice.engine.controls import person, persons_of
from backoffice.engine.ports import StoredVersion, StoreTransaction, VersionChange
from backoffice.engine.roles import PlatformRole, require_role
from backoffice.engine.sealed_rows import CHANGES_TABLE
from backoffice.engine.versions import DeployedVersion, read_version, running_version
from backoffice.errors import ChangeAlreadyPending, ChangeApprovalRefused, ChangeNotPending

if TYPE_CHECKING:
    from backoffice.engine.engine import Engine

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
PREVIEW_READER = "check"
"""Who a previewed candidate names as its deployer: no one (a preview is never stored)."""


@dataclass(frozen=True)
class DeployPlan:
    """What deploying a file would do: the candidate version, its control diff, and whether it must wait."""

    candidate: StoredVersion
    diff: ControlDiff
    second_approver_required: bool
    existing: StoredVersion | None = None

    @property
    def waits(self) -> bool:
        """Whether the version waits for a second person instead of being deployed."""
        return self.existing is None and (self.diff.weakens or self.second_approver_required)

    def reasons(self) -> dict[str, Any]:
        return {"control_diff": self.diff.as_json(), "second_approver_required": self.second_approver_required}

    def lines(self) -> list[str]:
        """Return what a reviewer reads: the control diff, and the change rules when they ask for a second person."""
        found = self.diff.lines()
        if self.second_approver_required and not self.diff.weakens:
            found.append(f"  the change rules of {self.candidate.workflow} ask for a second approver "
                         f"(change.needs_second_approver, or a risk tag)")
        return found


class GovernanceOperations:
    """The change-control half of `Engine`."""

    def plan_deploy(self: Engine, path: Path | str, *, actor: Actor | str, now: datetime) -> DeployPlan:
        """Read a definition file and say what deploying it would do, changing nothing.

        Raises:
            DefinitionError, ContractFileError, VersionAlreadyDeployed, VersionOutOfOrder: as for `deploy`.
            IdentityError: the actor is refused by the directory (see `gate`).
        """
        now = utc(now)
        return self._plan_deploy(path, actor=self.identify(actor, workflow=None, now=now), now=now)

    def deploy_preview(self: Engine, path: Path | str, *, now: datetime) -> DeployPlan:
        """Say what deploying a file would do, for a reader who acts as no one (`backoffice check --db`).

        The same plan as `plan_deploy` (its candidate records no deployer); nothing is changed, so
        no one need be identified.
        """
        return self._plan_deploy(path, actor=Actor(PREVIEW_READER), now=utc(now))

    def changes(self: Engine, workflow: str | None = None, *, status: str | None = PENDING) -> Sequence[VersionChange]:
        """Return the versions waiting for a second person (or, with `status`, decided ones; None: all)."""
        return self.store.changes(workflow, status=status)

    def approve_change(self: Engine, workflow: str, version: int, *, content_hash: str, actor: Actor | str,
                       now: datetime, note: str | None = None) -> DeployedVersion:
        """Approve a pending version by its exact content hash; it becomes the deployed version.

        Raises:
            ChangeNotPending: no such version waits, or it waits with other content.
            ChangeApprovalRefused: the actor deployed it, or lacks the roles the change rules name.
            RoleRequired: the actor does not hold the change-approver role (in the directory).
            VersionOutOfOrder: a higher version was deployed meanwhile.
            IdentityError: the actor is refused by the directory (see `gate`).
        """
        now = utc(now)
        actor = self.identify(actor, workflow=workflow, now=now)
        change = self._pending(workflow, version, content_hash)
        if _requesters(change) & persons_of(actor):
            raise ChangeApprovalRefused(workflow, version, str(actor), f"{_requested_by(change)} deployed it, and "
                                        f"a change is approved by a second person; expected another "
                                        f"change-approver")
        require_role(actor, PlatformRole.CHANGE_APPROVER, what=f"approve a change to {workflow}")
        self._check_change_approvers(change, actor)
        self._existing_version(change.candidate)
        with self.store.transaction() as tx:
            change = self._sealed_change(tx, change, content_hash)
            candidate = replace(change.candidate, deployed_at=now)
            if not tx.decide_change(change.id, status=APPROVED, by=actor.id, at=now, note=note):
                raise ChangeNotPending(workflow, version, "it was decided meanwhile")
            stored = tx.insert_version(candidate)
            detail = {"content_hash": stored.content_hash, "requested_by": change.requested_by,
                      "approved_by": actor.id, **({"note": note} if note else {}), **actor.on_behalf()}
            self._audit(tx, AuditEntry(AuditAction.CHANGE_APPROVED, actor=actor.id, role=actor.role, at=now,
                                       workflow=workflow, version=version, detail=detail))
            self._audit(tx, AuditEntry(AuditAction.WORKFLOW_DEPLOYED, actor=change.requested_by, at=now,
                                       workflow=workflow, version=version,
                                       detail={**detail, "status": stored.status}))
        return DeployedVersion.of(stored, created=True)

    def reject_change(self: Engine, workflow: str, version: int, *, content_hash: str, actor: Actor | str,
                      now: datetime, note: str | None = None) -> VersionChange:
        """Reject a pending version (a change-approver), or withdraw it (its deployer); it is never deployed.

        Raises:
            ChangeNotPending: no such version waits, or it waits with other content.
            RoleRequired: the actor neither deployed it nor holds the change-approver role.
            IdentityError: the actor is refused by the directory (see `gate`).
        """
        now = utc(now)
        actor = self.identify(actor, workflow=workflow, now=now)
        change = self._pending(workflow, version, content_hash)
        if not _requesters(change) & persons_of(actor):
            require_role(actor, PlatformRole.CHANGE_APPROVER, what=f"reject a change to {workflow}")
        with self.store.transaction() as tx:
            if not tx.decide_change(change.id, status=REJECTED, by=actor.id, at=now, note=note):
                raise ChangeNotPending(workflow, version, "it was decided meanwhile")
            self._audit(tx, AuditEntry(AuditAction.CHANGE_REJECTED, actor=actor.id, role=actor.role, at=now,
                                       workflow=workflow, version=version,
                                       detail={"content_hash": change.candidate.content_hash,
                                               "requested_by": change.requested_by, **({"note": note} if note else {}),
                                               **actor.on_behalf()}))
        return replace(change, status=REJECTED, decided_by=actor.id, decided_at=now, note=note)

    # --- inside ---

    def _plan_deploy(self: Engine, path: Path | str, *, actor: Actor, now: datetime) -> DeployPlan:
        """`plan_deploy` for an actor the gate has identified."""
        candidate = read_version(path, actor=actor.id, now=now)
        existing = self._existing_version(candidate)
        deployed = self.store.version(candidate.workflow)
        new = running_version(candidate)
        if deployed is None:
            return DeployPlan(candidate, diff_controls(None, new.definition), False, existing)
        old = self.running(deployed.workflow, deployed.version)
        diff = diff_controls(old.definition, new.definition, old_inputs=old.inputs, new_inputs=new.inputs)
        return DeployPlan(candidate, diff, old.definition.change.second_approver_required, existing)

    def _request_change(self: Engine, plan: DeployPlan, what: Mapping[str, Any], *, actor: Actor, now: datetime
                        ) -> DeployedVersion:
        """Store a version that must wait as a pending change (the same content again: the same change).

        `what` says in the audit record where the version came from (a file, a calendar changed)."""
        candidate = plan.candidate
        for waiting in self.store.changes(candidate.workflow):
            if waiting.candidate.version == candidate.version:
                if waiting.candidate.content_hash == candidate.content_hash:
                    return _pending_answer(waiting, plan, created=False)
                raise ChangeAlreadyPending(candidate.workflow, candidate.version, waiting.candidate.content_hash)
        # Whom the deployer acted for is a deployer too: neither approves the change.
        change = VersionChange(candidate=candidate, status=PENDING, reasons={**plan.reasons(), **actor.on_behalf()},
                               requested_by=actor.id, requested_at=now)
        with self.store.transaction() as tx:
            stored = tx.insert_change(change)
            self._audit(tx, AuditEntry(AuditAction.CHANGE_PENDING, actor=actor.id, at=now,
                                       workflow=candidate.workflow, version=candidate.version,
                                       detail={"content_hash": candidate.content_hash, **what,
                                               **plan.reasons(), **actor.on_behalf()}))
        return _pending_answer(stored, plan, created=True)

    def _sealed_change(self: Engine, tx: StoreTransaction, change: VersionChange, content_hash: str) -> VersionChange:
        """Return the pending change as its row is now, locked, held to the audit record that wrote it.

        The version deployed is built from this row: a candidate edited in SQL after it was requested
        (its body changed under the content hash the approver reviewed) would otherwise be deployed,
        and sealed anew by the approval.

        Raises:
            DefinitionAltered: the change's row is not as its audited request wrote it.
            ChangeNotPending, ChangeApprovalRefused: it was decided, or its requester changed, meanwhile.
        """
        found = tx.locked_change(change.id)
        workflow, version = change.candidate.workflow, change.candidate.version
        if found is None:
            raise ChangeNotPending(workflow, version, "it was decided meanwhile")
        locked, values = found
        self._hold_to_trail(seal_row(CHANGES_TABLE, locked.id, values, case_id=None), CHANGES_TABLE, locked.id,
                            workflow=workflow, version=version)
        if locked.status != PENDING or locked.candidate.content_hash != change.candidate.content_hash \
                or locked.requested_by != change.requested_by or locked.candidate.content_hash != content_hash.strip().lower():
            raise ChangeNotPending(workflow, version, "it was decided or changed meanwhile")
        return locked

    def _pending(self: Engine, workflow: str, version: int, content_hash: str) -> VersionChange:
        waiting = [c for c in self.store.changes(workflow) if c.candidate.version == version]
        if not waiting:
            raise ChangeNotPending(workflow, version, "no change of this version waits for approval; expected one "
                                                      "that `backoffice workflow changes` lists")
        change = waiting[0]
        if content_hash.strip().lower() != change.candidate.content_hash:
            raise ChangeNotPending(workflow, version, f"the content waiting is {change.candidate.content_hash}, not "
                                                      f"{content_hash!r}; expected the full content hash of the "
                                                      f"version you reviewed")
        return change

    def _check_change_approvers(self: Engine, change: VersionChange, actor: Actor) -> None:
        deployed = self.store.version(change.candidate.workflow)
        rules: Definition = (self.running(deployed.workflow, deployed.version).definition if deployed is not None
                             else running_version(change.candidate).definition)
        parties = rules.change.approvers
        if not parties:
            return
        roles = [p.role for p in parties if p.role]
        people = {person(p.person) for p in parties if p.person}
        if any(role in actor.roles for role in roles) or persons_of(actor) & people:
            return
        named = ", ".join(str(p) for p in parties)
        raise ChangeApprovalRefused(change.candidate.workflow, change.candidate.version, actor.id,
                                    f"the change rules of {change.candidate.workflow} name its approvers ({named}), "
                                    f"and {actor.id} is none of them; expected one of them, with the "
                                    f"change-approver role")


def _requesters(change: VersionChange) -> frozenset[str]:
    """Return the persons who deployed a change: its deployer, and whom they acted for."""
    return frozenset(filter(None, (person(change.requested_by), person(change.reasons.get("on_behalf_of")))))


def _requested_by(change: VersionChange) -> str:
    acted_for = change.reasons.get("on_behalf_of")
    return f"{change.requested_by} on behalf of {acted_for}" if acted_for else change.requested_by


def _pending_answer(change: VersionChange, plan: DeployPlan, *, created: bool) -> DeployedVersion:
    version = change.candidate
    return DeployedVersion(version.workflow, version.version, version.content_hash, change.requested_at,
                           change.requested_by, created, pending=True, lines=tuple(plan.lines()))
