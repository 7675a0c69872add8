"""Nested parallel work: a branch that opens parallel branches of its own joins at both levels.

Join all, first and N at either level; the losing branches cancelled with everything under
them (their tasks closed with the reason, their own branches cancelled in turn); the data of
the innermost branches coming back to the case; the audit trail verifying throughout.
"""

from __future__ import annotations

import threading

from backoffice.engine import Engine, verify
from backoffice.engine.branches_model import BranchStatus
from backoffice.engine.tasks import TaskStatus
from backoffice.store import SqlStore

from .nested_parallel import BUYER, CLERK, LEGAL, branch, deploy, later, move, started


def statuses(engine, case_id):
    return {row.branch: row.status for row in engine.branches(case_id)}


def assert_verifies(engine):
    report = verify(engine.store)
    assert report.ok, str(report)


def finish_buying(engine, case_id, at: float):
    move(engine, branch(engine, case_id, "buy", "budget"), "purchase", BUYER, later(at), budget_ok=True)
    move(engine, branch(engine, case_id, "buy", "legal"), "purchase", LEGAL, later(at + 0.1), legal_ok=True)
    move(engine, branch(engine, case_id, "buy", "quote"), "purchase", BUYER, later(at + 0.2), quote="Q-17")


def test_a_branch_starting_in_a_parallel_state_opens_its_own_branches_with_their_paths(engine):
    deploy(engine)
    case_id = started(engine)
    buy = branch(engine, case_id, "buy")
    assert engine.case(buy).state == "purchase"
    assert statuses(engine, buy) == {"quote": BranchStatus.OPEN, "budget": BranchStatus.OPEN,
                                     "legal": BranchStatus.OPEN}
    quote = engine.case(branch(engine, case_id, "buy", "quote"))
    assert (quote.parent_id, quote.parent_state, quote.branch, quote.state) == (buy, "purchase", "buy/quote",
                                                                                "get-quote")
    # The buying branch waits for its own branches: nothing moves it past them.
    assert not engine.can_transition(buy, "place-order", actor=BUYER, now=later(1))
    assert {task.queue for task in engine.store.tasks(case_id=quote.id)} == {"buying"}


def test_join_all_at_both_levels_brings_the_innermost_data_up_to_the_case(engine):
    deploy(engine)
    case_id = started(engine)
    buy = branch(engine, case_id, "buy")
    finish_buying(engine, case_id, 1)
    assert engine.case(buy).state == "place-order"
    assert engine.case(case_id).state == "project-work"
    move(engine, buy, "project-work", BUYER, later(2), order_no="PO-5")
    assert engine.case(case_id).state == "project-work"  # the documents are still open
    move(engine, branch(engine, case_id, "docs"), "project-work", CLERK, later(3), docs="handbook")
    case = engine.case(case_id)
    assert case.state == "close-project"
    assert {key: case.data.get(key) for key in ("quote", "budget_ok", "legal_ok", "order_no", "docs")} == {
        "quote": "Q-17", "budget_ok": True, "legal_ok": True, "order_no": "PO-5", "docs": "handbook"}
    assert set(statuses(engine, case_id).values()) == set(statuses(engine, buy).values()) == {BranchStatus.DONE}
    assert {event.branch for event in engine.history(branch(engine, case_id, "buy", "quote"))} == {"buy/quote"}
    move(engine, case_id, "done", CLERK, later(4))
    assert_verifies(engine)


def test_join_first_at_both_levels_cancels_the_losers_and_everything_under_them(engine, tmp_path):
    deploy(engine, tmp_path, top="first", nested="first")
    case_id = started(engine)
    buy = branch(engine, case_id, "buy")
    inner = {name: branch(engine, case_id, "buy", name) for name in ("quote", "budget", "legal")}
    # The documents finish first: the buying branch loses while it waits for its own branches.
    move(engine, branch(engine, case_id, "docs"), "project-work", CLERK, later(1), docs="handbook")
    assert engine.case(case_id).state == "close-project"
    assert statuses(engine, case_id) == {"buy": BranchStatus.CANCELLED, "docs": BranchStatus.DONE}
    assert engine.case(buy).state == "project-work"
    # Its own branches are cancelled with it, their tasks closed with the reason, nothing left open.
    assert set(statuses(engine, buy).values()) == {BranchStatus.CANCELLED}
    for child in inner.values():
        assert engine.case(child).state == "purchase"
        tasks = engine.store.tasks(case_id=child)
        assert tasks and all(task.status is TaskStatus.CANCELLED for task in tasks)
        assert all("'docs' finished" in task.reason for task in tasks)
    assert not engine.can_transition(inner["quote"], "waiting-on-supplier", actor=BUYER, now=later(2))
    assert_verifies(engine)


