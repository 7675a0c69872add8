"""Every template of the library runs end to end in the engine, played by simulated actors.

For each template, on each database: the happy path; an exception raised where the taxonomy
allows it and resolved by its resolver; an approval nobody decides, handed to the secondary
approver at its timeout in business time; an automated step that fails once and succeeds on
its retry; and one whose attempts run out, parks in the dead-letter queue and is replayed.
Each run must end in the template's success state, with the states walked as a reader of the
template expects, its proof of completion in the data, every task closed and the audit chain
intact. A scenario a template cannot have (no approval, no automated step) is skipped with a
reason that names the template and what it lacks.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache

import pytest

from backoffice.definitions import LIBRARY, Definition, load_definition
from backoffice.definitions.model import REQUESTER, Approval, Party, StateKind
from backoffice.engine import Actor, Engine, verify
from backoffice.engine.automation import EXHAUSTED
from backoffice.engine.outbox import OutboxStatus
from backoffice.engine.tasks import TaskKind, TaskStatus

from backoffice.tour.playbooks import PLAYBOOKS
from .service_request import T0
from .simulated_actors import Clock, Playbook, ScriptedAction, SimulatedActors, family, proof_problems, states_walked

OPERATOR = Actor("ops-admin", "operator")
"""Who replays a dead letter: an administrator, who acts in none of the workflow's roles."""


@cache
def template(workflow: str) -> Definition:
    return load_definition(LIBRARY / f"{workflow}.yaml")


def timed_approval(playbook: Playbook) -> Approval | None:
    """Return the first approval on the playbook's happy path that has a timeout."""
    definition = template(playbook.workflow)
    return next((approval for state in playbook.walk
                 if (approval := definition.approval(state)) is not None and approval.timeout is not None), None)


def lacks(scenario: str, playbook: Playbook) -> str | None:
    """Return what the template lacks for the scenario, as a skip reason; None when it can be played."""
    definition = template(playbook.workflow)
    name = playbook.workflow
    if scenario == "exception" and not definition.exceptions:
        return f"{name} has no exception reasons"
    if scenario == "approval timeout":
        if not definition.approvals:
            return f"{name} has no approval, so no approval timeout"
        if not any(approval.timeout for approval in definition.approvals):
            return f"{name} has approvals but none with a timeout: nobody steps in when an approver is away"
        if timed_approval(playbook) is None:
            return f"{name}: no approval with a timeout lies on the happy path of its playbook"
    if scenario in ("retry", "dead letter") and not definition.automated_steps:
        return f"{name} has no automated step"
    return None


def templates(scenario: str) -> list[object]:
    """Return one parameter per template, skipped with its reason where the template lacks what the scenario needs."""
    return [pytest.param(playbook, id=playbook.workflow,
                         marks=[pytest.mark.skip(reason=reason)] if (reason := lacks(scenario, playbook)) else [])
            for playbook in PLAYBOOKS]


def deployed(engine: Engine, playbook: Playbook, **options: object) -> SimulatedActors:
    engine.deploy(LIBRARY / f"{playbook.workflow}.yaml", actor="lead", now=T0)
    return SimulatedActors(engine, playbook, clock=Clock(T0), **options)


def assert_finished(actors: SimulatedActors, store, case_id: int, walk: tuple[str, ...]) -> None:
    """Assert the case walked `walk` to the success end, with its proof, every task closed, the chain intact."""
    engine, definition = actors.engine, actors.definition
    case = engine.case(case_id)
    assert states_walked(engine, case_id) == list(walk)
    assert case.state == actors.playbook.success
    assert definition.state(case.state).kind is StateKind.DONE
    assert proof_problems(definition, case, now=actors.clock.now) == []
    # What the people and the actions filled in on the way still fits the template's contract.
    assert engine.running(case.workflow, case.definition_version).violations(dict(case.data)) == []
    # The case and its branches alike: no task left open, every step done.
    members = family(engine, case_id)
    assert all(engine.tasks(case_id=member) == [] for member in members)
    closed = [task for member in members for task in engine.tasks(case_id=member, status=None)]
    assert closed and all(task.status is not TaskStatus.OPEN for task in closed)
    steps = {step.action for step in definition.automated_steps}
    assert all(entry.status is OutboxStatus.DONE for member in members for entry in engine.outbox(case_id=member)
               if entry.action in steps)
    report = verify(store)
    assert report.ok, str(report)


