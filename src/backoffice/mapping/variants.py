"""Variants (distinct sequences of activities) and the cycle time of cases."""

from __future__ import annotations

import numpy as np

from backoffice.mapping.grouped import MICROSECONDS, duration_stats, quantile_of, sorted_durations
from backoffice.mapping.model import CycleTime, DurationStats, Variant
from backoffice.mapping.workspace import Workspace

def cases_per_variant(ws: Workspace) -> np.ndarray:
    """Per variant number: how many cases followed it."""
    return ws.variant_cases


def variants(ws: Workspace) -> list[Variant]:
    """Every variant, most cases first; ties broken by the sequence so the order is stable."""
    total = ws.cases
    counts = cases_per_variant(ws)
    cycle = duration_stats(ws.variant, ws.cycle, len(ws.traces))
    names = [[ws.activities[code] for code in trace] for trace in ws.traces]
    order = sorted(range(len(names)), key=lambda variant: (-counts[variant], names[variant]))
    # The first case of each variant, as its example: the lowest case number in log order.
    examples = ws.case_names(ws.variant_first_case)
    # A log can have as many variants as cases: each field is built of its type here (Python
    # ints, floats and text), so the records are made without converting each value again.
    return [Variant.exact(rank=rank, activities=names[variant], cases=int(counts[variant]),
                          share=int(counts[variant]) / total if total else 0.0,
                          cycle_time=DurationStats.exact(**cycle.fields(variant)), example_case=examples[variant])
            for rank, variant in enumerate(order, start=1)]


def slowest(all_variants: list[Variant], *, top: int = 10) -> list[int]:
    """Ranks of the variants with the longest median cycle time."""
    ranked = sorted(all_variants, key=lambda variant: (-variant.cycle_time.median, variant.rank))
    return [variant.rank for variant in ranked[:top]]


def cycle_time(ws: Workspace, *, bins: int = 20) -> CycleTime:
    """The distribution of case cycle times (first to last event), with a histogram.

    The histogram spans 0 to the 95th percentile in equal bins, and a last bin holds the
    long tail, so one very slow case does not squash every other bar.
    """
    cycle = ws.cycle
    # One group: the durations sorted once serve the statistics and the 95th percentile.
    whole = sorted_durations(np.zeros(len(cycle), np.int64), cycle, 1)
    stats = DurationStats(**whole.stats().fields(0))
    if stats.count == 0:
        return CycleTime(stats=stats, histogram=[])
    upper = quantile_of(whole.ordered[:stats.count], 0.95, ordered=True) or 0.0
    del whole
    if upper <= 0:
        return CycleTime(stats=stats, histogram=[(0.0, stats.max, stats.count)])
    width = upper / bins
    counts = np.bincount(np.minimum(np.floor((cycle / MICROSECONDS) / width), bins).astype(np.int64),
                         minlength=bins + 1)
    histogram = [(index * width, (index + 1) * width, int(counts[index])) for index in range(bins)]
    if counts[bins]:
        histogram.append((upper, stats.max, int(counts[bins])))
    return CycleTime(stats=stats, histogram=histogram)
