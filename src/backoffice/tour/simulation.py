"""A seeded simulation of weeks of back-office work, played through the engine's core by the demo's people.

    simulation = Simulation(engine, seed=7, start=monday, until=monday + timedelta(weeks=4), cases=320)
    report = simulation.run()

Cases arrive over the weeks, in working hours, at each workflow's rate. The cast works them:
people claim their tasks and complete them some hours later, approvers vote (and now and then
refuse), requesters answer the questions asked of them, resolvers resolve exceptions, and a
worker runs the automated steps with the demo's actions, which sometimes fail and are retried,
or run out of attempts and are replayed by the operator. A case that waits in a parallel state
(or a checklist, or a sub-case step) waits for its branches: each is a child case of its own,
worked the same way by the people holding its states' roles, and when the last comes back the
join moves the case on. Every act goes through the engine as the person doing it, with the
simulated time passed in: nothing is written around the engine, so the audit trail, the events
and the SLA clocks are those real work would leave.

The simulation stops a day before `until`; the cases then open stay where they are. Then, for
each state of a workflow that no open case sits in (but automated ones, which a case holds only
while the worker runs its step), a case of a kind that was seen passing
through it is started and played until it waits there, so every state the simulation reaches
has open work to show, and some of it in someone's hands (claimed two hours before `until`, for
the working day after). The same seed, start and number of cases give the same workspace.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from backoffice.definitions.model import REQUESTER, Definition, StateKind
from backoffice.definitions.move_graph import sends_back
from backoffice.engine import ActionCall, ActionFailed, ActionRegistry, Actor, Case, Engine, Worker
from backoffice.engine.branches_model import BranchStatus
from backoffice.engine.outbox import OutboxStatus
from backoffice.engine.tasks import Task, TaskKind
from backoffice.errors import AlreadyVoted, SeparationOfDuties, TransitionNotAllowed, UserError
from backoffice.tour.cast import ADMIN, INTEGRATION, REQUESTERS, WORKER, DemoPerson, holders, person
from backoffice.tour.playbooks import PLAYBOOKS, Move, Playbook
from backoffice.tour.variants import Variant, case_payload, moved_move, renewed_result, variants

SHARE: Mapping[str, float] = {
    "service-request": 0.30, "purchase-request": 0.20, "supplier-invoice": 0.15, "expense-claim": 0.12,
    "vendor-onboarding": 0.06, "employee-onboarding": 0.06, "employee-offboarding": 0.05,
    "kpi-exception-review": 0.06,
}
"""Each workflow's share of the arrivals: a service desk is busier than the KPI review."""

CLAIM_LEASE = timedelta(hours=4)
"""How long a person's claim holds: longer than the work between claiming and completing."""

FILL_STEP = timedelta(minutes=2)
"""Between two acts on a case started to fill a state: the work is quick, the day is short."""

MEAN_WAIT: Mapping[StateKind | str, timedelta] = {
    StateKind.INTAKE: timedelta(hours=1),
    StateKind.HUMAN_TASK: timedelta(hours=5),
    StateKind.REVIEW: timedelta(hours=8),
    StateKind.WAITING: timedelta(hours=14),
    StateKind.EXCEPTION: timedelta(hours=12),
    StateKind.APPROVAL: timedelta(hours=12),
    "answer": timedelta(hours=20),
    "resolve": timedelta(hours=10),
    "work": timedelta(minutes=45),
}
"""How long, on average, before someone acts on a case in each kind of state (exponential): some breach their SLA."""


class DeviationKind(StrEnum):
    """How a case leaves the playbook's happy path."""

    EXCEPTION = "exception"
    REJECT = "reject"
    RETRY = "retry"
    DEAD_LETTER = "dead letter"


@dataclass(frozen=True)
class Deviation:
    """One departure from the happy path: an exception's reason, a refusal, or an automated step that fails."""

    kind: DeviationKind
    reason: str | None = None
    step: str | None = None

    def __str__(self) -> str:
        return f"{self.kind} {self.reason or self.step or ''}".strip()


@dataclass(frozen=True)
class Plan:
    """What a simulated case is: a workflow's variant, and how it leaves the happy path (None: it does not)."""

    workflow: str
    variant: Variant
    deviation: Deviation | None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.workflow, self.variant.name, str(self.deviation or "happy path"))


