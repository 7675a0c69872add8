"""The engine: deploy definitions, start cases through one front door, and move them by the rules.

    engine = Engine(SqlStore.open("backoffice.db"))
    engine.deploy("service-request.yaml", actor="lead", now=now)
    case = engine.start_case("service-request", payload, actor=Actor("ann"), now=now, idempotency_key="mail-42")
    case = engine.transition(case.id, "triage", actor=Actor("bob", "service-desk"),
                             expected_version=case.version, now=now)

Time is passed in, never read here, so tests run on a fixed clock. Each change writes the
case, its event and its audit record in one store transaction: all of it or none of it.
"""

from __future__ import annotations

import hashlib
import operator
from dataclasses import asdict, replace
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from backoffice.definitions.model import REQUESTER, DefinitionStatus, Priority
from backoffice.engine.audit import (AuditAction, AuditEntry, AuditHeadMoved, AuditRecord, RowSeal, canonical_json,
                                    chain_of, seal, seal_row)
from backoffice.engine.audit_keys import AuditKey, AuditLocations
from backoffice.engine.cases import Actor, Case, Decision, utc
from backoffice.engine.controls import Exit, check_leaving
from backoffice.engine.events import EngineEvent, change_attributes
from backoffice.engine.approvals import ApprovalOperations
from backoffice.engine.comments import CommentOperations
from backoffice.engine.branches import BranchOperations
from backoffice.engine.calendars import CalendarOperations
from backoffice.engine.directory_operations import DirectoryOperations
from backoffice.engine.gate import GateOperations
from backoffice.engine.automation import AutomationOperations
from backoffice.engine.duplicates import DUPLICATE_RULE_ACTOR, duplicate_key, duplicate_window_start
from backoffice.engine.exceptions import ExceptionOperations
from backoffice.engine.governance import DeployPlan, GovernanceOperations
from backoffice.engine.migration import MigrationOperations
from backoffice.engine.outbox import OutboxStatus
from backoffice.engine.notifications import NotificationOperations
from backoffice.engine.queues import QueueOperations
from backoffice.engine.ports import NewCase, Store, StoredVersion, StoreTransaction
from backoffice.engine.rerouting import RerouteOperations
from backoffice.engine.sign_in import SignInOperations
from backoffice.engine.taking_part import TakingPart
from backoffice.engine.sealed_rows import CASES_TABLE, TIMER_ROWS, VERSIONS_TABLE, row_problem
from backoffice.engine.rules import Routing, check_transition, context, route
from backoffice.engine.sla import PausedTime, after_move, resolution_due
from backoffice.engine.tasks import NewTask, TaskStatus, work_on_entering
from backoffice.engine.timers import TimerOperations, schedule_on_move, timers_on_start
from backoffice.engine.versions import DeployedVersion, RunningVersion, running_version
from backoffice.limits import MAX_KEY_LENGTH, check_id, check_page, check_payload, check_text
from backoffice.errors import (BackofficeError, CaseAltered, ContractViolation, DefinitionAltered, InputRefused, DuplicateIdempotencyKey,
                               IdempotencyKeyReused, IdempotencyKeyTaken, StaleVersion,
                               TransitionNotAllowed, UnknownCase, UnknownWorkflow, VersionAlreadyDeployed,
                               VersionOutOfOrder, WorkflowNotActive)


