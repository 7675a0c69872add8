"""Levels of detail for the map, like Disco's two sliders: how many activities, how many paths.

A level keeps the most frequent activities and, among the paths between them, first
the ones that keep every shown step connected (its busiest way in and way out), then
the most frequent of the rest up to a share. Each level is a smaller map of its own, laid
out afresh, so a picture stays clean at every level instead of hiding parts of one
crowded layout. Paths through a hidden activity are not re-drawn around it: the map
only ever shows paths that happened directly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from backoffice.mapping.model import ProcessMap

# The rungs of the activity slider; a log's own number of activities is always the last.
# The small rungs stay even on a big log: they are what fits a screen at first sight.
ACTIVITY_LADDER = (6, 10, 15, 25, 40, 70, 100, 150)
# The shares of the paths beyond the connecting ones that each rung of the path slider adds.
PATH_SHARES = (0.0, 0.1, 0.25, 0.5, 1.0)
# The first view keeps to few more paths than steps: past that, a map is a tangle.
READABLE_PATHS_PER_ACTIVITY = 1.6


@dataclass(frozen=True)
class DetailLevel:
    """One position of the two sliders and the map it shows."""

    activity_step: int
    path_step: int
    activities: int
    paths: int
    map: ProcessMap


@dataclass(frozen=True)
class DetailLevels:
    """Every position of the two sliders; `levels[a][p]` is activity step a, path step p."""

    activity_counts: tuple[int, ...]
    path_shares: tuple[float, ...]
    levels: tuple[tuple[DetailLevel, ...], ...]
    total_activities: int
    total_paths: int

    def level(self, activity_step: int, path_step: int) -> DetailLevel:
        return self.levels[activity_step][path_step]

    @property
    def full_level(self) -> DetailLevel:
        return self.levels[-1][-1]


def activity_steps(count: int) -> tuple[int, ...]:
    """Return how many activities each rung of the slider shows, ending with all of them."""
    return (*(n for n in ACTIVITY_LADDER if n < count), count) if count else (0,)


def detail_levels(process_map: ProcessMap) -> DetailLevels:
    """Compute every level of the two sliders for a map; see readable_level for where to open."""
    counts = activity_steps(len(process_map.activities))
    levels = tuple(tuple(_level(process_map, a, p, shown, share) for p, share in enumerate(PATH_SHARES))
                   for a, shown in enumerate(counts))
    return DetailLevels(activity_counts=counts, path_shares=PATH_SHARES, levels=levels,
                        total_activities=len(process_map.activities), total_paths=len(process_map.edges))


def keep_activities(process_map: ProcessMap, count: int) -> list[str]:
    """Return the names of the `count` most frequent activities, most frequent first.

    Between equally frequent ones, the one more cases start with comes first, so a level
    that can hold only one of two steps every case takes shows where cases begin.
    """
    starts = {c.activity: c.cases for c in process_map.summary.start_activities}
    ranked = sorted(process_map.activities, key=lambda a: (-a.events, -a.cases, -starts.get(a.name, 0), a.name))
    return [a.name for a in ranked[:count]]


def _level(process_map: ProcessMap, activity_step: int, path_step: int, shown: int, share: float) -> DetailLevel:
    names = set(keep_activities(process_map, shown))
    between = [e for e in process_map.edges if e.source in names and e.target in names]
    ranked = sorted(between, key=lambda e: (-e.count, e.source, e.target))
    connecting: set[tuple[str, str]] = set()
    busiest_in: dict[str, tuple[str, str]] = {}
    busiest_out: dict[str, tuple[str, str]] = {}
    for edge in ranked:  # most frequent first: the first seen is the busiest
        if edge.source == edge.target:
            continue
        busiest_out.setdefault(edge.source, (edge.source, edge.target))
        busiest_in.setdefault(edge.target, (edge.source, edge.target))
    connecting.update(busiest_in.values(), busiest_out.values())
    rest = [e for e in ranked if (e.source, e.target) not in connecting]
    extra = {(e.source, e.target) for e in rest[:math.ceil(share * len(rest))]}
    kept = [e for e in process_map.edges if (e.source, e.target) in connecting | extra]
    summary = process_map.summary.model_copy(update={
        "start_activities": [c for c in process_map.summary.start_activities if c.activity in names],
        "end_activities": [c for c in process_map.summary.end_activities if c.activity in names],
    })
    smaller = process_map.model_copy(update={
        "activities": [a for a in process_map.activities if a.name in names],
        "edges": kept,
        "summary": summary,
    })
    return DetailLevel(activity_step=activity_step, path_step=path_step, activities=len(names),
                       paths=len(kept), map=smaller)


# The first view must be legible: at the smallest zoom that keeps 12px names at 9px or more
# (0.75), a map this size fits a common laptop screen (1440 by 900, less the page's controls).
READABLE_SCALE = 0.75
SCREEN_WIDTH, SCREEN_HEIGHT = 1400.0, 820.0


def few_enough_paths(level: DetailLevel, levels: DetailLevels) -> bool:
    """Say whether a level keeps to about READABLE_PATHS_PER_ACTIVITY paths per activity.

    The fewest paths of its row always count as few enough: they only connect the steps.
    """
    fewest = levels.levels[level.activity_step][0].paths
    return level.paths <= max(READABLE_PATHS_PER_ACTIVITY * level.activities, fewest)


def readable_level(levels: DetailLevels, size_of: dict[tuple[int, int], tuple[float, float]]) -> tuple[int, int]:
    """Return the richest level whose drawing fits the screen at a legible zoom, without a tangle of paths.

    Richest means the most activities first, then the most paths, of the levels with few
    enough paths (see few_enough_paths). When even the smallest level is too big, it is
    the one to open at: the viewer then starts at its beginning.

    Args:
        levels: the slider positions.
        size_of: the drawn width and height of each level, by (activity step, path step).
    """
    def fits(key: tuple[int, int]) -> bool:
        width, height = size_of[key]
        return (width * READABLE_SCALE <= SCREEN_WIDTH and height * READABLE_SCALE <= SCREEN_HEIGHT
                and few_enough_paths(levels.level(*key), levels))

    best = (0, 0)
    for a, row in enumerate(levels.levels):
        for p in range(len(row)):
            if fits((a, p)) and (a, p) > best:
                best = (a, p)
    return best
