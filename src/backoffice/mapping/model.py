"""The as-is map as typed values: what `analyze` returns and what `--json` writes.

These models are the documented JSON schema of the map (docs/map-schema.json is generated
from them): change a field only with a new `schema_version`. Durations are in seconds.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Lanes(StrEnum):
    """Which column draws the swimlanes and decides what counts as a handoff."""

    ROLE = "role"
    RESOURCE = "resource"
    SYSTEM = "system"
    GROUP = "group"


class StepKind(StrEnum):
    """What kind of work an activity is, judged from the evidence."""

    STRAIGHT_THROUGH = "straight_through"
    HUMAN = "human"
    APPROVAL = "approval"


class DurationStats(Frozen):
    """A distribution of durations in seconds."""

    count: int = Field(description="how many durations were measured")
    total: float
    mean: float
    median: float
    p90: float
    max: float


class ActivityCount(Frozen):
    activity: str
    cases: int


class Summary(Frozen):
    source: str
    cases: int
    events: int
    activities: int
    variants: int
    first_event: datetime | None
    last_event: datetime | None
    start_activities: list[ActivityCount]
    end_activities: list[ActivityCount]
    skipped_rows: int = 0


class Activity(Frozen):
    """One step of the map: how often, by whom, and how long work waits before it."""

    name: str
    events: int
    cases: int
    lane: str | None = Field(description="the lane value that performs it most often")
    kind: StepKind
    wait_before: DurationStats | None = Field(description="waiting from the previous step to this one")
    repeats: int = Field(description="events beyond the first of this activity in the same case")


class Edge(Frozen):
    """A directly-follows path: `target` happened right after `source` in a case."""

    source: str
    target: str
    count: int
    cases: int
    wait: DurationStats
    handoffs: int = Field(description="how many of these steps changed lane")


class Variant(Frozen):
    """One distinct sequence of activities, with the cases that followed it."""

    rank: int
    activities: list[str]
    cases: int
    share: float
    cycle_time: DurationStats
    example_case: str


class Handoff(Frozen):
    """Work passed from one lane to another."""

    from_lane: str
    to_lane: str
    count: int
    cases: int
    wait: DurationStats


class ReworkActivity(Frozen):
    activity: str
    cases: int = Field(description="cases where the activity happened more than once")
    repeats: int


class ReworkLoop(Frozen):
    """A step back to an activity that the case had already done."""

    source: str
    target: str
    count: int
    cases: int


class Rework(Frozen):
    cases_affected: int
    share_of_cases: float
    repeated_activities: list[ReworkActivity]
    loops: list[ReworkLoop]
    median_cycle_time_with: float | None
    median_cycle_time_without: float | None
    added_time: float | None = Field(description="median cycle time with rework minus without, seconds")


class ResolutionStep(Frozen):
    activity: str
    cases: int


class ExceptionReason(Frozen):
    reason: str
    events: int
    cases: int
    resolved_at: list[ResolutionStep] = Field(description="the step that followed the last event "
                                                          "carrying this reason in each case")


class Exceptions(Frozen):
    column: str
    cases_with_exceptions: int
    reasons: list[ExceptionReason]


class SlaOffender(Frozen):
    case_id: str
    cycle_time: float
    target: float
    over_by: float


class Sla(Frozen):
    target: str = Field(description="the target as given: a duration such as 5d, or the deadline attribute")
    cases_measured: int
    within: int
    attainment: float
    worst: list[SlaOffender]


class StepKindShare(Frozen):
    kind: StepKind
    activities: list[str]
    events: int
    share_of_cases: float = Field(description="share of cases with at least one step of this kind")
    wait_before: float = Field(description="total waiting before steps of this kind, seconds")


class TimeSink(Frozen):
    """A place where cases spend time waiting."""

    source: str | None
    target: str
    total_wait: float
    count: int


class CycleTime(Frozen):
    stats: DurationStats
    histogram: list[tuple[float, float, int]] = Field(description="bins as (from seconds, to seconds, cases)")


class Filters(Frozen):
    since: datetime | None = None
    until: datetime | None = None
    min_path_count: int = 1
    variant_coverage: float | None = None
    max_activities: int | None = None


class ProcessMap(Frozen):
    """The as-is map of an event log."""

    schema_version: int = SCHEMA_VERSION
    lanes: Lanes
    summary: Summary
    filters: Filters
    activities: list[Activity]
    edges: list[Edge]
    variants: list[Variant] = Field(description="every variant, most cases first")
    slowest_variants: list[int] = Field(description="ranks of the top variants by median cycle time")
    cycle_time: CycleTime
    waiting_paths: list[TimeSink] = Field(description="paths with the most total waiting")
    waiting_activities: list[TimeSink] = Field(description="activities with the most total waiting before them")
    handoffs: list[Handoff]
    rework: Rework
    exceptions: Exceptions | None
    sla: Sla | None
    step_kinds: list[StepKindShare]
    notes: list[str] = Field(description="what the reader should know: truncation, skipped rows")
