"""The as-is map as typed values: what `analyze` returns and what `--json` writes.

These models are the documented JSON schema of the map (docs/map-schema.json is generated
from them): change a field only with a new `schema_version`. Durations are in seconds.
They are frozen records (`backoffice.mapping.records`) rather than pydantic models: a map
pays neither pydantic's import nor the building of its schemas, and writes the same JSON;
`ProcessMap.model_json_schema()` builds the pydantic models on demand.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from backoffice.mapping.records import Frozen, field

SCHEMA_VERSION = 2


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

    count: int = field(description="how many durations were measured")
    total: float
    mean: float
    median: float
    p90: float
    max: float


class ShareStats(Frozen):
    """A distribution of shares between 0 and 1 (one per case)."""

    count: int = field(description="how many shares were measured")
    overall: float = field(description="the sum of the parts over the sum of the wholes, over all cases")
    mean: float
    median: float
    p10: float
    p90: float


class Reading(Frozen):
    """How the events were read as steps."""

    mode: str = field(description='"instances" (one step per activity instance) or "events" (one per event)')
    lifecycle: str = field(description='what the log holds: "standard XES lifecycle", "status words", '
                                       '"start and end columns" or "none"')
    timestamps: str = field(description='"start and complete" or "one per step"')
    note: str = field(description="the reading in a sentence, with what was paired, left out or unmatched")


class FlowEfficiency(Frozen):
    """Per case: time in work against time waiting."""

    active: DurationStats = field(description="per case, the processing time of its steps (at most its cycle time)")
    waiting: DurationStats = field(description="per case, cycle time minus active time")
    efficiency: ShareStats = field(description="per case with a cycle time above zero, active / cycle time")


class LaneShare(Frozen):
    lane: str
    events: int = field(description="steps of the activity this lane did")
    share: float = field(description="of the activity's steps with a known lane")


class ReasonCount(Frozen):
    reason: str
    cases: int
    events: int


class ActivityCount(Frozen):
    activity: str
    cases: int


class Summary(Frozen):
    source: str
    cases: int
    events: int = field(description="events read from the log")
    steps: int = field(description="steps on the map: one per activity instance, or per event (see reading)")
    activities: int
    variants: int
    first_event: datetime | None
    last_event: datetime | None
    start_activities: list[ActivityCount]
    end_activities: list[ActivityCount]
    skipped_rows: int = 0


class Activity(Frozen):
    """One step of the map: how often, by whom, how long it takes and how long work waits before it."""

    name: str
    events: int = field(description="how many times it happened: its steps (activity instances, see reading)")
    cases: int
    lane: str | None = field(description="the lane doing at least 60% of its steps with a known lane; "
                                         "None when shared or unknown")
    shared: bool = field(default=False, description="no lane does 60% of it: see lane_split")
    lane_split: list[LaneShare] = field(factory=list,
                                        description="the lanes doing it, most steps first (at most 20)")
    kind: StepKind
    wait_before: DurationStats | None = field(description="waiting from the previous step's completion to "
                                                          "this one's start")
    processing: DurationStats | None = field(default=None, description="start to complete of its instances, "
                                             "suspensions left out; None with one timestamp per step")
    repeats: int = field(description="steps beyond the first of this activity in the same case")
    rework_cases: int = field(default=0, description="cases where the step repeats")
    exception_reasons: list[ReasonCount] = field(factory=list,
                                                 description="exception reasons recorded on this step")


class Edge(Frozen):
    """A directly-follows path: `target` happened right after `source` in a case."""

    source: str
    target: str
    count: int
    cases: int
    wait: DurationStats
    handoffs: int = field(description="how many of these steps changed lane")


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
    cases: int = field(description="cases where the activity happened more than once")
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
    added_time: float | None = field(description="median cycle time with rework minus without, seconds")


class ResolutionStep(Frozen):
    activity: str
    cases: int


class ExceptionReason(Frozen):
    reason: str
    events: int
    cases: int
    resolved_at: list[ResolutionStep] = field(description="the step that followed the last event "
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
    target: str = field(description="the target as given: a duration such as 5d, or the deadline attribute")
    cases_measured: int
    within: int
    attainment: float
    worst: list[SlaOffender]


class StepKindShare(Frozen):
    kind: StepKind
    activities: list[str]
    events: int
    share_of_cases: float = field(description="share of cases with at least one step of this kind")
    wait_before: float = field(description="total waiting before steps of this kind, seconds")


class TimeSink(Frozen):
    """A place where cases spend time waiting."""

    source: str | None
    target: str
    total_wait: float
    count: int


class CycleTime(Frozen):
    stats: DurationStats
    histogram: list[tuple[float, float, int]] = field(description="bins as (from seconds, to seconds, cases)")


class Filters(Frozen):
    since: datetime | None = None
    until: datetime | None = None
    min_path_count: int = 1
    variant_coverage: float | None = None
    max_activities: int | None = None


class ProcessMap(Frozen):
    """The as-is map of an event log."""

    schema_version: int = SCHEMA_VERSION
    reading: Reading = field(default=Reading(mode="events", lifecycle="none", timestamps="one per step", note=""),
                             description="how events were read as steps")
    lanes: Lanes
    lane_choice: str = field(default="", description="which lane attribute was used, and why")
    summary: Summary
    filters: Filters
    activities: list[Activity]
    edges: list[Edge]
    variants: list[Variant] = field(description="every variant, most cases first")
    slowest_variants: list[int] = field(description="ranks of the top variants by median cycle time")
    cycle_time: CycleTime
    flow: FlowEfficiency | None = field(default=None, description="active and waiting time per case; None with one "
                                                    "timestamp per step")
    waiting_paths: list[TimeSink] = field(description="paths with the most total waiting")
    waiting_activities: list[TimeSink] = field(description="activities with the most total waiting before them")
    handoffs: list[Handoff]
    rework: Rework
    exceptions: Exceptions | None
    sla: Sla | None
    step_kinds: list[StepKindShare]
    notes: list[str] = field(description="what the reader should know: truncation, skipped rows")
