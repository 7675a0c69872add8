"""Hand-built process maps for the rendering tests.

The small map has two lanes, a rework loop (check -> ask -> check), a self-loop on
"Ask for info", an edge that skips layers, and an activity whose name holds `<&">` so
every renderer must escape it. Numbers are plausible, not derived from a real log.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from pathlib import Path

from backoffice.mapping.model import (
    Activity,
    ActivityCount,
    CycleTime,
    DurationStats,
    Edge,
    ExceptionReason,
    Exceptions,
    Filters,
    Handoff,
    Lanes,
    ProcessMap,
    ResolutionStep,
    Rework,
    ReworkActivity,
    ReworkLoop,
    Sla,
    SlaOffender,
    StepKind,
    StepKindShare,
    Summary,
    TimeSink,
    Variant,
)

HOUR = 3600.0
DAY = 24 * HOUR

SUBMIT = "Submit"
CHECK = 'Check <docs> & "receipts"'
ASK = "Ask for info"
APPROVE = "Approve"
PAY = "Pay"
REJECT = "Reject"


def stats(median: float, *, count: int = 10) -> DurationStats:
    """Return a duration distribution around a median, in seconds."""
    return DurationStats(count=count, total=median * count, mean=median * 1.2,
                         median=median, p90=median * 2.5, max=median * 4)


def edge(source: str, target: str, count: int, median_wait: float, *, handoffs: int = 0) -> Edge:
    """Return a directly-follows path where every walk is its own case."""
    return Edge(source=source, target=target, count=count, cases=count,
                wait=stats(median_wait, count=count), handoffs=handoffs)


def small_map(*, unassigned: bool = False) -> ProcessMap:
    """Return a small two-lane map with a loop, a self-loop and a name that needs escaping.

    Args:
        unassigned: give "Reject" no lane, so the map has an "unassigned" lane too.
    """
    clerk, manager = "Clerk", "Manager"
    activities = [
        Activity(name=SUBMIT, events=10, cases=10, lane=clerk, kind=StepKind.STRAIGHT_THROUGH,
                 wait_before=None, repeats=0),
        Activity(name=CHECK, events=13, cases=10, lane=clerk, kind=StepKind.HUMAN,
                 wait_before=stats(4 * HOUR), repeats=3),
        Activity(name=ASK, events=4, cases=3, lane=clerk, kind=StepKind.HUMAN,
                 wait_before=stats(1 * DAY), repeats=1),
        Activity(name=APPROVE, events=9, cases=9, lane=manager, kind=StepKind.APPROVAL,
                 wait_before=stats(3.2 * DAY), repeats=0),
        Activity(name=PAY, events=7, cases=7, lane=clerk, kind=StepKind.STRAIGHT_THROUGH,
                 wait_before=stats(2 * HOUR), repeats=0),
        Activity(name=REJECT, events=3, cases=3, lane=None if unassigned else manager,
                 kind=StepKind.HUMAN, wait_before=stats(30 * 60), repeats=0),
    ]
    edges = [
        edge(SUBMIT, CHECK, 10, 4 * HOUR),
        edge(CHECK, ASK, 3, 1 * DAY),
        edge(ASK, ASK, 1, 2 * HOUR),
        edge(ASK, CHECK, 3, 2 * DAY),
        edge(CHECK, APPROVE, 9, 3.2 * DAY, handoffs=9),
        edge(CHECK, REJECT, 1, 30 * 60, handoffs=1),
        edge(APPROVE, PAY, 7, 2 * HOUR, handoffs=7),
        edge(APPROVE, REJECT, 2, 5 * 60),
        edge(SUBMIT, PAY, 0 + 1, 10 * 60),
    ]
    main_path = [SUBMIT, CHECK, APPROVE, PAY]
    variants = [
        Variant(rank=1, activities=main_path, cases=5, share=0.5, cycle_time=stats(4 * DAY),
                example_case="case-1"),
        Variant(rank=2, activities=[SUBMIT, CHECK, ASK, CHECK, APPROVE, PAY], cases=2, share=0.2,
                cycle_time=stats(9 * DAY), example_case="case-6"),
        Variant(rank=3, activities=[SUBMIT, CHECK, APPROVE, REJECT], cases=2, share=0.2,
                cycle_time=stats(5 * DAY), example_case="case-8"),
        Variant(rank=4, activities=[SUBMIT, CHECK, ASK, ASK, CHECK, REJECT], cases=1, share=0.1,
                cycle_time=stats(12 * DAY, count=1), example_case="case-<10>"),
    ]
    return ProcessMap(
        lanes=Lanes.ROLE,
        summary=Summary(
            source="expenses.csv", cases=10, events=46, steps=46, activities=6, variants=4,
            first_event=datetime(2024, 1, 2, 9, tzinfo=UTC),
            last_event=datetime(2024, 3, 28, 17, tzinfo=UTC),
            start_activities=[ActivityCount(activity=SUBMIT, cases=10)],
            end_activities=[ActivityCount(activity=PAY, cases=7), ActivityCount(activity=REJECT, cases=3)],
        ),
        filters=Filters(),
        activities=activities,
        edges=edges,
        variants=variants,
        slowest_variants=[4, 2],
        cycle_time=CycleTime(stats=stats(5 * DAY),
                             histogram=[(0, 2 * DAY, 1), (2 * DAY, 4 * DAY, 3), (4 * DAY, 6 * DAY, 3),
                                        (6 * DAY, 8 * DAY, 1), (8 * DAY, 10 * DAY, 1),
                                        (10 * DAY, 12 * DAY, 1)]),
        waiting_paths=[
            TimeSink(source=CHECK, target=APPROVE, total_wait=29 * DAY, count=9),
            TimeSink(source=ASK, target=CHECK, total_wait=6 * DAY, count=3),
            TimeSink(source=SUBMIT, target=CHECK, total_wait=2 * DAY, count=10),
        ],
        waiting_activities=[
            TimeSink(source=None, target=APPROVE, total_wait=29 * DAY, count=9),
            TimeSink(source=None, target=CHECK, total_wait=8 * DAY, count=13),
        ],
        handoffs=[
            Handoff(from_lane=clerk, to_lane=manager, count=10, cases=10, wait=stats(3 * DAY)),
            Handoff(from_lane=manager, to_lane=clerk, count=7, cases=7, wait=stats(2 * HOUR)),
        ],
        rework=Rework(
            cases_affected=3, share_of_cases=0.3,
            repeated_activities=[ReworkActivity(activity=CHECK, cases=3, repeats=3),
                                 ReworkActivity(activity=ASK, cases=1, repeats=1)],
            loops=[ReworkLoop(source=ASK, target=CHECK, count=3, cases=3),
                   ReworkLoop(source=ASK, target=ASK, count=1, cases=1)],
            median_cycle_time_with=9 * DAY, median_cycle_time_without=4 * DAY, added_time=5 * DAY,
        ),
        exceptions=Exceptions(
            column="reason", cases_with_exceptions=3,
            reasons=[ExceptionReason(reason="missing <receipt>", events=4, cases=3,
                                     resolved_at=[ResolutionStep(activity=CHECK, cases=3)])],
        ),
        sla=Sla(target="5d", cases_measured=10, within=7, attainment=0.7,
                worst=[SlaOffender(case_id="case-<10>", cycle_time=12 * DAY, target=5 * DAY,
                                   over_by=7 * DAY)]),
        step_kinds=[
            StepKindShare(kind=StepKind.STRAIGHT_THROUGH, activities=[SUBMIT, PAY], events=17,
                          share_of_cases=1.0, wait_before=14 * HOUR),
            StepKindShare(kind=StepKind.HUMAN, activities=[CHECK, ASK, REJECT], events=20,
                          share_of_cases=1.0, wait_before=10 * DAY),
            StepKindShare(kind=StepKind.APPROVAL, activities=[APPROVE], events=9,
                          share_of_cases=0.9, wait_before=29 * DAY),
        ],
        notes=["kept the 9 most frequent paths of 9"],
    )


def large_map(*, activity_count: int = 60, edge_count: int = 300, lane_count: int = 6,
              seed: int = 7) -> ProcessMap:
    """Return a busy map, the size the analysis keeps at most, for readability checks.

    Paths mostly run forward a few steps, some jump back (rework); counts fall off like
    a real log's, so a few paths dominate.
    """
    import random

    rng = random.Random(seed)
    names = [f"Step {i:02d} {rng.choice(['check', 'review', 'post', 'send', 'approve & sign'])}"
             for i in range(activity_count)]
    kinds = list(StepKind)
    activities = [Activity(name=name, events=1000 - 10 * i, cases=900 - 10 * i,
                           lane=f"Team {i * lane_count // activity_count}" if i % 17 else None,
                           kind=kinds[i % 3], wait_before=stats((i + 1) * HOUR), repeats=i % 4)
                  for i, name in enumerate(names)]
    pairs: set[tuple[int, int]] = {(i, i + 1) for i in range(activity_count - 1)}
    while len(pairs) < edge_count:
        a = rng.randrange(activity_count)
        b = a + rng.choice([1, 2, 2, 3, 3, 4, 5, 8, -1, -2, -3, 0])
        if 0 <= b < activity_count:
            pairs.add((a, b))
    edges = [edge(names[a], names[b], max(1, int(800 / (1 + rank) ** 0.9)), (rank % 30 + 1) * HOUR)
             for rank, (a, b) in enumerate(sorted(pairs, key=lambda p: (p[1] - p[0] != 1, p)))]
    base = small_map()
    summary = base.summary.model_copy(update={
        "cases": 900, "events": 50_000, "activities": activity_count, "variants": 700,
        "start_activities": [ActivityCount(activity=names[0], cases=850), ActivityCount(activity=names[3], cases=50)],
        "end_activities": [ActivityCount(activity=names[-1], cases=800), ActivityCount(activity=names[40], cases=100)],
    })
    return base.model_copy(update={"summary": summary, "activities": activities, "edges": edges,
                                   "variants": [], "slowest_variants": [], "waiting_paths": [],
                                   "waiting_activities": [],
                                   "notes": [f"kept the {edge_count} most frequent paths of 1,234"]})


SAMPLE_LOG = Path(__file__).resolve().parents[2] / "src" / "backoffice" / "samples" / "DomesticDeclarations.xes.gz"


@functools.cache
def domestic_declarations() -> ProcessMap:
    """Return the map of the bundled BPI 2020 DomesticDeclarations log; skip while the reader is missing.

    The reader and the analysis are written alongside these renderers, so a missing
    piece skips the test with the reason instead of failing it.
    """
    import pytest

    try:
        from backoffice import read_log
        from backoffice.mapping import analyze
    except ImportError as exc:
        pytest.skip(f"backoffice.read_log or backoffice.mapping.analyze is not available yet: {exc}")
    try:
        log = read_log(SAMPLE_LOG)
    except ImportError as exc:
        pytest.skip(f"the XES reader is not available yet: {exc}")
    return analyze(log)
