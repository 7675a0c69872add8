"""Simulated actors: the people of a workflow's roles, and its automated systems, playing a case to its end.

    clock = Clock(T0)
    actors = SimulatedActors(engine, playbook, clock=clock)
    case = actors.start()
    actors.run(case.id, stop_in="approve-payment")   # until the case waits in that state
    actors.run(case.id)                              # until it ends

Each role of the definition is played by a person of its own, and the requester by a person
in no role, so separation of duties holds as it would in an office: whoever prepared the
work is never the one who approves it. People claim their tasks through the queues and
complete them with the data the playbook gives for the state; whoever sends a case to
approval attaches the documents the approval requires, and the approvers vote; resolvers
resolve the exceptions routed to them; the worker runs the automated steps with the
playbook's actions. Each act moves the
fixed clock on by a step, and a retry's backoff moves it to the retry's due time: never a sleep.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from backoffice.definitions.model import REQUESTER, Definition, StateKind
from backoffice.engine import ActionCall, ActionFailed, ActionRegistry, Actor, Case, Engine, Worker
from backoffice.engine.outbox import OutboxStatus
from backoffice.engine.rules import context, filled
from backoffice.engine.tasks import Task, TaskKind
from backoffice.tour.playbooks import Move, Playbook, RaisedException  # noqa: F401 (the tests' names for them)

from ..directory_fixtures import WORKER_ACCOUNT, seed as seed_directory

STEP = timedelta(minutes=10)
"""How far the clock moves on after each act: people take a while, and events keep their order."""

SERVICE = Actor("svc-integration")
"""The system account that raises exceptions found in automated states (a capture service, a budget check)."""


class Clock:
    """A fixed clock that the simulation moves on by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def advance(self, by: timedelta = STEP) -> datetime:
        self.now += by
        return self.now

    def move_to(self, moment: datetime) -> datetime:
        """Move the clock on to `moment` (never back)."""
        self.now = max(self.now, moment)
        return self.now


class ScriptedAction:
    """An automated step's action: fails its first `failures` calls (every call when None), then returns `result`.

    Every call is kept, so tests can see the attempts, their times and their idempotency keys.
    """

    def __init__(self, result: Mapping[str, Any], *, failures: int | None = 0) -> None:
        self.result = dict(result)
        self.failures = failures
        self.calls: list[ActionCall] = []

    def __call__(self, call: ActionCall) -> Mapping[str, Any]:
        self.calls.append(call)
        if self.failures is None or len(self.calls) <= self.failures:
            # Refused: the call never reached the system, so its attempts running out is a dead letter,
            # not a step in doubt (a call that may have reached it would be).
            raise ActionFailed(f"{call.action}: the system refused the connection (call {len(self.calls)})",
                               delivered=False)
        return dict(self.result)


class SimulationStuck(AssertionError):
    """The simulated actors cannot move a case on: the playbook or the template misses something."""