def person_of(actors: SimulatedActors, party: Party) -> Actor:
    """Return who plays a party of the definition: a role's person, or the person of a queue's role."""
    definition = actors.definition
    if party.role is not None:
        return actors.person(party.role)
    if party.queue is not None:
        queue = definition.queues.get(party.queue)
        role = queue.role if queue and queue.role else next(
            rid for rid, spec in definition.roles.items() if spec.queue == party.queue)
        return actors.person(role)
    return Actor(party.person)


# --- the scenarios ---

@pytest.mark.parametrize("playbook", templates("happy path"))
def test_the_happy_path_runs_from_intake_to_the_success_end(engine, store, playbook):
    actors = deployed(engine, playbook)
    case = actors.start()
    actors.run(case.id)
    assert_finished(actors, store, case.id, playbook.walk)
    assert engine.dead_letters() == []
    # Each human step and each vote was done by the person of its role, through their own task.
    completed = [task for member in family(engine, case.id)
                 for task in engine.tasks(case_id=member, status=TaskStatus.COMPLETED)]
    assert completed and all(task.closed_by == actors.taker(task, case).id for task in completed)


@pytest.mark.parametrize("playbook", templates("exception"))
def test_an_exception_goes_to_its_resolver_and_the_case_then_completes(engine, store, playbook):
    play = playbook.exception
    assert play is not None, f"the playbook of {playbook.workflow} raises no exception, though the template has some"
    actors = deployed(engine, playbook)
    spec = actors.definition.exceptions[play.reason]
    assert not spec.raised_in or play.raised_in in spec.raised_in
    assert spec.returns_to is not None, f"{play.reason} ends the case; the scenario needs one the case returns from"
    case = actors.start()
    stopped = actors.run(case.id, stop_in=play.raised_in)  # the case, or its branch working there

    raised = actors.raise_exception(stopped.id, play.reason)
    assert raised.state == (spec.state or play.raised_in)
    [task] = engine.tasks(case_id=stopped.id)
    assert (task.kind, task.reason) == (TaskKind.EXCEPTION, play.reason)
    resolver = actors.requester if spec.resolver.role == REQUESTER else person_of(actors, spec.resolver)
    assert task.may_be_taken_by(resolver)

    actors.run(case.id)
    [resolved] = [event for event in engine.history(stopped.id) if event.activity == f"resolve {play.reason}"]
    assert resolved.resource == resolver.id
    assert resolved.attributes["to_state"] == spec.returns_to
    assert_finished(actors, store, case.id, play.walk)


@pytest.mark.parametrize("playbook", templates("approval timeout"))
def test_an_approval_nobody_decides_goes_to_the_secondary_at_its_timeout(engine, store, playbook):
    approval = timed_approval(playbook)
    actors = deployed(engine, playbook)
    case = actors.start()
    actors.run(case.id, stop_in=approval.state)
    entered = next(event.timestamp for event in reversed(engine.history(case.id))
                   if event.attributes.get("to_state") == approval.state)
    waiting = engine.tasks(case_id=case.id)
    assert waiting and all(task.kind is TaskKind.APPROVAL for task in waiting)
    [escalate_at] = {task.escalate_at for task in waiting}
    # The timeout counts in business time on the template's calendar, not on the wall clock.
    calendar = actors.definition.business_calendar()
    assert calendar.business_seconds_between(entered, escalate_at) == calendar.business_seconds(approval.timeout.after)

    assert engine.tick(escalate_at - timedelta(seconds=1)) == []
    actors.clock.move_to(escalate_at)
    escalated = engine.tick(actors.clock.now)
    secondary = person_of(actors, approval.timeout.to)
    assert sorted(task.id for task in escalated) == sorted(task.id for task in waiting)
    assert all(task.escalated and task.may_be_taken_by(secondary) for task in escalated)
    assert not any(event.activity.endswith(" vote") for event in engine.history(case.id))

    actors.run(case.id)
    [decided] = [event for event in engine.history(case.id) if event.attributes.get("from_state") == approval.state]
    assert (decided.resource, decided.timestamp) == (secondary.id, escalate_at)
    assert_finished(actors, store, case.id, playbook.walk)