def test_join_first_inside_and_all_outside(engine, tmp_path):
    deploy(engine, tmp_path, top="all", nested="first")
    case_id = started(engine)
    buy = branch(engine, case_id, "buy")
    move(engine, branch(engine, case_id, "buy", "legal"), "purchase", LEGAL, later(1), legal_ok=True)
    assert engine.case(buy).state == "place-order"
    assert statuses(engine, buy) == {"quote": BranchStatus.CANCELLED, "budget": BranchStatus.CANCELLED,
                                     "legal": BranchStatus.DONE}
    assert statuses(engine, case_id) == {"buy": BranchStatus.OPEN, "docs": BranchStatus.OPEN}
    move(engine, buy, "project-work", BUYER, later(2), order_no="PO-5")
    move(engine, branch(engine, case_id, "docs"), "project-work", CLERK, later(3))
    assert engine.case(case_id).state == "close-project"
    assert engine.case(case_id).data["legal_ok"] is True and "quote" not in engine.case(case_id).data
    assert_verifies(engine)


def test_join_two_of_three_inside_then_first_outside(engine, tmp_path):
    deploy(engine, tmp_path, top="first", nested="2")
    case_id = started(engine)
    buy = branch(engine, case_id, "buy")
    move(engine, branch(engine, case_id, "buy", "budget"), "purchase", BUYER, later(1), budget_ok=True)
    assert engine.case(buy).state == "purchase"
    move(engine, branch(engine, case_id, "buy", "quote"), "purchase", BUYER, later(2), quote="Q-3")
    assert engine.case(buy).state == "place-order"
    assert statuses(engine, buy)["legal"] is BranchStatus.CANCELLED
    # The buying branch wins the outer join: the documents are cancelled.
    move(engine, buy, "project-work", BUYER, later(3), order_no="PO-8")
    case = engine.case(case_id)
    assert case.state == "close-project" and case.data["order_no"] == "PO-8" and case.data["quote"] == "Q-3"
    assert statuses(engine, case_id) == {"buy": BranchStatus.DONE, "docs": BranchStatus.CANCELLED}
    assert_verifies(engine)


def test_a_losing_branch_whose_own_join_is_half_met_leaves_nothing_open_under_it(engine, tmp_path):
    """The inner join has one branch done when the outer join cancels it: the others are cancelled, done stays done."""
    deploy(engine, tmp_path, top="first", nested="all")
    case_id = started(engine)
    move(engine, branch(engine, case_id, "buy", "budget"), "purchase", BUYER, later(1))
    move(engine, branch(engine, case_id, "docs"), "project-work", CLERK, later(2))
    buy = branch(engine, case_id, "buy")
    assert statuses(engine, buy) == {"quote": BranchStatus.CANCELLED, "budget": BranchStatus.DONE,
                                     "legal": BranchStatus.CANCELLED}
    # Nothing under the cancelled branch moves again, and nothing is left open anywhere in the case.
    legal = branch(engine, case_id, "buy", "legal")
    assert not engine.can_transition(legal, "purchase", actor=LEGAL, now=later(3))
    members = [buy, legal, branch(engine, case_id, "buy", "quote"), branch(engine, case_id, "docs")]
    assert all(engine.store.tasks(case_id=member, status=TaskStatus.OPEN) == [] for member in members)
    assert [task.state for task in engine.store.tasks(case_id=case_id, status=TaskStatus.OPEN)] == ["close-project"]
    assert_verifies(engine)


def _move_in_thread(database: str, case_id: int, to: str, actor, data: dict, barrier: threading.Barrier,
                    errors: list) -> None:
    engine = Engine(SqlStore.open(database, upgrade=False))
    try:
        barrier.wait(timeout=30)
        move(engine, case_id, to, actor, later(5), **data)
    except Exception as exc:  # noqa: BLE001 - reported by the test thread
        errors.append(exc)
    finally:
        engine.store.close()


def test_an_inner_branch_and_an_outer_one_moving_at_once_do_not_deadlock(engine, database, tmp_path):
    """The quote's wait stops the clocks up to the case while the documents win the outer join and cancel it all.

    Both moves take the family's cases outermost first, so one waits for the other: the later
    one is refused (its branch cancelled) or goes through, and never dies in a deadlock.
    """
    from backoffice.errors import StaleVersion, TransitionNotAllowed
    deploy(engine, tmp_path, top="first", nested="all")
    for _ in range(3):
        case_id = started(engine)
        move(engine, branch(engine, case_id, "buy", "budget"), "purchase", BUYER, later(1))
        move(engine, branch(engine, case_id, "buy", "legal"), "purchase", LEGAL, later(1))
        barrier, errors = threading.Barrier(2), []
        threads = [threading.Thread(target=_move_in_thread, args=(database, branch(engine, case_id, "buy", "quote"),
                                                                  "waiting-on-supplier", BUYER, {}, barrier, errors)),
                   threading.Thread(target=_move_in_thread, args=(database, branch(engine, case_id, "docs"),
                                                                  "project-work", CLERK, {}, barrier, errors))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert all(isinstance(error, (StaleVersion, TransitionNotAllowed)) for error in errors), errors
        assert engine.case(case_id).state == "close-project"
        buy = branch(engine, case_id, "buy")
        assert statuses(engine, case_id)["buy"] is BranchStatus.CANCELLED
        assert statuses(engine, buy)["quote"] is BranchStatus.CANCELLED
        assert engine.store.paused_time(case_id).since is None  # the case moved on: its clock runs
    assert_verifies(engine)