class SimulatedActors:
    """Plays the people and systems of one deployed workflow on the cases of a playbook."""

    def __init__(self, engine: Engine, playbook: Playbook, *, clock: Clock,
                 actions: Mapping[str, ScriptedAction] | None = None, seed: int = 7) -> None:
        self.engine = engine
        self.playbook = playbook
        self.clock = clock
        self.definition: Definition = engine.running(playbook.workflow).definition
        self.requester = Actor(f"{playbook.workflow}-requester")
        self.people = {role: Actor(f"{role}-person", role) for role in self.definition.roles}
        # Each of them in the directory, holding their role; the requester in none.
        seed_directory(engine, {self.requester.id: (), **{actor.id: (role,) for role, actor in self.people.items()}})
        self.actions = {step.action: ScriptedAction(playbook.results.get(step.action, {}))
                        for step in self.definition.automated_steps}
        self.actions.update(actions or {})
        self.registry = ActionRegistry()
        for name, action in self.actions.items():
            self.registry.register(name, action)
        self.worker = Worker(engine, self.registry, account=WORKER_ACCOUNT, name="simulated-worker", rng=random.Random(seed))

    # --- what a scenario calls ---

    def start(self) -> Case:
        """Start a case with the playbook's payload, as its requester."""
        case = self.engine.start_case(self.playbook.workflow, self.playbook.payload, actor=self.requester,
                                      now=self.clock.now)
        self.clock.advance()
        return case

    def run(self, case_id: int, *, stop_in: str | None = None, limit: int = 80) -> Case:
        """Act on the case until it ends, or until it waits in `stop_in`; return it.

        Raises:
            SimulationStuck: the case did not get there within `limit` acts.
        """
        for _ in range(limit):
            case = self.engine.case(case_id)
            if case.state == stop_in or self.definition.state(case.state).kind.is_end:
                return case
            working = self.working_on(case)
            if working.id != case.id and working.state == stop_in:
                return working  # a branch waits there: the scenario goes on with it
            self.act(working)
        raise SimulationStuck(f"case {case_id} of {self.playbook.workflow} is still in "
                              f"{self.engine.case(case_id).state!r} after {limit} acts; walked "
                              f"{states_walked(self.engine, case_id)}")

    def working_on(self, case: Case) -> Case:
        """Return the case that waits for a person or a step: the case, or its first open branch (in order)."""
        if not self.definition.state(case.state).kind.opens_branches:
            return case
        waiting = [row for row in self.engine.branches(case.id) if str(row.status) == "open"]
        if not waiting:
            raise SimulationStuck(f"case {case.id} waits in {case.state!r} with no branch open")
        return self.working_on(self.engine.case(waiting[0].child_id))

    def act(self, case: Case) -> None:
        """Do the one thing the case waits for: resolve its exception, run its step, vote, or move it on.

        The clock moves on by a step after the act, or to the due time of a failed step's retry.
        """
        raised = [task for task in self.engine.tasks(case_id=case.id) if task.kind is TaskKind.EXCEPTION]
        if raised:
            self.engine.resolve_exception(case.id, actor=self.taker(raised[0], case), now=self.clock.now)
            self.clock.advance()
            return
        kind = self.definition.state(case.state).kind
        if kind is StateKind.AUTOMATED:
            self._run_worker(case)
        elif kind is StateKind.APPROVAL:
            self._approve(case)
        else:
            self._move(case)

    def raise_exception(self, case_id: int, reason: str) -> Case:
        """Raise an exception on the case, as the person working its state (the system account in an automated one)."""
        case = self.engine.case(case_id)
        role = self.definition.state(case.state).role
        raiser = self.requester if role == REQUESTER else self.people.get(role or "", SERVICE)
        raised = self.engine.raise_exception(case_id, reason, actor=raiser, now=self.clock.now,
                                             note=f"simulated {reason}")
        self.clock.advance()
        return raised

    def use_action(self, name: str, action: ScriptedAction) -> None:
        """Run `action` for the steps named `name` from now on (a fixed system after an outage)."""
        self.actions[name] = action
        self.registry.register(name, action)

    def person(self, role: str) -> Actor:
        """Return who plays a role (the requester for the built-in role `requester`)."""
        if role == REQUESTER:
            return self.requester
        if role not in self.people:
            raise SimulationStuck(f"{self.playbook.workflow} has no role {role!r}; expected one of "
                                  f"{', '.join(self.people)}")
        return self.people[role]

    def taker(self, task: Task, case: Case) -> Actor:
        """Return who takes a task: its person, or the person of its role."""
        if task.assignee is not None:
            if task.assignee == case.requester:
                return self.requester
            return next((actor for actor in self.people.values() if actor.id == task.assignee), Actor(task.assignee))
        if task.role is None:
            raise SimulationStuck(f"task {task.id} of case {case.id} names neither a role nor a person")
        return self.person(task.role)

    # --- inside ---

    def _run_worker(self, case: Case) -> None:
        self.worker.run_once(self.clock.now)
        if self.engine.case(case.id).state != case.state:
            self.clock.advance()
            return
        # Still waiting: a failed attempt is due again later, so the clock moves to its retry, exactly.
        waiting = [entry for entry in self.engine.outbox(case_id=case.id, status=OutboxStatus.PENDING)
                   if entry.state == case.state and entry.action in self.actions]
        if not waiting:
            raise SimulationStuck(f"case {case.id} waits in the automated state {case.state!r} with no step "
                                  f"pending in the outbox")
        self.clock.move_to(min(entry.next_attempt_at for entry in waiting))

    def _approve(self, case: Case) -> None:
        approval = self.definition.approval(case.state)
        if approval is None:
            raise SimulationStuck(f"{case.state!r} of {self.playbook.workflow} is an approval state without "
                                  f"an approvals entry")
        attached = self.engine.store.evidence_names(case.id)
        required = approval.evidence.documents if approval.evidence else []
        documents = [name for name in required if name not in attached]
        if documents:
            # Whoever sent the case to approval brings the documents it rests on, before anyone votes.
            preparer = self._who_moved_it_here(case)
            for name in documents:
                self.engine.attach_evidence(case.id, name, actor=preparer, now=self.clock.now,
                                            reference=f"dms://{case.workflow}/{case.id}/{name.replace(' ', '-')}")
        for task in self.engine.tasks(case_id=case.id):
            if task.kind is not TaskKind.APPROVAL:
                continue
            moved = self.engine.approve(case.id, actor=self.taker(task, case), now=self.clock.now)
            self.clock.advance()
            if moved.state != case.state:
                return
        raise SimulationStuck(f"every approver of case {case.id} voted and it is still in {case.state!r}")

    def _who_moved_it_here(self, case: Case) -> Actor:
        last_move = next(event for event in reversed(self.engine.history(case.id))
                         if event.attributes.get("to_state") == case.state)
        if last_move.resource is None or last_move.resource.startswith("backoffice"):
            # The engine's own acts (the worker, a timer): the system account brings the documents.
            return SERVICE
        known = {actor.id: actor for actor in (self.requester, SERVICE, *self.people.values())}
        return known.get(last_move.resource, Actor(last_move.resource))

    def _move(self, case: Case) -> None:
        move = self.playbook.moves.get(case.state)
        if move is None:
            raise SimulationStuck(f"the playbook of {self.playbook.workflow} has no move for {case.state!r}")
        if move.not_before is not None:
            self.clock.move_to(move.not_before)
        now = self.clock.now
        work = [task for task in self.engine.tasks(case_id=case.id)
                if task.kind is TaskKind.WORK and task.state == case.state]
        if not work:
            self.engine.transition(case.id, move.to, actor=self._mover(case.state, move.to),
                                   expected_version=case.version, now=now, data=dict(move.data))
            self.clock.advance()
            return
        task, person = work[0], self.taker(work[0], case)
        claimed = self.engine.next_task(task.queue, actor=person, now=now) if task.queue else \
            self.engine.claim(task.id, actor=person, now=now)
        if claimed is not None and claimed.id != task.id and claimed.case_id != case.id \
                and self.engine.case(claimed.case_id).parent_id is not None:
            # Parallel branches share queues: the queue's oldest task may be another branch's. Put it back.
            self.engine.release(claimed.id, actor=person, now=now)
            claimed = self.engine.claim(task.id, actor=person, now=now)
        if claimed is None or claimed.id != task.id:
            raise SimulationStuck(f"{person.id} asked queue {task.queue!r} for work and got "
                                  f"{claimed.id if claimed else 'nothing'}, not task {task.id} of case {case.id}")
        self.engine.complete(task.id, actor=person, now=now, to=move.to, data=dict(move.data))
        self.clock.advance()

    def _mover(self, state: str, to: str) -> Actor:
        """Return who takes a move that no task holds (out of intake or a waiting state)."""
        for transition in self.definition.allowed_transitions(state):
            if transition.to != to:
                continue
            roles = transition.roles or [role for role in [self.definition.state(state).role] if role]
            if roles:
                return self.person(roles[0])
        # A move open to anyone (accepting new work) is taken by whoever works the state it enters.
        entered = self.definition.state(to).role
        return self.person(entered) if entered else SERVICE