@dataclass
class CaseRun:
    """The simulation's notes on one case it plays."""

    plan: Plan
    number: int
    arrival: datetime
    requester: DemoPerson
    case_id: int = 0
    raised: bool = False
    step_fixed: bool = False
    stop_in: str | None = None
    waiting_for_worker: bool = False
    stuck: str | None = None
    workers: Mapping[str, str] = field(default_factory=dict)
    """Per state, the person who works it (anyone of the role when not named)."""
    parent: CaseRun | None = None
    """For a branch (or sub-case) child case: the run of the case waiting for it."""
    waiting_on_branches: bool = False
    """The case waits in a state that opened branches: its next act is scheduled when they join."""


@dataclass(frozen=True)
class SimulationReport:
    """What a run made: cases started, acts done, the states no case could be left in, and cases that got stuck."""

    cases: int
    acts: int
    filled: Mapping[tuple[str, str], int]
    unreached: Mapping[str, tuple[str, ...]]
    stuck: Sequence[str] = field(default_factory=tuple)


class DemoAction:
    """An automated step's action in the demo: the playbook's result for the case, or the failure its plan calls for."""

    def __init__(self, simulation: Simulation) -> None:
        self.simulation = simulation

    def __call__(self, call: ActionCall) -> Mapping[str, Any]:
        run = self.simulation.run_of(call.case_id)
        if self.simulation.raisable(run, call.state):
            # The check finds what the case's plan holds (a price variance): a person must look, so
            # the step does not go on; the exception is raised on the case as the worker's pass ends.
            raise ActionFailed(f"{call.action}: the check needs a person (attempt {call.attempt})", delivered=False)
        deviation = run.plan.deviation
        if deviation is not None and deviation.step == call.state:
            fails = (deviation.kind is DeviationKind.RETRY and call.attempt == 1) or \
                (deviation.kind is DeviationKind.DEAD_LETTER and not run.step_fixed)
            if fails:
                raise ActionFailed(f"{call.action}: the system refused the connection (attempt {call.attempt})",
                                   delivered=False)
        result = self.simulation.playbooks[run.plan.workflow].results.get(call.action, {})
        return renewed_result(result, number=run.number, arrival=run.arrival)


