"""Handoffs: the next step is done by another lane (role, resource, system or group)."""

from __future__ import annotations

from functools import partial

import numpy as np

from backoffice.mapping.grouped import distinct_cases, duration_stats
from backoffice.mapping.model import Handoff
from backoffice.mapping.paths import pair_codes
from backoffice.mapping.workspace import Workspace, case_starts
from backoffice.side_by_side import side_by_side


def handoffs(ws: Workspace) -> list[Handoff]:
    """Every pair of lanes work passes between, most frequent first.

    A missing lane value on either side is not a handoff: the evidence does not say who
    did the step, so we cannot claim the work changed hands.
    """
    width = max(len(ws.lanes), 1)
    # The handoff steps alone: the others would only be counted for no pair and sorted for nothing.
    rows = np.flatnonzero(ws.handoff)

    def lane_pairs():
        # A handoff step is never a case's first: the lane before it is the row before's.
        before = ws.lane[rows - 1].astype(np.int64)
        return pair_codes(before, ws.lane[rows], width, np.zeros(len(rows), bool), in_place=True)

    # The rows' cases are looked up beside the numbering of their lane pairs (an int32 a
    # handoff, held a little earlier: 15M events, 27 MB, below the directly-follows peak).
    (pair, pairs, count_found), case = side_by_side([lane_pairs, partial(ws.case_of, rows)])
    count = np.bincount(pair, minlength=count_found)
    cases = distinct_cases(case_starts(case), pair, count_found, case=case)
    del case
    waits = ws.wait[rows]
    del rows
    wait = duration_stats(pair, waits, count_found, consume=True)
    found = [Handoff(from_lane=ws.lanes[pairs[index] // width], to_lane=ws.lanes[pairs[index] % width],
                     count=int(count[index]), cases=int(cases[index]), wait=wait.fields(index))
             for index in np.flatnonzero(count[:count_found]).tolist()]
    return sorted(found, key=lambda handoff: (-handoff.count, handoff.from_lane, handoff.to_lane))