def family(engine: Engine, case_id: int) -> list[int]:
    """Return a case's id and the ids of its branches (and theirs), in the order they were opened."""
    found = [case_id]
    for row in engine.branches(case_id):
        found += family(engine, row.child_id)
    return found


def states_walked(engine: Engine, case_id: int) -> list[str]:
    """Return the states a case and its branches entered, in the order they happened (intake first).

    A branch's walk starts at its first state and ends back at its parallel state. Events that
    leave the case where it was (an exception raised without a state of its own, a timer raising
    the priority) are changes, not steps of the walk.
    """
    events = sorted((event for member in family(engine, case_id) for event in engine.history(member)),
                    key=lambda event: event.id)
    return [event.attributes["to_state"] for event in events
            if "to_state" in event.attributes and event.attributes["to_state"] != event.attributes.get("from_state")]


def proof_problems(definition: Definition, case: Case, *, now: datetime) -> list[str]:
    """Return why the case's data does not prove completion (empty when it does)."""
    proof = definition.proof_of_completion
    problems = []
    if proof.field is not None and not filled(case.data, proof.field):
        problems.append(f"the proof field {proof.field!r} is not filled")
    if proof.condition is not None:
        variables = context(data=case.data, case=case.expression_fields(), actor=None, now=now)
        if not proof.condition.test(variables):
            problems.append(f"the proof condition {str(proof.condition)!r} is false")
    return problems
