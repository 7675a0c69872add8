"""Variants (distinct sequences of activities) and the cycle time of cases."""

from __future__ import annotations

from backoffice.mapping.model import CycleTime, Variant
from pydantic import TypeAdapter

from backoffice.mapping.workspace import Workspace, stats_columns, stats_fields, stats_of

_VARIANT_LIST = TypeAdapter(list[Variant])


def variants(ws: Workspace) -> list[Variant]:
    """Every variant, most cases first; ties broken by the sequence so the order is stable."""
    total = ws.con.execute("SELECT count(*) FROM cases").fetchall()[0][0]
    rows = ws.con.execute(f"""
        SELECT variant, count(*) AS n, {stats_columns('cycle')}, min(case_id)
        FROM cases GROUP BY variant""").fetchall()
    named = [([ws.activities[code] for code in ws.traces[row[0]]], row) for row in rows]
    named.sort(key=lambda item: (-item[1][1], item[0]))
    # A log can have as many variants as cases: validate them as one list of plain dicts,
    # which pydantic does in one call instead of one Python-level constructor per variant.
    return _VARIANT_LIST.validate_python([
        {"rank": rank, "activities": names, "cases": row[1], "share": row[1] / total if total else 0.0,
         "cycle_time": stats_fields(row[2:8]), "example_case": ws.case_ids[row[8]]}
        for rank, (names, row) in enumerate(named, start=1)])


def cases_per_variant(ws: Workspace) -> dict[int, int]:
    """Variant number -> cases that followed it."""
    return dict(ws.con.execute("SELECT variant, count(*) FROM cases GROUP BY variant").fetchall())


def slowest(all_variants: list[Variant], *, top: int = 10) -> list[int]:
    """Ranks of the variants with the longest median cycle time."""
    ranked = sorted(all_variants, key=lambda variant: (-variant.cycle_time.median, variant.rank))
    return [variant.rank for variant in ranked[:top]]


def cycle_time(ws: Workspace, *, bins: int = 20) -> CycleTime:
    """The distribution of case cycle times (first to last event), with a histogram.

    The histogram spans 0 to the 95th percentile in equal bins, and a last bin holds the
    long tail, so one very slow case does not squash every other bar.
    """
    stats = stats_of(ws.con.execute(f"SELECT {stats_columns('cycle')} FROM cases").fetchall()[0])
    upper = ws.con.execute("SELECT coalesce(quantile_cont(cycle, 0.95), 0) FROM cases").fetchall()[0][0]
    if stats.count == 0:
        return CycleTime(stats=stats, histogram=[])
    if upper <= 0:
        return CycleTime(stats=stats, histogram=[(0.0, stats.max, stats.count)])
    width = upper / bins
    counts = dict(ws.con.execute(f"""
        SELECT least(floor(cycle / {width})::BIGINT, {bins}) AS bin, count(*)
        FROM cases GROUP BY bin""").fetchall())
    histogram = [(index * width, (index + 1) * width, counts.get(index, 0)) for index in range(bins)]
    if counts.get(bins):
        histogram.append((upper, stats.max, counts[bins]))
    return CycleTime(stats=stats, histogram=histogram)
