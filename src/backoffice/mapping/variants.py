"""Variants (distinct sequences of activities) and the cycle time of cases."""

from __future__ import annotations

import duckdb

from backoffice.mapping.model import CycleTime, Variant
from backoffice.mapping.workspace import stats_columns, stats_of


def variants(con: duckdb.DuckDBPyConnection) -> list[Variant]:
    """Every variant, most cases first; ties broken by the sequence so the order is stable."""
    total = con.execute("SELECT count(*) FROM cases").fetchall()[0][0]
    rows = con.execute(f"""
        SELECT trace, count(*) AS n, {stats_columns('cycle')}, min(case_id)
        FROM cases GROUP BY trace ORDER BY n DESC, trace""").fetchall()
    return [Variant(rank=rank, activities=list(row[0]), cases=row[1], share=row[1] / total if total else 0.0,
                    cycle_time=stats_of(row[2:8]), example_case=row[8])
            for rank, row in enumerate(rows, start=1)]


def slowest(all_variants: list[Variant], *, top: int = 10) -> list[int]:
    """Ranks of the variants with the longest median cycle time."""
    ranked = sorted(all_variants, key=lambda variant: (-variant.cycle_time.median, variant.rank))
    return [variant.rank for variant in ranked[:top]]


def cycle_time(con: duckdb.DuckDBPyConnection, *, bins: int = 20) -> CycleTime:
    """The distribution of case cycle times (first to last event), with a histogram.

    The histogram spans 0 to the 95th percentile in equal bins, and a last bin holds the
    long tail, so one very slow case does not squash every other bar.
    """
    stats = stats_of(con.execute(f"SELECT {stats_columns('cycle')} FROM cases").fetchall()[0])
    upper = con.execute("SELECT coalesce(quantile_cont(cycle, 0.95), 0) FROM cases").fetchall()[0][0]
    if stats.count == 0:
        return CycleTime(stats=stats, histogram=[])
    if upper <= 0:
        return CycleTime(stats=stats, histogram=[(0.0, stats.max, stats.count)])
    width = upper / bins
    counts = dict(con.execute(f"""
        SELECT least(floor(cycle / {width})::BIGINT, {bins}) AS bin, count(*)
        FROM cases GROUP BY bin""").fetchall())
    histogram = [(index * width, (index + 1) * width, counts.get(index, 0)) for index in range(bins)]
    if counts.get(bins):
        histogram.append((upper, stats.max, counts[bins]))
    return CycleTime(stats=stats, histogram=histogram)
