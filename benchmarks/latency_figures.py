"""Latency figures shared by the HTTP benchmarks (bench_api, bench_web): nearest-rank quantiles in milliseconds.

    from latency_figures import latency_ms
    latency_ms([0.012, 0.030, 0.018])   # {"p50_ms": 18.0, "p95_ms": 30.0, "p99_ms": 30.0, "max_ms": 30.0}
"""

from __future__ import annotations

import math
from collections.abc import Iterable


def quantile(ordered: list[float], fraction: float) -> float:
    """The nearest-rank quantile: the smallest value with at least `fraction` of them at or below it."""
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def ms(seconds: float) -> float:
    return round(1000 * seconds, 1)


def latency_ms(seconds: Iterable[float]) -> dict[str, float]:
    """p50, p95, p99 and the maximum of some durations (seconds, at least one), in milliseconds."""
    ordered = sorted(seconds)
    return {"p50_ms": ms(quantile(ordered, 0.50)), "p95_ms": ms(quantile(ordered, 0.95)),
            "p99_ms": ms(quantile(ordered, 0.99)), "max_ms": ms(ordered[-1])}