@pytest.mark.parametrize("playbook", templates("retry"))
def test_a_step_that_fails_once_succeeds_on_its_retry_and_the_case_completes(engine, store, playbook):
    assert playbook.flaky_step is not None, f"the playbook of {playbook.workflow} names no automated step to fail"
    step = template(playbook.workflow).automated_step(playbook.flaky_step)
    flaky = ScriptedAction(playbook.results.get(step.action, {}), failures=1)
    actors = deployed(engine, playbook, actions={step.action: flaky})
    case = actors.start()
    actors.run(case.id)

    first, second = flaky.calls
    assert (first.attempt, second.attempt) == (1, 2)
    assert first.idempotency_key == second.idempotency_key
    # Equal jitter: the wait is between half the backoff and the whole of it.
    backoff = step.retry.delay(1)
    assert backoff / 2 <= (second.at - first.at).total_seconds() <= backoff
    [entry] = [entry for member in family(engine, case.id) for entry in engine.outbox(case_id=member)
               if entry.state == step.state]
    assert (entry.status, entry.attempts) == (OutboxStatus.DONE, 2)
    assert engine.dead_letters() == []
    assert_finished(actors, store, case.id, playbook.walk)


@pytest.mark.parametrize("playbook", templates("dead letter"))
def test_a_step_that_always_fails_parks_a_dead_letter_and_its_replay_completes_the_case(engine, store, playbook):
    assert playbook.flaky_step is not None, f"the playbook of {playbook.workflow} names no automated step to fail"
    assert playbook.dead_letter_walk is not None
    step = template(playbook.workflow).automated_step(playbook.flaky_step)
    broken = ScriptedAction(playbook.results.get(step.action, {}), failures=None)
    actors = deployed(engine, playbook, actions={step.action: broken})
    case = actors.start()
    parked = actors.run(case.id, stop_in=step.on_exhausted)

    assert parked.state == step.on_exhausted
    [dead] = engine.dead_letters()
    assert (dead.case_id, dead.state, dead.action, dead.status) == (parked.id, step.state, step.action,
                                                                    OutboxStatus.DEAD)
    assert dead.attempts == len(broken.calls) == step.retry.attempts
    assert {call.idempotency_key for call in broken.calls} == {dead.idempotency_key}
    assert engine.history(parked.id)[-1].reason == EXHAUSTED
    # The person of the fallback state holds the parked work meanwhile.
    [fallback] = engine.tasks(case_id=parked.id)
    assert fallback.state == step.on_exhausted

    fixed = ScriptedAction(playbook.results.get(step.action, {}))
    actors.use_action(step.action, fixed)
    engine.replay(dead.id, actor=OPERATOR, now=actors.clock.now)
    assert engine.case(parked.id).state == step.state
    actors.run(case.id)

    [call] = fixed.calls
    assert call.idempotency_key == dead.idempotency_key
    assert engine.dead_letters() == []
    assert_finished(actors, store, case.id, playbook.dead_letter_walk)


def test_every_template_of_the_library_has_a_playbook():
    assert sorted(playbook.workflow for playbook in PLAYBOOKS) == sorted(path.stem for path in LIBRARY.glob("*.yaml"))


@pytest.mark.parametrize("playbook", [p for p in PLAYBOOKS if p.workflow == "employee-offboarding"],
                         ids=lambda p: p.workflow)
def test_an_account_the_access_review_finds_is_removed_by_hand_and_the_review_passed_again(engine, store, playbook):
    """Offboarding's `account_still_active`: parked where a security officer removes it, resolved back to the review.

    The review is a control: the case leaves it for `done` only by a security officer's
    decision on a clean review, so the resolution sends the case back to be reviewed again.
    """
    actors = deployed(engine, playbook)
    spec = actors.definition.exceptions["account_still_active"]
    case = actors.start()
    stopped = actors.run(case.id, stop_in="verify-access-removed")
    assert stopped.id == case.id

    raised = actors.raise_exception(case.id, "account_still_active")
    assert raised.state == spec.state == "remove-missed-account"
    [task] = engine.tasks(case_id=case.id)
    assert (task.kind, task.reason) == (TaskKind.EXCEPTION, "account_still_active")
    officer = person_of(actors, spec.resolver)
    assert task.may_be_taken_by(officer)
    # Nobody moves the case past the review from here but by the resolution: the way to `done` is the review's.
    assert not engine.can_transition(case.id, "done", actor=officer, now=actors.clock.now)

    resolved = engine.resolve_exception(case.id, actor=officer, now=actors.clock.now, note="local VPN account disabled")
    assert resolved.state == "verify-access-removed"
    actors.run(case.id)
    walk = playbook.walk[:-1] + ("remove-missed-account", "verify-access-removed", "done")
    assert_finished(actors, store, case.id, walk)
    reviews = [event for event in engine.history(case.id) if event.attributes.get("from_state") ==
               "verify-access-removed"]
    assert [event.attributes["to_state"] for event in reviews] == ["remove-missed-account", "done"]
