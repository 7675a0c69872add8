"""Number the distinct sequences of activities (variants) of many cases at once.

A case's sequence is its run of int32 activity codes, which are contiguous in memory because
events are grouped by case. Read with the case boundaries as offsets, the codes are already
an Arrow binary array with one value per case, without a copy; Arrow's hash-based
dictionary encoding then numbers equal byte strings, exactly, in C++, and in order of
first appearance. One Python step per case would take seconds on a million cases.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from backoffice.events import arrow_numpy


def number_sequences(activity: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Number the cases' sequences: equal sequences get equal numbers, in order of their first case.

    Args:
        activity: activity codes (non-negative), grouped by case, in time order.
        starts, ends: the rows [start, end) of each case, back to back (each case ends
            where the next starts); no case is empty.

    Returns:
        (the variant number of each case, the first case of each variant).
    """
    cases = len(starts)
    if cases == 0:
        return np.zeros(0, np.int32), np.zeros(0, np.int64)
    codes = np.ascontiguousarray(activity, dtype=np.int32)
    offsets = np.empty(cases + 1, dtype=np.int64)
    offsets[:-1] = starts
    offsets[-1] = ends[-1]
    offsets *= codes.itemsize
    large = offsets[-1] > np.iinfo(np.int32).max
    sequences = pa.Array.from_buffers(pa.large_binary() if large else pa.binary(), cases,
                                      [None, pa.py_buffer(offsets if large else offsets.astype(np.int32)),
                                       pa.py_buffer(codes)])
    variant = arrow_numpy.values(pc.dictionary_encode(sequences).indices).astype(np.int32, copy=False)
    # Numbers come in order of first appearance, so a case is a variant's first exactly
    # where the highest number seen so far goes up.
    highest = np.maximum.accumulate(variant)
    first_case = np.flatnonzero(np.r_[True, highest[1:] > highest[:-1]]).astype(np.int64)
    return variant, first_case


def traces(activity: np.ndarray, starts: np.ndarray, ends: np.ndarray, first_case: np.ndarray) -> list[tuple[int, ...]]:
    """The sequence of activity codes of each variant, read from its first case."""
    begin, end = starts[first_case].tolist(), ends[first_case].tolist()
    return [tuple(activity[b:e].tolist()) for b, e in zip(begin, end)]
