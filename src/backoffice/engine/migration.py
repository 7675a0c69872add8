"""Moving running cases to a newer version of their workflow, when their state exists there.

A case stays on the version it started with, so a new version never breaks running work. When
the change is one the running cases should get (a fixed guard, a new reminder), `migrate_cases`
moves each open case whose state means the same in the new version: the state exists there with
the same kind, and the case data passes the new version's inputs. The others stay where they
are, each with its reason, and finish on their old version.

Each case moves in a transaction of its own: the case (its definition version and its own
version counter), an event, and an audit record; its pending timers are replaced by the new
version's (those that already fired under the old version are not fired twice).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

from backoffice.definitions.model import DefinitionStatus
from backoffice.engine.audit import AuditAction, AuditEntry
from backoffice.engine.cases import Actor, Case, utc
from backoffice.engine.controls import control_differs
from backoffice.engine.events import EngineEvent, change_attributes
from backoffice.engine.roles import PlatformRole, require_role
from backoffice.engine.timers import TimerClock, TimerStatus, sla_timers, timers_on_entering
from backoffice.engine.versions import RunningVersion
from backoffice.errors import CaseAltered, StaleVersion, WorkflowNotActive

if TYPE_CHECKING:
    from backoffice.engine.engine import Engine

MIGRATE_ACTIVITY = "migrate version"


@dataclass(frozen=True)
class CaseLeft:
    """An open case that stays on its version, and why."""

    case: Case
    reason: str


@dataclass(frozen=True)
class Migration:
    """What a migration did (or, dry, would do): the cases moved and the cases left, with reasons."""

    workflow: str
    to_version: int
    moved: list[Case] = field(default_factory=list)
    left: list[CaseLeft] = field(default_factory=list)
    dry_run: bool = False


def why_not(case: Case, old: RunningVersion, new: RunningVersion) -> str | None:
    """Return why a case cannot move to the new version, or None when it can."""
    target = new.definition.states.get(case.state)
    if target is None:
        return f"version {new.definition.version} has no state {case.state!r}"
    kind = old.definition.state(case.state).kind
    if case.parent_id is not None and case.branch is not None:
        return (f"it is branch {case.branch!r} of case {case.parent_id}: a branch runs on its case's version and "
                f"moves with it, once the branches have joined")
    if kind.opens_branches:
        return (f"it waits in {case.state!r} for its branches or sub-case to finish; migrate it after they join, "
                f"since its open branches run on version {old.definition.version}")
    if target.kind is not kind:
        return (f"{case.state!r} is {kind.value} in version {old.definition.version} and "
                f"{target.kind.value} in version {new.definition.version}")
    control = control_differs(old.definition, new.definition, case.state)
    if control is not None:
        return control
    violations = new.violations(dict(case.data))
    if violations:
        return f"its data breaks version {new.definition.version}'s inputs: " + "; ".join(map(str, violations))
    return None


class MigrationOperations:
    """Moving running cases between versions; mixed into `Engine`."""

    def migrate_cases(self: Engine, workflow: str, *, actor: Actor | str, now: datetime, to_version: int | None = None,
                      dry_run: bool = False, batch: int = 500) -> Migration:
        """Move the open cases of older versions whose state exists in `to_version` (default: the latest).

        A case in a control state (an approval, a controlled step) moves only when the control is
        the same in the new version: votes cast under one set of rules are never counted under another.

        Raises:
            RoleRequired: the actor is not an operator (a dry run is open to anyone).
            UnknownWorkflow: the workflow (or that version) is not deployed.
            WorkflowNotActive: the target version is a draft or retired.
        """
        now = utc(now)
        who = self.identify(actor, workflow=workflow, now=now)
        if not dry_run:
            require_role(who, PlatformRole.OPERATOR, what=f"migrate the cases of {workflow}")
        new = self.running(workflow, to_version)
        if new.stored.status != DefinitionStatus.ACTIVE:
            raise WorkflowNotActive(workflow, new.stored.version, new.stored.status)
        migration = Migration(workflow, new.stored.version, dry_run=dry_run)
        after_id = 0
        while True:
            page = self.cases(workflow=workflow, after_id=after_id, limit=batch)
            if not page:
                return migration
            after_id = page[-1].id
            for case in page:
                if case.definition_version >= new.stored.version:
                    continue
                old = self.running(workflow, case.definition_version)
                if old.definition.state(case.state).kind.is_end:
                    continue
                reason = why_not(case, old, new)
                if reason is not None:
                    migration.left.append(CaseLeft(case, reason))
                elif dry_run:
                    migration.moved.append(case)
                else:
                    try:
                        migration.moved.append(self._migrate(case, new, actor=who, now=now))
                    except StaleVersion:
                        migration.left.append(CaseLeft(case, "it changed while migrating; run the migration again"))
                    except CaseAltered as altered:
                        migration.left.append(CaseLeft(case, f"{altered.problem}; run `backoffice audit verify`"))

    def _migrate(self: Engine, case: Case, new: RunningVersion, *, actor: Actor, now: datetime) -> Case:
        definition = new.definition
        moved = replace(case, definition_version=new.stored.version, updated_at=now)
        with self.store.transaction() as tx:
            # Held to the record that last wrote it, in the migration's transaction: the listed row was read
            # outside it, and a migration's write would otherwise vouch for a row edited in SQL.
            self.case(case.id)
            stored = tx.move_case_to_version(moved, expected_version=case.version)
            fired = {timer.name for timer in tx.case_timers(case.id) if timer.status is TimerStatus.FIRED}
            tx.cancel_timers(case.id, at=now)
            paused = self._paused_held(tx, case.id)
            answered = case.state != definition.intake_state
            for timer in sla_timers(definition, stored, paused=paused, now=now):
                if timer.name not in fired and not (answered and timer.clock is TimerClock.FIRST_RESPONSE):
                    tx.insert_timer(timer)
            for timer in timers_on_entering(definition, stored, now=now):
                tx.insert_timer(timer)
            detail = {"from_version": case.definition_version, "to_version": new.stored.version,
                      **actor.on_behalf()}
            event = tx.insert_event(EngineEvent(
                case_id=case.id, activity=MIGRATE_ACTIVITY, timestamp=now, workflow=case.workflow,
                version=new.stored.version, resource=actor.id, branch=case.branch,
                attributes={**change_attributes(from_state=case.state, to_state=case.state,
                                                case_version=stored.version, queue=stored.queue,
                                                priority=str(stored.priority), owner=stored.owner, changed={}),
                            **detail}))
            self._audit(tx, AuditEntry(AuditAction.CASES_MIGRATED, actor=actor.id, role=actor.role, at=now,
                                       case_id=case.id,
                                       workflow=case.workflow, version=new.stored.version,
                                       detail={"event_id": event.id, "state": case.state, **detail}))
        return stored