class Simulation:
    """Plays weeks of cases of every deployed library workflow through the engine (see the module's text)."""

    def __init__(self, engine: Engine, *, seed: int, start: datetime, until: datetime, cases: int,
                 progress: Callable[[float], None] | None = None) -> None:
        self.engine = engine
        self.rng = random.Random(seed)
        self.start = start
        self.until = until
        self.main_end = until - timedelta(days=1)
        self.case_count = cases
        self.progress = progress or (lambda fraction: None)
        self.playbooks: dict[str, Playbook] = {playbook.workflow: playbook for playbook in PLAYBOOKS}
        self.definitions: dict[str, Definition] = {name: engine.running(name).definition for name in self.playbooks}
        self.runs: dict[int, CaseRun] = {}
        self.seen: dict[tuple[str, str, str], list[str]] = {}
        self.plans: dict[tuple[str, str, str], Plan] = {}
        self.acts = 0
        registry = ActionRegistry()
        action = DemoAction(self)
        for definition in self.definitions.values():
            for step in definition.automated_steps:
                registry.register(step.action, action)
        self.worker = Worker(engine, registry, account=WORKER, name="demo-worker", rng=random.Random(seed))
        for playbook in PLAYBOOKS:
            self._learn_walks(playbook)
        self._queue: list[tuple[datetime, int, str, int]] = []
        self._sequence = 0
        self._worker_due: datetime | None = None
        self._filled_until = self.main_end

    def run_of(self, case_id: int) -> CaseRun:
        """Return the simulation's notes on a case: its own, or (a branch not yet taken up) its parent's."""
        run = self.runs.get(case_id)
        while run is None:
            parent_id = self.engine.case(case_id).parent_id
            if parent_id is None:
                raise LookupError(f"case {case_id} was not started by the simulation")
            case_id = parent_id
            run = self.runs.get(case_id)
        return run

    def _learn_walks(self, playbook: Playbook) -> None:
        """Note the walks the playbook promises, so a state no simulated case passed can still be filled."""
        # The playbook's walks are those of its own payload: the variant that changes nothing.
        variant = _plain(playbook.workflow)
        walks: list[tuple[Deviation | None, tuple[str, ...]]] = [(None, playbook.walk)]
        if playbook.exception is not None:
            walks.append((Deviation(DeviationKind.EXCEPTION, reason=playbook.exception.reason), playbook.exception.walk))
        if playbook.flaky_step is not None and playbook.dead_letter_walk is not None:
            walks.append((Deviation(DeviationKind.DEAD_LETTER, step=playbook.flaky_step), playbook.dead_letter_walk))
        for deviation, walk in walks:
            plan = Plan(playbook.workflow, variant, deviation)
            self.plans.setdefault(plan.key, plan)
            seen = self.seen.setdefault(plan.key, [])
            seen.extend(state for state in walk if state not in seen)

    # --- the run ---

    def run(self) -> SimulationReport:
        """Play the weeks, then fill the states no open case sits in; return what was made."""
        for number, arrival in enumerate(self._arrivals(), start=1):
            self._schedule(arrival, "arrive", number)
        # The worker's timer passes: every two hours of the working day, and once a night (reminders,
        # escalations, approvals handed on at their timeout).
        hour = self.start.replace(minute=0, second=0, microsecond=0)
        while hour < self.main_end:
            if hour.hour in (3, 7, 9, 11, 13, 15, 17):
                self._schedule(hour, "tick", 0)
            hour += timedelta(hours=1)
        pending: dict[int, CaseRun] = {}
        span = (self.until - self.start).total_seconds()
        while self._queue and self._queue[0][0] < self.main_end:
            now, _, kind, subject = heapq.heappop(self._queue)
            if kind == "arrive":
                run = pending.pop(subject, None) or self._new_run(subject, now)
                self._arrive(run, now)
            elif kind == "act":
                self._act_or_note(self.runs[subject], now)
            else:
                self._run_worker(now)
                if kind == "tick":
                    self.progress((now - self.start).total_seconds() / span)
        filled, unreached = self._fill()
        self._separation_of_duties_to_show()
        self._claim_some(max(self._filled_until, self.until - timedelta(hours=2)))
        self.progress(1.0)
        stuck = [f"case {run.case_id} ({run.plan.workflow}, {run.plan.key[2]}): {run.stuck}"
                 for run in self.runs.values() if run.stuck]
        cases = sum(1 for run in self.runs.values() if run.parent is None)
        return SimulationReport(cases=cases, acts=self.acts, filled=filled, unreached=unreached,
                                stuck=tuple(stuck))

    def _arrivals(self) -> list[datetime]:
        """Return the arrival times: working days, mostly in office hours, spread over the weeks before the end."""
        days = []
        day = self.start.replace(hour=0, minute=0, second=0, microsecond=0)
        while day < self.main_end:
            if day.weekday() < 5:
                days.append(day)
            day += timedelta(days=1)
        moments = []
        for _ in range(self.case_count):
            day = self.rng.choice(days)
            moment = day + timedelta(hours=7, minutes=self.rng.randrange(10 * 60))
            moments.append(max(self.start, min(moment, self.main_end - timedelta(hours=1))))
        return sorted(moments)

    def _new_run(self, number: int, arrival: datetime) -> CaseRun:
        workflows = list(SHARE)
        workflow = self.rng.choices(workflows, weights=[SHARE[name] for name in workflows])[0]
        options = variants(workflow)
        variant = self.rng.choices(options, weights=[option.weight for option in options])[0]
        plan = Plan(workflow, variant, self._deviation(workflow))
        self.plans.setdefault(plan.key, plan)
        return CaseRun(plan=plan, number=number, arrival=arrival, requester=self.rng.choice(REQUESTERS))

    def _deviation(self, workflow: str) -> Deviation | None:
        definition = self.definitions[workflow]
        draw = self.rng.random()
        if draw < 0.50:
            return None
        reasons = sorted(reason for reason in definition.exceptions if _resolvable(definition, reason))
        if draw < 0.72 and reasons:
            return Deviation(DeviationKind.EXCEPTION, reason=self.rng.choice(reasons))
        if draw < 0.84 and definition.approvals:
            return Deviation(DeviationKind.REJECT)
        steps = [step.state for step in definition.automated_steps]
        if steps:
            kind = DeviationKind.RETRY if draw < 0.93 else DeviationKind.DEAD_LETTER
            return Deviation(kind, step=self.rng.choice(steps))
        return None

    def _arrive(self, run: CaseRun, now: datetime) -> None:
        playbook = self.playbooks[run.plan.workflow]
        payload = case_payload(playbook.payload, run.plan.variant, number=run.number, arrival=now)
        case = self.engine.start_case(run.plan.workflow, payload, actor=Actor(run.requester.id), now=now,
                                      idempotency_key=f"demo-{run.number}")
        run.case_id = case.id
        self.runs[case.id] = run
        self.acts += 1
        self._after(run, case, now, wait=MEAN_WAIT[StateKind.INTAKE])

    # --- one act on a case ---

    def _act(self, run: CaseRun, now: datetime, *, quick: bool = False) -> bool:
        """Do the one thing the case waits for; schedule its next act (unless `quick`); False when nothing could be done."""
        case = self.engine.case(run.case_id)
        definition = self.definitions[case.workflow]
        state = definition.state(case.state)
        if state.kind.is_end or case.state == run.stop_in or run.stuck or _branch_finished(case):
            return False
        if state.kind.opens_branches:
            # The case waits for its branches: they are worked, not it (their join moves it on).
            self._open_children(run, case, now, schedule=not quick)
            return False
        self._note(run, case.state)
        exceptions = [task for task in self.engine.tasks(case_id=case.id) if task.kind is TaskKind.EXCEPTION]
        if exceptions:
            task = exceptions[0]
            raised = self.engine.store.open_exception(case.id)
            filled = self.playbooks[run.plan.workflow].resolutions.get(raised.reason, {}) if raised else {}
            self.engine.resolve_exception(case.id, actor=self._taker(task, run), now=now,
                                          note="answered" if task.role == REQUESTER else "resolved",
                                          data=dict(filled) or None)
        elif self._raise_due(run, case, definition):
            self._raise(run, case, definition, now)
        elif state.kind is StateKind.AUTOMATED:
            run.waiting_for_worker = True
            self._worker_at(now + timedelta(minutes=2))
            return False
        elif state.kind is StateKind.APPROVAL:
            self._vote(run, case, definition, now)
        elif not self._replay_if_parked(run, case, now):
            if not self._work(run, case, definition, now, quick=quick):
                return False
        self.acts += 1
        if not quick:
            moved = self.engine.case(case.id)
            self._after(run, moved, now, wait=self._mean_wait(run, moved))
        return True

    def _act_or_note(self, run: CaseRun, now: datetime, *, quick: bool = False) -> bool:
        """Act on the case; a refusal by the engine leaves it where it is, noted as stuck (the report lists them)."""
        try:
            return self._act(run, now, quick=quick)
        except UserError as exc:
            run.stuck = exc.message
            return False

    def _after(self, run: CaseRun, case: Case, now: datetime, *, wait: timedelta) -> None:
        """Schedule the case's next act, or the worker when an automated step waits (raising first when planned)."""
        definition = self.definitions[case.workflow]
        state = definition.state(case.state)
        if run.parent is not None and (state.kind.is_end or _branch_finished(case)):
            self._note(run, case.state)
            self._parent_moves(run.parent, now)
            return
        if state.kind.is_end:
            self._note(run, case.state)
            return
        if state.kind.opens_branches:
            self._note(run, case.state)
            self._open_children(run, case, now, schedule=True)
            return
        if state.kind is StateKind.AUTOMATED:
            if self._raise_due(run, case, definition):
                # The check that finds the problem runs as the case arrives, before the worker's next pass.
                self._raise(run, case, definition, now)
                self._after(run, self.engine.case(case.id), now, wait=MEAN_WAIT["resolve"])
                return
            run.waiting_for_worker = True
            self._worker_at(now + timedelta(minutes=2))
            return
        self._schedule(self._working_time(now + self._exponential(wait)), "act", case.id)

    # --- parallel work: branches, checklist items and sub-cases ---

    def _open_children(self, run: CaseRun, case: Case, now: datetime, *, schedule: bool) -> list[CaseRun]:
        """Take up the open branches of a case waiting in a parallel state; return the runs of those new to us.

        Each branch's child case is played like a case of its own, by the people holding its
        states' roles, on the parent's plan (a branch of the same workflow passes the states the
        playbook walks); a sub-case, on its own workflow's playbook. With `schedule`, each gets
        its first act after the usual wait, and the parent waits until the join moves it on.
        """
        taken: list[CaseRun] = []
        for branch in self.engine.branches(case.id):
            if branch.status is not BranchStatus.OPEN or branch.child_id in self.runs:
                continue
            child = self.engine.case(branch.child_id)
            if child.workflow == run.plan.workflow:
                plan = run.plan
            elif child.workflow in self.playbooks:
                plan = Plan(child.workflow, _plain(child.workflow), None)
            else:
                run.stuck = f"no playbook for the {child.workflow} sub-case of {case.state}"
                continue
            child_run = CaseRun(plan=plan, number=run.number, arrival=run.arrival, requester=run.requester,
                                case_id=child.id, stop_in=run.stop_in, workers=run.workers, parent=run)
            self.runs[child.id] = child_run
            taken.append(child_run)
            if schedule:
                self._after(child_run, child, now, wait=self._mean_wait(child_run, child))
        if schedule:
            run.waiting_on_branches = True
        return taken

    def _parent_moves(self, parent: CaseRun, now: datetime) -> None:
        """Schedule the next act of a case whose branch just finished, once the join has moved it on."""
        case = self.engine.case(parent.case_id)
        if self.definitions[case.workflow].state(case.state).kind.opens_branches and any(
                branch.status is BranchStatus.OPEN for branch in self.engine.branches(case.id)):
            return  # other branches still run: the last one to finish moves the case on
        if parent.waiting_on_branches:
            parent.waiting_on_branches = False
            self._after(parent, case, now, wait=self._mean_wait(parent, case))

    def _mean_wait(self, run: CaseRun, case: Case) -> timedelta:
        tasks = self.engine.tasks(case_id=case.id)
        if any(task.kind is TaskKind.EXCEPTION for task in tasks):
            return MEAN_WAIT["answer"] if any(task.assignee == run.requester.id for task in tasks) \
                else MEAN_WAIT["resolve"]
        if any(task.claimed_by for task in tasks):
            return MEAN_WAIT["work"]
        return MEAN_WAIT.get(self.definitions[case.workflow].state(case.state).kind, timedelta(hours=4))

    def _raise_due(self, run: CaseRun, case: Case, definition: Definition) -> bool:
        return self.raisable(run, case.state)

    def raisable(self, run: CaseRun, state: str) -> bool:
        """Whether the case's planned exception is still to be raised, and may be raised in `state`."""
        deviation = run.plan.deviation
        # A case's planned exception is raised once: in the case or in one of its branches.
        raised = run.raised or (run.parent is not None and run.parent.raised)
        if raised or deviation is None or deviation.kind is not DeviationKind.EXCEPTION:
            return False
        definition = self.definitions[run.plan.workflow]
        spec = definition.exceptions[deviation.reason or ""]
        return state in spec.raised_in if spec.raised_in else \
            definition.state(state).kind in (StateKind.HUMAN_TASK, StateKind.REVIEW)

    def _raise(self, run: CaseRun, case: Case, definition: Definition, now: datetime) -> None:
        reason = run.plan.deviation.reason if run.plan.deviation else ""
        role = definition.state(case.state).role
        if role == REQUESTER:
            raiser = Actor(run.requester.id)
        elif role:
            raiser = Actor(self._holder(role).id, role)
        else:
            raiser = Actor(INTEGRATION)
        # A claim the raiser holds on the state's work goes with the exception: the task closes.
        self.engine.raise_exception(case.id, reason or "", actor=raiser, now=now, note=f"demo: {reason}")
        run.raised = True
        if run.parent is not None:
            run.parent.raised = True

    def _replay_if_parked(self, run: CaseRun, case: Case, now: datetime) -> bool:
        """Replay the case's dead letter, as the operator, once the system is back; True when one was replayed."""
        parked = [entry for entry in self.engine.outbox(case_id=case.id, status=OutboxStatus.DEAD)]
        if not parked:
            return False
        run.step_fixed = True
        self.engine.replay(parked[0].id, actor=Actor(ADMIN, "operator"), now=now)
        run.waiting_for_worker = True
        self._worker_at(now + timedelta(minutes=1))
        return True

    def _vote(self, run: CaseRun, case: Case, definition: Definition, now: datetime) -> None:
        approval = definition.approval(case.state)
        assert approval is not None, f"{case.state} of {case.workflow} is an approval state without an approval"
        attached = self.engine.store.evidence_names(case.id)
        for name in (approval.evidence.documents if approval.evidence else []):
            if name not in attached:
                # Whoever sent the case to approval brings the documents it rests on, before anyone votes.
                self.engine.attach_evidence(case.id, name, actor=self._preparer(case), now=now,
                                            reference=f"dms://{case.workflow}/{case.id}/{name.replace(' ', '-')}")
        reject = run.plan.deviation is not None and run.plan.deviation.kind is DeviationKind.REJECT
        for task in self.engine.tasks(case_id=case.id):
            if task.kind is not TaskKind.APPROVAL:
                continue
            for voter in self._candidates(task, run):
                try:
                    self.engine.approve(case.id, actor=voter, now=now, reject=reject,
                                        note="Not within this year's plan" if reject else None)
                except (SeparationOfDuties, AlreadyVoted):
                    continue
                except TransitionNotAllowed:
                    if not reject:
                        raise
                    # An approval with no way out but yes (it is sent back with an exception instead).
                    self.engine.approve(case.id, actor=voter, now=now)
                return
        run.stuck = f"nobody may vote on {case.state}"

    def _work(self, run: CaseRun, case: Case, definition: Definition, now: datetime, *, quick: bool) -> bool:
        move = self._move(run, case.state)
        if move is None:
            run.stuck = f"no move for {case.state}"
            return False
        if move.not_before is not None and now < move.not_before:
            self._schedule(self._working_time(move.not_before + timedelta(minutes=20)), "act", case.id)
            return False
        work = [task for task in self.engine.tasks(case_id=case.id)
                if task.kind is TaskKind.WORK and task.state == case.state]
        if not work or move.by is not None:
            mover = Actor(self._holder(move.by).id, move.by) if move.by else \
                self._mover(run, definition, case.state, move.to)
            self.engine.transition(case.id, move.to, actor=mover, expected_version=case.version, now=now,
                                   data=dict(move.data))
            return True
        task = work[0]
        holder = task.held_by(now)
        if holder is None:
            person = self._taker(task, run)
            self.engine.claim(task.id, actor=person, now=now, lease=CLAIM_LEASE)
            if not quick:
                return True  # Claimed now, completed after a while of work (the next act).
            holder = person.id
        self.engine.complete(task.id, actor=Actor(holder, task.role if task.role != REQUESTER else None), now=now,
                             to=move.to, data=dict(move.data))
        return True

    def _move(self, run: CaseRun, state: str) -> Move | None:
        move = run.plan.variant.moves.get(state) or self.playbooks[run.plan.workflow].moves.get(state)
        return moved_move(move, number=run.number, arrival=run.arrival) if move else None

    # --- who acts ---

    def _holder(self, role: str) -> DemoPerson:
        people = holders(role)
        if not people:
            raise LookupError(f"the demo cast has nobody in the role {role!r}")
        return self.rng.choice(people)

    def _taker(self, task: Task, run: CaseRun) -> Actor:
        if task.assignee is not None:
            return Actor(task.assignee)
        if task.role in (None, REQUESTER):
            return Actor(run.requester.id)
        if task.state in run.workers:
            return Actor(run.workers[task.state], task.role)
        return Actor(self._holder(task.role).id, task.role)

    def _candidates(self, task: Task, run: CaseRun) -> list[Actor]:
        if task.assignee is not None:
            return [Actor(task.assignee)]
        people = list(holders(task.role or ""))
        self.rng.shuffle(people)
        return [Actor(someone.id, task.role) for someone in people if someone.id != run.requester.id]

    def _mover(self, run: CaseRun, definition: Definition, state: str, to: str) -> Actor:
        """Return who takes a move no task holds (out of intake or a waiting state)."""
        for transition in definition.allowed_transitions(state):
            if transition.to != to:
                continue
            roles = transition.roles or [role for role in [definition.state(state).role] if role]
            for role in roles:
                if role == REQUESTER:
                    return Actor(run.requester.id)
                return Actor(self._holder(role).id, role)
        entered = definition.state(to).role
        if entered and entered != REQUESTER:
            return Actor(self._holder(entered).id, entered)
        return Actor(run.requester.id)

    def _preparer(self, case: Case) -> Actor:
        last_move = next((event for event in reversed(self.engine.history(case.id))
                          if event.attributes.get("to_state") == case.state), None)
        if last_move is None or last_move.resource is None or last_move.resource.startswith("backoffice"):
            return Actor(INTEGRATION)
        return Actor(last_move.resource)

    # --- the worker and the clock ---

    def _worker_at(self, moment: datetime) -> None:
        if self._worker_due is not None and self._worker_due <= moment:
            return  # A pass is due before then; it wakes the worker again for what is due after it.
        self._worker_due = moment
        self._schedule(moment, "worker", 0)

    def _run_worker(self, now: datetime) -> None:
        """Run the worker until nothing is due; then move on the cases it moved, and wake it for the next retry."""
        if self._worker_due is not None and self._worker_due <= now:
            self._worker_due = None
        while True:
            report = self.worker.run_once(now)
            if not (report.claimed or report.timers or report.escalated_approvals):
                break
        for run in self.runs.values():
            if not run.waiting_for_worker:
                continue
            case = self.engine.case(run.case_id)
            definition = self.definitions[case.workflow]
            if definition.state(case.state).kind is not StateKind.AUTOMATED or self._raise_due(run, case, definition):
                run.waiting_for_worker = False
                self._after(run, case, now, wait=self._mean_wait(run, case))
        retries = [entry.next_attempt_at for entry in self.engine.outbox(status=OutboxStatus.PENDING)
                   if entry.next_attempt_at is not None and entry.next_attempt_at > now]
        if retries:
            self._worker_at(min(retries))

    def _schedule(self, moment: datetime, kind: str, subject: int) -> None:
        self._sequence += 1
        heapq.heappush(self._queue, (moment, self._sequence, kind, subject))

    def _exponential(self, mean: timedelta) -> timedelta:
        return timedelta(seconds=self.rng.expovariate(1 / mean.total_seconds()))

    def _working_time(self, moment: datetime) -> datetime:
        """Return `moment`, or the next working morning when it falls outside 07:00-17:00 on a weekday."""
        if moment.weekday() < 5 and 7 <= moment.hour < 17:
            return moment
        day = moment.replace(hour=7, minute=0, second=0, microsecond=0)
        if moment.hour >= 17 or moment.weekday() >= 5:
            day += timedelta(days=1)
        while day.weekday() >= 5:
            day += timedelta(days=1)
        return day + timedelta(minutes=self.rng.randrange(90))

    def _note(self, run: CaseRun, state: str) -> None:
        seen = self.seen.setdefault(run.plan.key, [])
        if state not in seen:
            seen.append(state)

    # --- filling the states no open case sits in ---

    def _fill(self) -> tuple[dict[tuple[str, str], int], dict[str, tuple[str, ...]]]:
        """Leave a case in each state that no open case sits in, where a kind of case seen there can reach it."""
        now = self.main_end
        open_in: dict[tuple[str, str], int] = {}
        for run in self.runs.values():
            case = self.engine.case(run.case_id)
            if _branch_finished(case):
                continue  # a branch back at its join is no work waiting there
            open_in[(case.workflow, case.state)] = open_in.get((case.workflow, case.state), 0) + 1
        filled: dict[tuple[str, str], int] = {}
        unreached: dict[str, tuple[str, ...]] = {}
        number = self.case_count + 1
        for workflow, definition in self.definitions.items():
            missing = []
            for state_id, state in definition.states.items():
                # An automated state holds a case only while the worker runs its step: the worker's passes
                # while filling the other states would move on any case left there.
                if state.kind.is_end or state.kind is StateKind.AUTOMATED or open_in.get((workflow, state_id)):
                    continue
                reached: int | None = None
                # Written as arriving now; failing that, as if it arrived two days ago: a move that waits
                # for a date (an access cutoff) is then due within the short time left.
                tries = [(plan, written_for) for plan in self._plans_through(workflow, state_id)[:3]
                         for written_for in (now, now - timedelta(days=2))]
                for plan, written_for in tries:
                    run = CaseRun(plan=plan, number=number, arrival=written_for,
                                  requester=self.rng.choice(REQUESTERS), stop_in=state_id)
                    number += 1
                    now, reached = self._play_quickly(run, now)
                    if reached:
                        break
                if reached:
                    filled[(workflow, state_id)] = reached
                else:
                    missing.append(state_id)
            if missing:
                unreached[workflow] = tuple(missing)
        self._filled_until = now
        return filled, unreached

    def _separation_of_duties_to_show(self) -> None:
        """Leave a purchase that Hana reviewed waiting for the budget owner's vote: hers is refused, Ivan's counts.

        Hana is a buyer who also owns a budget; whoever reviewed a request may not approve it.
        """
        plan = Plan("purchase-request", variants("purchase-request")[1], None)
        run = CaseRun(plan=plan, number=self.case_count + len(self.runs) + 1, arrival=self._filled_until,
                      requester=person("lena"), stop_in="approve-budget-owner", workers={"review-request": "hana"})
        self._filled_until, _ = self._play_quickly(run, self._filled_until)

    def _claim_some(self, now: datetime, *, share: float = 0.3) -> None:
        """Have people take some open work in hand as the day ends, so queues show claimed work beside waiting work."""
        after = 0
        while True:
            page = self.engine.tasks(after_id=after, limit=500)
            if not page:
                return
            for task in page:
                after = task.id
                if task.kind is not TaskKind.WORK or task.held_by(now) or task.role in (None, REQUESTER) \
                        or task.assignee is not None or self.rng.random() >= share:
                    continue
                self.engine.claim(task.id, actor=Actor(self._holder(task.role).id, task.role), now=now,
                                  lease=timedelta(hours=8))
                self.acts += 1

    def _plans_through(self, workflow: str, state_id: str) -> list[Plan]:
        """Return kinds of case that pass through a state: those seen there, then those the definition says lead there.

        An exception whose state it is, raised where the playbook's case passes; an automated step
        whose attempts running out park the case there.
        """
        plans = [self.plans[key] for key, states in self.seen.items() if key[0] == workflow and state_id in states]
        definition = self.definitions[workflow]
        variant = _plain(workflow)
        for reason, spec in definition.exceptions.items():
            if spec.state == state_id:
                plans.append(Plan(workflow, variant, Deviation(DeviationKind.EXCEPTION, reason=reason)))
        for step in definition.automated_steps:
            if step.on_exhausted == state_id:
                plans.extend(Plan(workflow, option, Deviation(DeviationKind.DEAD_LETTER, step=step.state))
                             for option in variants(workflow))
        return plans

    def _play_quickly(self, run: CaseRun, now: datetime, *, limit: int = 60) -> tuple[datetime, int | None]:
        """Start the run's case and act on it in quick succession until it waits in `stop_in` (or cannot go on).

        A case waiting for its branches has them worked, one act at a time, in the order they were
        opened: a state inside a branch is reached by the branch's child case. Returns the clock
        after the last act, and the case left waiting in `stop_in` (None when none got there).
        """
        playbook = self.playbooks[run.plan.workflow]
        payload = case_payload(playbook.payload, run.plan.variant, number=run.number, arrival=run.arrival)
        case = self.engine.start_case(run.plan.workflow, payload, actor=Actor(run.requester.id), now=now,
                                      idempotency_key=f"demo-{run.number}")
        run.case_id = case.id
        self.runs[case.id] = run
        self.acts += 1
        family = [run]
        blocked: set[int] = set()
        for _ in range(limit):
            now += FILL_STEP
            cases = {member.case_id: self.engine.case(member.case_id) for member in family}
            there = next((case_id for case_id, case in cases.items() if case.state == run.stop_in), None)
            if there is not None:
                return now, there
            member = next((member for member in family
                           if member.case_id not in blocked and self._playable(member, cases[member.case_id])), None)
            if member is None:
                break
            case = cases[member.case_id]
            definition = self.definitions[case.workflow]
            state = definition.state(case.state)
            if state.kind.opens_branches:
                family.extend(self._open_children(member, case, now, schedule=False))
                continue
            if state.kind is StateKind.AUTOMATED and not self._raise_due(member, case, definition):
                self._run_worker_for(member, now)
                continue
            move = self._move(member, case.state)
            if move is not None and move.not_before is not None and now < move.not_before:
                blocked.add(member.case_id)  # It waits for a moment after the demo's end: it stays where it is.
                continue
            if not self._act_or_note(member, now, quick=True):
                blocked.add(member.case_id)
        reached = next((member.case_id for member in family
                        if self.engine.case(member.case_id).state == run.stop_in), None)
        return now, reached

    def _playable(self, run: CaseRun, case: Case) -> bool:
        """Whether a quickly played case can be acted on: not ended, not a finished branch, not waiting on branches."""
        if run.stuck or _branch_finished(case) or self.definitions[case.workflow].state(case.state).kind.is_end:
            return False
        if self.definitions[case.workflow].state(case.state).kind.opens_branches:
            # Waiting for its branches: playable only to take up the ones not yet worked.
            return any(branch.status is BranchStatus.OPEN and branch.child_id not in self.runs
                       for branch in self.engine.branches(case.id))
        return True

    def _run_worker_for(self, run: CaseRun, now: datetime) -> None:
        self.worker.run_once(now)
        case = self.engine.case(run.case_id)
        if self.definitions[case.workflow].state(case.state).kind is StateKind.AUTOMATED:
            # A failed attempt: its retry is due later, and the clock of this quick play moves to it.
            due = [entry.next_attempt_at for entry in self.engine.outbox(case_id=case.id, status=OutboxStatus.PENDING)
                   if entry.next_attempt_at is not None]
            if due:
                self.worker.run_once(max(now, min(due)))