class Engine(QueueOperations, ApprovalOperations, ExceptionOperations, AutomationOperations, TimerOperations,
             NotificationOperations, MigrationOperations, GovernanceOperations, RerouteOperations,
             DirectoryOperations, SignInOperations, GateOperations, CommentOperations, BranchOperations,
             CalendarOperations, TakingPart):
    """Runs workflow definitions over a store (see `backoffice.engine.ports.Store`).

    Every operation that takes an actor passes it through `identify` (the gate, see `gate`)
    before anything else: who acts and in which roles comes from the directory, never from the caller.
    """

    def __init__(self, store: Store, *, audit_key: AuditKey | None = None) -> None:
        """Run over `store`, sealing audit records with `audit_key` (default: the database's key, see audit_keys)."""
        self.store = store
        self._audit_key = audit_key
        # Deployed versions never change, so each is rebuilt from its JSON once per engine.
        self._running: dict[tuple[str, int], RunningVersion] = {}
        # Per case, the record this engine last sealed its row into and the row's values then (`_audit`).
        self._vouched: dict[int, tuple[tuple, dict[str, Any]]] = {}
        # The digest of each workflow's mode row as last held to the trail (None: no row), see _manual_mode.
        self._held_modes: dict[str, str | None] = {}

    # --- definitions ---

    def deploy(self, path: Path | str, *, actor: Actor | str, now: datetime) -> DeployedVersion:
        """Deploy a definition file as an immutable version; the same content again gives the same version.

        Running cases keep the version they started on; new cases start on the highest version.
        A version that weakens a control of the deployed one (see `definitions.control_diff`), or
        of a workflow whose change rules ask for a second approver, is not deployed: it waits,
        `pending`, until a second person approves its content (`approve_change`).

        Raises:
            DefinitionError, ContractFileError: the file or its contract has errors (all listed).
            VersionAlreadyDeployed: its version number is deployed with other content.
            VersionOutOfOrder: it is new content numbered below the latest deployed version.
            ChangeAlreadyPending: its version number waits for approval with other content.
        """
        now = utc(now)
        who = self.identify(actor, workflow=None, now=now)
        plan = self._plan_deploy(path, actor=who, now=now)
        return self._deploy_planned(plan, {"file": str(path)}, actor=who, now=now)

    def _deploy_planned(self, plan: DeployPlan, what: Mapping[str, Any], *, actor: Actor,
                        now: datetime) -> DeployedVersion:
        """Deploy a planned version, or keep it as a pending change when it must wait for a second person.

        `what` says in the audit record where the version came from: the file deployed, or the
        calendar an administrator changed (`calendars`)."""
        if plan.existing is not None:
            return DeployedVersion.of(plan.existing, created=False)
        if plan.waits:
            return self._request_change(plan, what, actor=actor, now=now)
        candidate = plan.candidate
        try:
            with self.store.transaction() as tx:
                stored = tx.insert_version(candidate)
                self._audit(tx, AuditEntry(AuditAction.WORKFLOW_DEPLOYED, actor=actor.id, at=now,
                                           workflow=stored.workflow, version=stored.version,
                                           detail={"content_hash": stored.content_hash, **what,
                                                   "status": stored.status, **actor.on_behalf()}))
        except VersionAlreadyDeployed:
            # Someone deployed the same version meanwhile: the same content is the same version.
            existing = self._existing_version(candidate)
            if existing is None:
                raise
            return DeployedVersion.of(existing, created=False)
        return replace(DeployedVersion.of(stored, created=True), lines=tuple(plan.lines()) if plan.diff.changes else ())

    def versions(self, workflow: str | None = None) -> Sequence[StoredVersion]:
        """Return the deployed versions (of one workflow, or all)."""
        return self.store.versions(workflow)

    def running(self, workflow: str, version: int | None = None) -> RunningVersion:
        """Return a deployed version ready to run (the latest when version is None).

        Raises:
            UnknownWorkflow: nothing is deployed under that name (or not that version).
        """
        check_text(workflow, "the workflow")
        if version is None:
            # Only the latest number is read: the version's content is built once per engine.
            version = self.store.latest_version_number(workflow)
            if version is None:
                raise UnknownWorkflow(workflow, list(self.store.workflow_names()))
        key = (workflow, version)
        if key in self._running:
            return self._running[key]
        stored = self.store.version(workflow, version)
        if stored is None:
            raise UnknownWorkflow(workflow, [v.version for v in self.store.versions(workflow)], version)
        # Held to the audited deploy that wrote it before anything runs on it (see sealed_rows): once
        # per version and engine, as the version is kept, so a later edit of the row is never run here.
        self._hold_to_trail(seal_row(VERSIONS_TABLE, stored.id, asdict(stored), case_id=None), VERSIONS_TABLE,
                            stored.id, workflow=workflow, version=version)
        self._running[key] = running_version(stored)
        return self._running[key]

    def _hold_to_trail(self, row: RowSeal | None, table: str, key: object, *, workflow: str,
                       version: int | None) -> None:
        """Refuse to run by a row (a version, a mode) that is not as the audit record that wrote it lists it.

        Raises:
            DefinitionAltered: the row was changed, added or removed outside the engine.
        """
        records = self.store.audit_records_about(workflow, version)
        marks: dict[str, int] = {}
        if isinstance(key, int) and not any(record.bound_rows() for record in records):
            marks = self.store.legacy_row_marks()  # read only when no record could vouch for the row
        problem = row_problem(row, table, key, records, sealer=self.audit_key, legacy_mark=marks.get(table, 0))
        if problem is not None:
            raise DefinitionAltered(workflow, version, f"({table} row {key}) {problem}")

    # --- cases ---

    def start_case(self, workflow: str, payload: Mapping[str, Any], *, actor: Actor, now: datetime,
                   idempotency_key: str | None = None) -> Case:
        """Start a case on the workflow's latest version, after checking its payload against the inputs.

        With an idempotency key, a retry returns the case the first call started (same id), and no
        second case is made, even under concurrent retries. Routing rules assign queue, owner and
        priority. The starting actor is the case's requester (or the person they act for).

        Raises:
            UnknownWorkflow: the workflow is not deployed.
            WorkflowNotActive: its latest version is a draft or retired.
            ContractViolation: the payload breaks the inputs; every violation is listed.
            IdempotencyKeyReused: the key started a case with another payload.
            IdempotencyKeyTaken: the key started a case of another requester (whose case is not handed over).
        """
        now = utc(now)
        check_text(workflow, "the workflow")
        # Hostile input is refused before anything is read or written: deep, huge, non-finite or unstorable data.
        payload = check_payload(payload, what="the payload")
        if idempotency_key is not None:
            check_text(idempotency_key, "the idempotency key")
            if not idempotency_key.strip() or len(idempotency_key) > MAX_KEY_LENGTH:
                raise InputRefused("the idempotency key", f"it is blank or longer than {MAX_KEY_LENGTH} characters",
                                   f"a key of 1 to {MAX_KEY_LENGTH} characters, such as mail-42")
        intake_hash = hashlib.sha256(canonical_json(dict(payload)).encode("utf-8")).hexdigest() \
            if isinstance(payload, Mapping) else None
        requester: str | None = None
        try:
            # One transaction for the reads the intake is checked on and for its writes.
            with self.store.transaction() as tx:
                actor = self.identify(actor, workflow=workflow, now=now)
                requester = actor.on_behalf_of or actor.id
                if idempotency_key is not None:
                    earlier = self._replay(workflow, idempotency_key, intake_hash, requester)
                    if earlier is not None:
                        return earlier
                running = self.running(workflow)
                definition = running.definition
                if definition.status is not DefinitionStatus.ACTIVE:
                    raise WorkflowNotActive(workflow, definition.version, str(definition.status))
                violations = running.violations(payload)
                if violations:
                    raise ContractViolation(workflow, violations)
                data = dict(payload)
                state = definition.intake_state
                # The case as routing rules see it before it exists: it has no id yet.
                unstored = Case(id=0, workflow=workflow, definition_version=definition.version, state=state,
                                data=data, requester=actor.on_behalf_of or actor.id, created_at=now, updated_at=now)
                routing = route(definition, entering=None,
                                current=Routing(queue=None, owner=None, priority=Priority.NORMAL),
                                variables=context(data=data, case=unstored.expression_fields(), actor=actor, now=now))
                new_case = NewCase(workflow=workflow, definition_version=definition.version, state=state, data=data,
                                   requester=actor.on_behalf_of or actor.id, created_at=now, priority=routing.priority,
                                   queue=routing.queue, owner=routing.owner, idempotency_key=idempotency_key,
                                   intake_hash=intake_hash, duplicate_key=duplicate_key(definition.duplicates, data))
                return self._write_intake(tx, new_case, actor=actor)
        except DuplicateIdempotencyKey:
            # A concurrent retry won the race: answer with its case, as a later retry would get (read
            # after the refused transaction, which PostgreSQL no longer lets run a statement).
            earlier = self._replay(workflow, idempotency_key or "", intake_hash, requester)
            if earlier is None:
                raise
            return earlier

    def can_transition(self, case_id: int, to: str, *, actor: Actor, now: datetime,
                       data: Mapping[str, Any] | None = None) -> Decision:
        """Ask whether `actor` may move the case to `to` now (with `data`), and if not, why.

        Raises:
            UnknownCase: there is no such case.
        """
        case = self.case(case_id)
        now = utc(now)
        actor = self.identify(actor, workflow=case.workflow, now=now)
        decision, merged = self._decide(case, to, actor=actor, now=now, data=data)
        violations = self.running(case.workflow, case.definition_version).violations(merged) if decision else []
        if violations:
            return Decision(False, "the data would break the inputs: " + "; ".join(map(str, violations)))
        if decision:
            definition = self.running(case.workflow, case.definition_version).definition
            try:
                check_leaving(definition, case, to, how=Exit.TRANSITION, actor=actor,
                              variables=context(data=case.data, case=case.expression_fields(), actor=actor, now=now))
                self._reroute(definition, case, merged, {key: value for key, value in (data or {}).items()
                                                         if case.data.get(key, _ABSENT) != value})
            except BackofficeError as refused:
                return Decision(False, getattr(refused, "reason", None) or str(refused))
        return decision

    def transition(self, case_id: int, to: str, *, actor: Actor, expected_version: int, now: datetime,
                   data: Mapping[str, Any] | None = None) -> Case:
        """Move a case to another state, by the rules of the definition version the case started on.

        `data` adds to or replaces fields of the case data; the result must still pass the inputs.

        Raises:
            UnknownCase: there is no such case.
            StaleVersion: the case is no longer at `expected_version` (nothing is merged).
            TransitionNotAllowed: the definition does not allow this move now; the reason says why.
            ContractViolation: the data after the move breaks the inputs.
        """
        now = utc(now)
        # One transaction for the reads the move is checked on and for its writes (see SqlStore._writing).
        with self.store.transaction() as tx:
            case = self.case(case_id)
            actor = self.identify(actor, workflow=case.workflow, now=now)
            if case.version != expected_version:
                raise StaleVersion(case_id=case.id, expected=expected_version, actual=case.version)
            decision, merged = self._decide(case, to, actor=actor, now=now, data=data)
            if not decision:
                raise TransitionNotAllowed(case_id=case.id, state=case.state, to=to, reason=decision.reason or "")
            running = self.running(case.workflow, case.definition_version)
            if decision.role is None:
                # A move open to anyone is open to those who work the case, not to whoever reads it.
                self._check_takes_part(running.definition, case, actor, requester=True,
                                       what=f"move case {case.id} from {case.state!r} to {to!r}")
            violations = running.violations(merged)
            if violations:
                raise ContractViolation(case.workflow, violations)
            moved = self._moved(case, to, actor=actor, now=now, data=merged)
            stored = self._write_move(tx, case, moved, actor=actor, role=decision.role, now=now, data=data,
                                      activity=decision.transition or to, transition=decision.transition,
                                      how=Exit.TRANSITION)
        return stored

    def case(self, case_id: int) -> Case:
        """Return a case, held to the audit record that last wrote its row (every act reads its case here).

        Raises:
            UnknownCase: there is no such case.
            CaseAltered: its row was changed in the database outside the engine.
        """
        check_id(case_id, "the case id")
        if hasattr(type(self.store), "case_as_written"):  # not a read-only snapshot of rows read at once
            return self._case_to_act_on(case_id)
        found = self.store.case(case_id)
        if found is None:
            raise UnknownCase(case_id)
        return found

    def _case_to_act_on(self, case_id: int) -> Case:
        """Return a case to act on, held to the audit record that last wrote its row.

        Its state, data, version, routing and branch decide what the engine lets people do next: a
        row edited in the database outside the engine is refused here, before anything is written
        (see `sealed_rows`), as a definition version is. One read: the case and its writer at once.

        Raises:
            UnknownCase: there is no such case.
            CaseAltered: the row is not as the record that last wrote it lists it.
        """
        found = self.store.case_as_written(case_id)
        if found is None:
            raise UnknownCase(case_id)
        case, values, writer = found
        if values is None:
            return case  # written by this very transaction, after it was checked
        if writer is not None:
            vouched = self._vouched.get(case_id)
            if vouched is not None and vouched[1] == values and vouched[0] == _RECORD_FIELDS(writer):
                # The row is exactly as this engine sealed it into that very record (every field of the record
                # equal, its hash and seal included): what the full check below would find, without redoing it.
                return case
        row = seal_row(CASES_TABLE, case_id, values, case_id=case_id)
        records = [writer] if writer is not None else []
        marks: dict[str, int] = {}
        if writer is None:
            marks = self.store.legacy_row_marks()  # read only when no record lists the row (legacy, or added)
        problem = row_problem(row, CASES_TABLE, case_id, records, sealer=self.audit_key,
                              legacy_mark=marks.get(CASES_TABLE, 0))
        if problem is not None:
            raise CaseAltered(case_id, f"({CASES_TABLE} row {case_id}) {problem}")
        return case

    def cases(self, *, workflow: str | None = None, state: str | None = None, queue: str | None = None,
              after_id: int = 0, limit: int = 100) -> Sequence[Case]:
        """Return cases in id order, after `after_id` (for paging), filtered by what is given."""
        check_page(after_id=after_id, limit=limit)
        # PostgreSQL stores no NUL in text: a filter holding one is refused, not a database error.
        for what, value in (("the workflow filter", workflow), ("the state filter", state), ("the queue filter", queue)):
            if value is not None:
                check_text(value, what)
        return self.store.cases(workflow=workflow, state=state, queue=queue, after_id=after_id, limit=limit)

    def history(self, case_id: int) -> Sequence[EngineEvent]:
        """Return a case's events in order.

        Raises:
            UnknownCase: there is no such case.
        """
        self.case(case_id)
        return self.store.events(case_id)

    # --- inside ---

    def _decide(self, case: Case, to: str, *, actor: Actor, now: datetime, data: Mapping[str, Any] | None,
                result: Mapping[str, Any] | None = None) -> tuple[Decision, dict[str, Any]]:
        if data is not None:
            check_payload(data, what="the data")
        # The case's own version decides, even when a newer one is deployed.
        definition = self.running(case.workflow, case.definition_version).definition
        merged = {**case.data, **(data or {})}
        if case.parent_id is not None and case.branch is not None and case.state == case.parent_state:
            return Decision(False, f"branch {case.branch!r} of case {case.parent_id} is finished; its case moves "
                                   f"on when its branches join"), merged
        if definition.states[case.state].kind.opens_branches and to != case.state:
            open_now = [row.branch for row in self.store.case_branches(case.id) if str(row.status) == "open"]
            return Decision(False, f"it waits in {case.state!r} for its branches (open: "
                                   f"{', '.join(open_now) or 'none'}) and moves on only when they join"), merged
        if result is None and definition.automated_step(case.state) is not None:
            doubt = self._step_is_in_doubt(case)
            if doubt is not None and doubt.status is OutboxStatus.RUNNING:
                # Its call is in flight: moving on by hand now could make the effect twice.
                return Decision(False, f"{doubt.action!r} (outbox entry {doubt.id}) is running now for "
                                       f"{doubt.claimed_by}; expected to wait for its answer"), merged
            if doubt is not None:
                # Its call may have reached the other system: moving on by hand could make the effect twice.
                return Decision(False, f"the outcome of {doubt.action!r} (outbox entry {doubt.id}) is in doubt: "
                                       f"it may have happened in the other system; expected a person to check "
                                       f"there and confirm it first (backoffice step confirm {doubt.id})"), merged
            # A person doing an automated step by hand (its manual twin) reports what the action would
            # have returned: the ways out that read `result` read what they give.
            result = data or {}
        return check_transition(definition, case, to, actor=actor, data=merged, now=now, result=result), merged

    def _moved(self, case: Case, to: str, *, actor: Actor, now: datetime, data: Mapping[str, Any]) -> Case:
        """Return the case as it will be in `to`, with `data` as its whole data and routing applied."""
        definition = self.running(case.workflow, case.definition_version).definition
        moved_fields = {**case.expression_fields(), "state": to, "previous_state": case.state, "updated_at": now}
        current = Routing(queue=case.queue, owner=case.owner, priority=case.priority)
        routing = route(definition, entering=to, current=current,
                        variables=context(data=data, case=moved_fields, actor=actor, now=now))
        return Case(**{**case.__dict__, "state": to, "previous_state": case.state, "data": dict(data),
                       "updated_at": now, "queue": routing.queue, "owner": routing.owner,
                       "priority": routing.priority})

    def _write_move(self, tx: StoreTransaction, case: Case, moved: Case, *, actor: Actor, role: str | None,
                    now: datetime, data: Mapping[str, Any] | None, activity: str, transition: str | None = None,
                    reason: str | None = None, detail: Mapping[str, Any] | None = None,
                    plan: Callable[[datetime | None], Sequence[NewTask]] | None = None,
                    automate: bool = True, how: Exit) -> Case:
        """Write a move in `tx`: the case, its event, the tasks of the state entered, and the audit record.

        Every move of a case's state comes through here, so here the controls gate stands: a
        control state is left only by its decision (`controls.check_leaving`, told `how` the move
        was asked for), and a change to a route-deciding field sends the case back through
        routing, voids the votes cast, or is refused (`rerouting`).

        `plan` makes the tasks of the state entered (given the SLA due time) instead of the
        definition's defaults: an exception routes its own task to its resolver. Entering an
        automated state writes its outbox entry here, in the move's transaction (unless
        `automate` is False: a replay brings its own entry back).
        """
        definition = self.running(case.workflow, case.definition_version).definition
        check_leaving(definition, case, moved.state, how=how, actor=actor,
                      variables=context(data=case.data, case=case.expression_fields(), actor=actor, now=now))
        if case.parent_id is not None or definition.states[case.state].kind.opens_branches:
            if case.parent_id is not None and how is not Exit.JOIN:
                # The parents before the branch's own row, outermost first, as joins take them: siblings
                # moving at once wait for each other instead of deadlocking (a join cancelling the other).
                self._lock_lineage(tx, case)
            self._refuse_branch_moves(tx, definition, case, moved.state, how=how)
        changed = {key: value for key, value in (data or {}).items() if case.data.get(key, _ABSENT) != value}
        reroute = self._reroute(definition, case, moved.data, changed) if changed else None
        if reroute is not None:
            moved = reroute.applied(definition, moved, actor=actor, now=now)
        stored = tx.update_case(moved, expected_version=case.version)
        attributes = change_attributes(from_state=case.state, to_state=moved.state, case_version=stored.version,
                                       queue=stored.queue, priority=str(stored.priority), owner=stored.owner,
                                       changed=changed, transition=transition)
        attributes.update(detail or {})
        if reroute is not None:
            attributes["rerouted"] = reroute.as_json()
        attributes.update(actor.on_behalf())
        event = tx.insert_event(EngineEvent(
            case_id=case.id, activity=activity, timestamp=now, workflow=case.workflow,
            version=case.definition_version, resource=actor.id, role=role, reason=reason, attributes=attributes,
            branch=case.branch))
        self._enter(tx, case, stored, actor=actor, now=now, plan=plan, automate=automate)
        self._audit(tx, AuditEntry(AuditAction.CASE_TRANSITIONED, actor=actor.id, role=role, at=now,
                                   case_id=case.id, workflow=case.workflow, version=case.definition_version,
                                   detail={"event_id": event.id, "from_state": case.state, "to_state": moved.state,
                                           "transition": transition, "case_version": stored.version,
                                           "data": changed, "queue": stored.queue,
                                           "priority": str(stored.priority), "owner": stored.owner,
                                           **({"reason": reason} if reason else {}), **(detail or {}),
                                           **actor.on_behalf()}))
        if reroute is not None:
            self._audit(tx, AuditEntry(AuditAction.CASE_REROUTED, actor=actor.id, role=role, at=now, case_id=case.id,
                                       workflow=case.workflow, version=case.definition_version,
                                       detail={"event_id": event.id, **reroute.as_json(), **actor.on_behalf()}))
        if stored.parent_id is not None or definition.states[stored.state].kind.opens_branches \
                or definition.states[case.state].kind.opens_branches:
            self._after_move(tx, definition, case, stored, actor=actor, now=now)
        return stored

    def _enter(self, tx: StoreTransaction, before: Case, after: Case, *, actor: Actor, now: datetime,
               plan: Callable[[datetime | None], Sequence[NewTask]] | None, automate: bool = True) -> None:
        # The work of the state left is over, whoever held it; the state entered brings its own.
        definition = self.running(after.workflow, after.definition_version).definition
        tx.close_case_tasks(after.id, status=TaskStatus.CANCELLED, by=actor.id, at=now)
        if before.state != after.state and definition.automated_step(before.state) is not None:
            # Left before the worker ran it (an exception, a person): the step must not run later
            # under this visit's key, and a later visit brings its own entry.
            tx.close_pending_steps(after.id, before.state, at=now,
                                   why=f"the case left {before.state!r} for {after.state!r} before the step ran")
        # Without an SLA there is no clock to pause: no read of it on every move.
        paused = self._paused_held(tx, after.id) if definition.sla is not None else PausedTime()
        now_paused = after_move(definition, left=before.state, entered=after.state, paused=paused, now=now)
        if now_paused != paused:
            tx.set_paused_time(after.id, now_paused)
        schedule_on_move(tx, definition, before, after, paused_before=paused, paused_after=now_paused, now=now)
        due = resolution_due(definition, after, now_paused)
        if after.branch is not None:
            row = tx.branch_of_child_now(after.id)
            due = row.due_at if row is not None else due  # a branch's tasks fall due by its own SLA
        for task in plan(due) if plan is not None else work_on_entering(definition, after, now=now, due_at=due):
            tx.insert_task(task)
        if automate:
            self._automate(tx, definition, after, now=now)

    def _write_intake(self, tx: StoreTransaction, new_case: NewCase, *, actor: Actor) -> Case:
        role = actor.role or REQUESTER
        definition = self.running(new_case.workflow, new_case.definition_version).definition
        rule = definition.duplicates
        original = tx.earlier_duplicate(new_case.workflow, new_case.duplicate_key,
                                        since=duplicate_window_start(rule, new_case.created_at)) \
            if rule is not None and new_case.duplicate_key is not None else None
        case = tx.insert_case(new_case)
        for timer in timers_on_start(definition, case, paused=PausedTime(), now=case.created_at):
            tx.insert_timer(timer)
        event = tx.insert_event(EngineEvent(
            case_id=case.id, activity=case.state, timestamp=case.created_at, workflow=case.workflow,
            version=case.definition_version, resource=actor.id, role=role, branch=case.branch,
            attributes=change_attributes(from_state=None, to_state=case.state, case_version=case.version,
                                         queue=case.queue, priority=str(case.priority), owner=case.owner,
                                         changed={}) | actor.on_behalf()))
        self._audit(tx, AuditEntry(AuditAction.CASE_STARTED, actor=actor.id, role=role, at=case.created_at,
                                   case_id=case.id, workflow=case.workflow, version=case.definition_version,
                                   detail={"event_id": event.id, "state": case.state, "data": dict(case.data),
                                           "idempotency_key": case.idempotency_key, "queue": case.queue,
                                           "priority": str(case.priority), "owner": case.owner,
                                           **actor.on_behalf()}))
        if original is not None:
            # The same work again: it starts as the duplicate exception, in this transaction.
            fields = {name: case.data.get(name) for name in rule.fields}
            case = self._raise_in(tx, case, rule.reason, actor=Actor(DUPLICATE_RULE_ACTOR), now=case.created_at,
                                  note=f"same {', '.join(f'{k}={v!r}' for k, v in fields.items())} as case "
                                       f"{original}", detail={"duplicate_of": original})
        return case

    def _replay(self, workflow: str, key: str, intake_hash: str | None, requester: str | None) -> Case | None:
        found = self.store.case_by_key(workflow, key)
        if found is None:
            return None
        case, stored_hash = found
        # A key is its requester's: a retry is theirs, and a key someone else guessed or shares
        # must never hand over their case (nor say which it is), from any interface.
        if case.requester != requester:
            raise IdempotencyKeyTaken(workflow, key)
        if stored_hash != intake_hash:
            raise IdempotencyKeyReused(workflow, key, case.id)
        return case

    def _existing_version(self, candidate: StoredVersion) -> StoredVersion | None:
        """Return the stored version with this content, or None for new content; refuse a clash."""
        latest = self.store.version(candidate.workflow)
        same_number = self.store.version(candidate.workflow, candidate.version)
        if same_number is not None:
            if same_number.content_hash == candidate.content_hash:
                return same_number
            raise VersionAlreadyDeployed(candidate.workflow, candidate.version, latest.version if latest else 0)
        if latest is not None and candidate.version < latest.version:
            raise VersionOutOfOrder(candidate.workflow, candidate.version, latest.version)
        return None

    @property
    def audit_key(self) -> AuditKey:
        """The key that seals this engine's audit records (read, or created, on first use).

        Raises:
            AuditKeyError: the key file cannot be read or created.
        """
        if self._audit_key is None:
            self._audit_key = AuditKey.load_or_create(AuditLocations.for_database(self.store.url).key)
        return self._audit_key

    def _audit(self, tx: StoreTransaction, entry: AuditEntry) -> None:
        """Append the record of a change to its case's chain, binding the rows the change wrote since the last one."""
        key = self.audit_key
        rows = tx.written_rows()
        # The case's clock row and the timers the change wrote, given in the detail: what the engine holds them to
        # before it runs a clock or fires a timer (sealed_rows.SLA_CLOCK_ROW, TIMER_ROWS).
        listed = tx.clock_listing(entry.case_id)
        timer_rows = tx.written_timers(entry.case_id)
        if timer_rows:
            listed[TIMER_ROWS] = timer_rows
        if listed:
            entry = replace(entry, detail={**(entry.detail or {}), **listed})
        chain = chain_of(entry.case_id)
        known = tx.known_audit_head(chain)
        record = None
        if known is not None:
            # Sealed after the head this store last wrote, appended only if it is still the head.
            try:
                record = seal(entry, known, key, rows)
                tx.insert_audit(record)
            except AuditHeadMoved:
                record = None
        if record is None:
            # Locked last, so the chain head is held for the shortest time by concurrent writers.
            record = seal(entry, tx.lock_audit_chain(chain, entry.case_id), key, rows)
            tx.insert_audit(record)
        for row in rows:
            if row.table == CASES_TABLE and row.digest is not None:
                # What the next act on the case checks its row against (`_case_to_act_on`); a rolled back
                # record is never found in the database, so its entry is never used.
                if len(self._vouched) >= _VOUCHED_LIMIT:
                    self._vouched.clear()
                self._vouched[row.key] = (_RECORD_FIELDS(record), row.values)


_ABSENT = object()
# The fields of a record but its id (given by the database): the record a case was last sealed into, compared whole.
_RECORD_FIELDS = operator.attrgetter(*(name for name in AuditRecord.__dataclass_fields__ if name != "id"))
_VOUCHED_LIMIT = 100_000
