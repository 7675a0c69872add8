"""Flow efficiency: how much of each case's cycle time is work, and how much is waiting."""

from __future__ import annotations

import numpy as np

from backoffice.events.instances import NOT_MEASURED
from backoffice.mapping.grouped import duration_stats
from backoffice.mapping.model import DurationStats, FlowEfficiency, ShareStats
from backoffice.mapping.workspace import Workspace


def flow_efficiency(ws: Workspace) -> FlowEfficiency | None:
    """Per case: active time (its steps' processing), waiting time (the rest of its cycle) and their ratio.

    Steps done in parallel could add up to more than the cycle time: active time is capped
    at the cycle time. None when the log has one timestamp per step.
    """
    if ws.processing is None or not ws.cases:
        return None
    active = np.add.reduceat(np.where(ws.processing == NOT_MEASURED, 0, ws.processing), ws.starts)
    cycle = ws.cycle
    active = np.minimum(active, cycle)
    waiting = cycle - active
    one_group = np.zeros(ws.cases, dtype=np.int64)
    measured = cycle > 0
    shares = active[measured] / cycle[measured]
    total_cycle = float(cycle.sum())
    if len(shares):
        p10, median, p90 = np.quantile(shares, [0.1, 0.5, 0.9]).tolist()
        efficiency = ShareStats(count=len(shares), overall=float(active.sum()) / total_cycle if total_cycle else 0.0,
                                mean=float(shares.mean()), median=median, p10=p10, p90=p90)
    else:
        efficiency = ShareStats(count=0, overall=0.0, mean=0.0, median=0.0, p10=0.0, p90=0.0)
    return FlowEfficiency(active=DurationStats(**duration_stats(one_group, active, 1).fields(0)),
                          waiting=DurationStats(**duration_stats(one_group, waiting, 1).fields(0)),
                          efficiency=efficiency)

