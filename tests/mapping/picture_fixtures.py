"""Maps with what the analysis of activity instances adds to a step, for the drawing tests.

The drawing reads these fields with getattr, so it works on maps with and without them;
these fixtures give them, on a subclass of Activity, as the analysis will.
"""

from __future__ import annotations

from dataclasses import dataclass

from backoffice.mapping.model import Activity, DurationStats, ProcessMap

from .map_fixtures import APPROVE, CHECK, DAY, HOUR, small_map, stats


@dataclass(frozen=True)
class LaneShare:
    lane: str
    events: int
    share: float


@dataclass(frozen=True)
class ReasonCount:
    reason: str
    cases: int
    events: int


class InstanceActivity(Activity):
    """An activity as the instance analysis describes it."""

    processing: DurationStats | None = None
    shared: bool = False
    lane_split: list[LaneShare] = []
    exception_reasons: list[ReasonCount] = []
    rework_cases: int = 0


def _instance_activity(fields: dict) -> Activity:
    """Build the activity with the model's own fields where it has them, else with the stand-ins above."""
    if "shared" not in Activity.model_fields:
        return InstanceActivity(**fields)
    from backoffice.mapping import model

    def as_dict(item: object) -> dict:
        return item if isinstance(item, dict) else vars(item)

    fields["lane_split"] = [model.LaneShare(**as_dict(share)) for share in fields.get("lane_split", [])]
    fields["exception_reasons"] = [model.ReasonCount(**as_dict(reason))
                                   for reason in fields.get("exception_reasons", [])]
    return Activity(**fields)


def instance_map() -> ProcessMap:
    """Return the small map where Check is shared by two lanes, has exceptions and rework, and steps take time."""
    base = small_map()
    activities = []
    for activity in base.activities:
        extra: dict = {"processing": stats(2 * HOUR if activity.name == APPROVE else 20 * 60)}
        if activity.name == CHECK:
            extra.update(shared=True, rework_cases=3,
                         lane_split=[LaneShare("Clerk", 7, 0.54), LaneShare("Manager", 6, 0.46)],
                         exception_reasons=[ReasonCount("missing <receipt>", 3, 4), ReasonCount("wrong amount", 1, 1)])
        activities.append(_instance_activity({**activity.model_dump(), **extra}))
    return base.model_copy(update={"activities": activities,
                                   "reading": reading("one step per activity instance, start and complete paired"),
                                   "lane_choice": "role: the first of role, group, system the log has"})


@dataclass(frozen=True)
class Reading:
    mode: str
    lifecycle: str
    timestamps: str
    note: str


def reading(note: str) -> object:
    """Return how a log was read, as the model's Reading where it has one."""
    from backoffice.mapping import model

    kind = getattr(model, "Reading", Reading)
    return kind(mode="instances", lifecycle="standard XES lifecycle", timestamps="start and complete", note=note)


__all__ = ["DAY", "instance_map", "reading"]
