"""Cycle time saved by parallel branches: a seeded simulation over a template's own states, a report, not a test.

    python benchmarks/parallel_cycle_time.py                          # onboarding and offboarding, 2,000 cases
    python benchmarks/parallel_cycle_time.py --template employee-onboarding --cases 500 --seed 7

For each simulated case, every state on the template's main path takes a time drawn (seeded)
from a log-normal distribution by the state's kind: a person's task a few working hours of
waiting and work, an approval longer, an automated step minutes, a waiting state a day. Each
parallel state's branches walk their own states from their start back to the join, by the
shortest path of transitions. The same case is timed twice:

  sequential   the branches one after another (the template before this change: IT, then
               equipment, then payroll), so the case takes the sum of the branches;
  parallel     the branches side by side, so the case takes the longest branch.

The states before and after the parallel work take the same drawn times in both. The script
prints the mean, median and 90th percentile of the cycle time for each, and the time saved.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
from collections import deque
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from backoffice.definitions import LIBRARY, load_definition  # noqa: E402
from backoffice.definitions.model import Definition, StateKind  # noqa: E402

# Median hours in a state, by kind (waiting in the queue and working), and the spread (sigma of the log).
MEDIAN_HOURS = {StateKind.HUMAN_TASK: 6.0, StateKind.REVIEW: 4.0, StateKind.APPROVAL: 8.0,
                StateKind.AUTOMATED: 0.1, StateKind.WAITING: 24.0}
SIGMA = 0.8


def shortest_path(definition: Definition, start: str, goal: str) -> list[str]:
    """Return the states from `start` to `goal` (both included) by the fewest transitions."""
    before: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        state = queue.popleft()
        if state == goal:
            break
        for transition in definition.allowed_transitions(state):
            if transition.to not in before and not definition.states[transition.to].kind.is_end \
                    or transition.to == goal:
                before.setdefault(transition.to, state)
                queue.append(transition.to)
    if goal not in before:
        raise SystemExit(f"{definition.id}: no path from {start!r} to {goal!r}")
    path, state = [], goal
    while state is not None:
        path.append(state)
        state = before[state]
    return path[::-1]


def main_path(definition: Definition) -> list[str]:
    done = next(sid for sid, s in definition.states.items() if s.kind is StateKind.DONE)
    return shortest_path(definition, definition.intake_state, done)


def hours_in(definition: Definition, state: str, rng: random.Random) -> float:
    median = MEDIAN_HOURS.get(definition.states[state].kind)
    return rng.lognormvariate(0, SIGMA) * median if median else 0.0


def simulate(definition: Definition, cases: int, seed: int) -> tuple[list[float], list[float]]:
    """Return each case's cycle time in hours, with its branches one after another and side by side."""
    rng = random.Random(seed)
    path = main_path(definition)
    sequential, parallel = [], []
    for _ in range(cases):
        shared, sums, longest = 0.0, 0.0, 0.0
        for state in path:
            spec = definition.states[state]
            if spec.kind is StateKind.PARALLEL:
                branches = [sum(hours_in(definition, s, rng) for s in shortest_path(definition, b.start, state)[:-1])
                            for b in spec.branch_specs().values()]
                sums += sum(branches)
                longest += max(branches)
            else:
                shared += hours_in(definition, state, rng)
        sequential.append(shared + sums)
        parallel.append(shared + longest)
    return sequential, parallel


def summary(hours: list[float]) -> tuple[float, float, float]:
    ordered = sorted(hours)
    return statistics.fmean(ordered), statistics.median(ordered), ordered[int(0.9 * (len(ordered) - 1))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", action="append", help="a library template with a parallel state (repeatable)")
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=42)
    options = parser.parse_args(argv)
    templates = options.template or ["employee-onboarding", "employee-offboarding"]
    print(f"seed {options.seed}, {options.cases} cases a template; hours are elapsed hours of waiting and work")
    print(f"{'template':24} {'version':11} {'mean h':>8} {'median h':>9} {'p90 h':>8}")
    for name in templates:
        definition = load_definition(LIBRARY / f"{name}.yaml")
        if not any(s.kind is StateKind.PARALLEL for s in definition.states.values()):
            print(f"{name}: no parallel state; nothing to compare")
            continue
        sequential, parallel = simulate(definition, options.cases, options.seed)
        before, after = summary(sequential), summary(parallel)
        print(f"{name:24} {'sequential':11} {before[0]:8.1f} {before[1]:9.1f} {before[2]:8.1f}")
        print(f"{'':24} {'parallel':11} {after[0]:8.1f} {after[1]:9.1f} {after[2]:8.1f}")
        saved = [(b - a) / b * 100 for b, a in zip(before, after, strict=True)]
        print(f"{'':24} {'saved':11} {saved[0]:7.0f}% {saved[1]:8.0f}% {saved[2]:7.0f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
