"""Handoffs: the next step is done by another lane (role, resource, system or group)."""

from __future__ import annotations

import numpy as np

from backoffice.mapping.grouped import KeyCounts, KeyedWaits, first_in_case
from backoffice.mapping.model import Handoff
from backoffice.mapping.workspace import Workspace


def handoffs(ws: Workspace) -> list[Handoff]:
    """Every pair of lanes work passes between, most frequent first.

    A missing lane value on either side is not a handoff: the evidence does not say who
    did the step, so we cannot claim the work changed hands.
    """
    width = max(len(ws.lanes), 1)
    # As the directly-follows section, the log is read a slice of whole cases at a time (see
    # KeyedWaits): the one array as long as the handoffs is their waits'.
    walk, touched = KeyedWaits(width * width, int(np.count_nonzero(ws.handoff))), KeyCounts(width * width)
    for start, end, first_case, end_case in ws.slices():
        rows, key = _handed_over(ws, start, end, width)
        walk.add(key, ws.waits_at(rows))
        # A case counts once for a pair: on its first handoff between those lanes (a slice
        # holds whole cases, so the slices' counts add up).
        case = np.searchsorted(ws.starts[first_case:end_case], rows, side="right")
        touched.count(key[first_in_case(case, key, width * width)])
    keys, count, by_pair = walk.sorted(lambda: (_handed_over(ws, start, end, width)[1]
                                                for start, end, _, _ in ws.slices()))
    moved = walk.counts
    found = len(keys)
    del walk
    wait = by_pair.stats()
    del by_pair
    cases = np.zeros(found, dtype=np.int64)
    cases[moved.numbers(touched.found()[0])] = touched.found()[1]
    handed = [Handoff(from_lane=ws.lanes[key // width], to_lane=ws.lanes[key % width],
                      count=int(count[index]), cases=int(cases[index]), wait=wait.fields(index))
              for index, key in enumerate(keys.tolist())]
    return sorted(handed, key=lambda handoff: (-handoff.count, handoff.from_lane, handoff.to_lane))


def _handed_over(ws: Workspace, start: int, end: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The handoffs in rows [start, end): (their rows; each one's key, lane before * width + lane after).

    A handoff step is never a case's first: the lane before it is the row before's.
    """
    rows = np.flatnonzero(ws.handoff[start:end])
    rows += start
    key = ws.lane[rows - 1].astype(np.int64)
    key *= width
    key += ws.lane[rows]
    return rows, key