def _branch_finished(case: Case) -> bool:
    """Whether a case is a branch back at its parallel state: its work done, it waits for nothing (the join's)."""
    return case.parent_id is not None and case.branch is not None and case.state == case.parent_state


def _plain(workflow: str) -> Variant:
    """Return the variant of a workflow that changes nothing: its playbook as written."""
    return next((option for option in variants(workflow) if not option.changes), variants(workflow)[0])


def _resolvable(definition: Definition, reason: str) -> bool:
    """Whether a case can be played through the exception: its resolution may leave the state it parks the case in.

    An exception that parks the case in a control state (an approval, or a state `controls:`
    marks) is resolved only back to where the control is passed again; otherwise the engine
    refuses the resolution, and the case would stay there. The tour leaves such an exception
    out of the cases it plays to their end; it still fills the exception's state. (No library
    template has one: each exception's resolution is one the engine allows.)
    """
    spec = definition.exceptions[reason]
    if spec.state is None:
        return True
    parked = definition.states[spec.state]
    if parked.kind is not StateKind.APPROVAL and not definition.controls_at(spec.state):
        return True
    to = spec.returns_to or (spec.ends if isinstance(spec.ends, str) else None) or next(
        state_id for state_id, state in definition.states.items() if state.kind is StateKind.CANCELLED)
    return sends_back(definition, spec.state, to)
