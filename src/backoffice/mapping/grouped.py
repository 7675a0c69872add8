"""Group-by over integer codes with numpy: counts, distinct cases, and duration statistics.

Every section of the map is a group-by over small integer codes (an activity, a pair of
activities, a pair of lanes, a reason). Sorting 64-bit integers is the fastest thing numpy
does, so each statistic packs the group and the value into one int64 and sorts that,
instead of sorting row numbers by two keys. Durations are whole microseconds: the waits
and cycle times are exact, and turned into seconds only in the results.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

MICROSECONDS = 1e6
# Group codes up to this many are counted with bincount directly; wider ones (pairs of
# 100,000 activities) are first renumbered to the codes that occur.
DIRECT_WIDTH = 1 << 22


def compact(keys: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Renumber keys in [0, width) to dense codes 0..k-1, in key order.

    Returns:
        (dense code of each key, the key behind each dense code).
    """
    if width <= max(DIRECT_WIDTH, 2 * len(keys)):
        present = np.bincount(keys, minlength=width) > 0
        dense = np.cumsum(present, dtype=np.int64) - 1
        return dense[keys], np.flatnonzero(present)
    behind, dense = np.unique(keys, return_inverse=True)
    return dense.reshape(-1), behind


def distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted: np.unique's answer for a plain array.

    np.unique asks numpy.ma whether the array is masked, which imports numpy.ma (12 ms,
    a hundredth of mapping a million-event log) the first time.
    """
    ordered = np.sort(values)
    if len(ordered) < 2:
        return ordered
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


# For each byte value, which of its 8 bits are set (256 x 8 zeros and ones).
_BITS_OF_BYTE = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1, bitorder="little").astype(np.int64)
# Per-case bit sets are used up to this many groups; beyond, pairs are sorted.
BITSET_WIDTH = 64 * 8


def distinct_cases(starts: np.ndarray, group: np.ndarray, width: int, *, case: np.ndarray | None = None,
                   weights: np.ndarray | None = None) -> np.ndarray:
    """Count, for each group code in [0, width), the distinct cases among its rows.

    Rows are grouped by case: `starts` holds the first row of each case. A row whose code
    is -1 or width counts for no group. Up to a few hundred groups that occur, each case's
    set of groups is one bit set per 64 groups, built with one OR-reduction over the rows
    and counted by byte values: a few linear passes, no sort.

    Args:
        starts: the first row of each case, increasing; every case has a row.
        group: the group code of each row.
        case: the case number of each row, needed only past BITSET_WIDTH groups.
        weights: how many cases each segment of rows stands for (a variant's cases, when
            the rows are one case per variant); None counts each segment once.
    """
    counts = np.zeros(width, dtype=np.int64)
    if not len(group) or not len(starts) or not width:
        return counts
    if width > BITSET_WIDTH and width <= max(DIRECT_WIDTH, 2 * len(group)):
        # Few of many possible codes may occur (pairs of activities): count those alone.
        occurs = np.bincount(group + 1, minlength=width + 2)[1:width + 1] > 0
        if np.count_nonzero(occurs) <= BITSET_WIDTH:
            dense = np.full(width + 2, -1, dtype=np.int64)
            dense[1:width + 1][occurs] = np.arange(np.count_nonzero(occurs))
            counts[occurs] = distinct_cases(starts, dense[group + 1], int(np.count_nonzero(occurs)), weights=weights)
            return counts
    if width > BITSET_WIDTH:
        if case is None:
            case = np.repeat(np.arange(len(starts), dtype=np.int64), np.diff(np.r_[starts, len(group)]))
        counted = (group >= 0) & (group < width)
        pairs = distinct(case[counted].astype(np.int64) * width + group[counted])
        found = np.bincount(pairs % width, weights=None if weights is None else weights[pairs // width],
                            minlength=width)
        return np.rint(found).astype(np.int64)
    for word in range(0, width, 64):
        size = min(64, width - word)
        # One bit per group of this word; every other code (other words, width, and -1,
        # which indexes the last entry) gets no bit.
        bit_of = np.zeros(width + 1, dtype=np.uint64)
        bit_of[word:word + size] = np.left_shift(np.uint64(1), np.arange(size, dtype=np.uint64))
        sets = np.bitwise_or.reduceat(bit_of[group], starts)
        as_bytes = sets.astype("<u8", copy=False).view(np.uint8).reshape(-1, 8)
        for byte in range((size + 7) // 8):
            histogram = np.rint(np.bincount(as_bytes[:, byte], weights=weights, minlength=256)).astype(np.int64)
            found = histogram @ _BITS_OF_BYTE
            low = word + 8 * byte
            counts[low:min(low + 8, word + size)] = found[:min(8, word + size - low)]
    return counts


def first_in_case(case: np.ndarray, code: np.ndarray, width: int) -> np.ndarray:
    """Flag the first row of each case holding each code (codes in [0, width); negative never flagged).

    Rows are grouped by case, so among the rows of one code the cases never decrease: a
    stable sort by code alone lines up each (code, case) pair, and a row is first when its
    case differs from the row before it. Codes that fit 16 bits sort in linear time.
    """
    flags = np.zeros(len(code), dtype=bool)
    if not len(code):
        return flags
    order = np.argsort(code.astype(np.int16) if width < np.iinfo(np.int16).max else code, kind="stable")
    sorted_code, sorted_case = code[order], case[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (sorted_code[1:] != sorted_code[:-1]) | (sorted_case[1:] != sorted_case[:-1])
    flags[order[first]] = True
    flags[code < 0] = False
    return flags


@dataclass(frozen=True)
class DurationColumns:
    """Per group: how many durations, their total, mean, median, 90th percentile and maximum, in seconds.

    A group without durations has zeros, as SQL's coalesce(..., 0) would give.
    """

    count: np.ndarray
    total: np.ndarray
    mean: np.ndarray
    median: np.ndarray
    p90: np.ndarray
    max: np.ndarray

    def fields(self, group: int) -> dict[str, float]:
        """The fields of a DurationStats for one group."""
        return {"count": int(self.count[group]), "total": float(self.total[group]), "mean": float(self.mean[group]),
                "median": float(self.median[group]), "p90": float(self.p90[group]), "max": float(self.max[group])}


# Rows counted at a time by the sections that walk the log in slices (and the widest table of
# counts KeyCounts keeps): their temporaries stay a few MB whatever the log.
COUNT_SLICE = 1 << 20


class KeyCounts:
    """How often each integer key in [0, width) occurs, counted a slice of rows at a time; then a dense number per key.

    Keys are counted in a table of `width` counts when that is no longer than a slice
    (pairs of up to 1,024 activities); past that, each slice's keys are sorted and
    counted, and the counts merged. Either way, no array of the log's length.
    """

    def __init__(self, width: int) -> None:
        self.width = width
        self._table = np.zeros(width, dtype=np.int64) if width <= COUNT_SLICE else None
        self._parts: list[tuple[np.ndarray, np.ndarray]] = []
        self._found: tuple[np.ndarray, np.ndarray] | None = None
        self._dense: np.ndarray | None = None

    def count(self, keys: np.ndarray) -> None:
        """Count these keys (each in [0, width)) once more."""
        if self._table is not None:
            self._table += np.bincount(keys, minlength=self.width)
        elif len(keys):
            self._parts.append(_runs(np.sort(keys)))

    def found(self) -> tuple[np.ndarray, np.ndarray]:
        """(the keys counted, increasing; how many times each): counting is over once this is asked."""
        if self._found is None:
            if self._table is not None:
                keys = np.flatnonzero(self._table)
                self._found = keys, self._table[keys]
            elif self._parts:
                keys = np.concatenate([keys for keys, _ in self._parts])
                counts = np.concatenate([counts for _, counts in self._parts])
                order = np.argsort(keys, kind="stable")
                keys, counts = keys[order], counts[order]
                starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
                self._found = keys[starts], np.add.reduceat(counts, starts)
            else:
                self._found = np.zeros(0, np.int64), np.zeros(0, np.int64)
            self._parts = []
        return self._found

    def numbers(self, keys: np.ndarray) -> np.ndarray:
        """The dense number of each key (every one of them counted): its rank among the keys found."""
        found, _ = self.found()
        if self._table is None:
            return np.searchsorted(found, keys)
        if self._dense is None:
            self._dense = np.zeros(self.width, dtype=np.int64)
            self._dense[found] = np.arange(len(found))
        return self._dense[keys]


# A log of up to this many keyed rows keeps each slice's keys from the first walk for the
# second (`KeyedWaits`), instead of computing them again: at most 8 bytes a row (2 for the
# pairs of up to 256 activities), at most 32 MB.
KEPT_KEY_ROWS = 4_000_000


class KeyedWaits:
    """Durations keyed by an integer in [0, width), gathered a slice of the log at a time, then sorted by key.

    The sections that walk the log in slices do it twice: first to count each key and
    gather the durations into one array, then, once the keys that occur are numbered, to
    pack each one's number beside its duration (`sort_by_group`). The one array of the log's
    length is the durations'; up to KEPT_KEY_ROWS rows, the slices' keys are kept from the
    first walk rather than computed again in the second.
    """

    def __init__(self, width: int, rows: int) -> None:
        self.counts = KeyCounts(width)
        self._waits = np.empty(rows, dtype=np.int64)
        self._filled = 0
        self._kept: list[np.ndarray] | None = [] if rows <= KEPT_KEY_ROWS else None

    def add(self, keys: np.ndarray, waits: np.ndarray) -> None:
        """The next slice's keys and, row for row, their durations."""
        self.counts.count(keys)
        self._waits[self._filled:self._filled + len(waits)] = waits
        self._filled += len(waits)
        if self._kept is not None:
            # Kept in the narrowest type that holds them: pairs of up to 256 activities in 2 bytes.
            self._kept.append(keys.astype(np.min_scalar_type(max(self.counts.width - 1, 0))))

    def sorted(self, keys_again: Callable[[], Iterable[np.ndarray]]) -> tuple[np.ndarray, np.ndarray, SortedDurations]:
        """(the keys found, increasing; how often each; the durations sorted by the keys' numbers).

        keys_again: walks the slices again and yields the same keys, for a log too large
            to keep them. The durations are handed over to the result.
        """
        keys, count = self.counts.found()
        if self._kept is not None and len(keys) <= SELECTED_GROUPS:
            # A small log: its numbers (2 bytes a row) and a grouped copy fit beside it, and
            # no sort is needed.
            numbers = np.empty(self._filled, dtype=np.uint16)
            filled = 0
            while self._kept:
                part = self._kept.pop(0)
                numbers[filled:filled + len(part)] = self.counts.numbers(part)
                filled += len(part)
            waits, self._waits = self._waits, np.zeros(0, np.int64)
            by_key = grouped_by_key(waits, numbers, count)
        else:
            slices = self._kept if self._kept is not None else keys_again()
            by_key = sort_by_group(self._waits, (self.counts.numbers(part) for part in slices), len(keys))
        self._waits, self._kept = np.zeros(0, np.int64), None
        return keys, count, by_key


def _runs(ordered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of a sorted array, and how many times each occurs."""
    if not len(ordered):
        return ordered, np.zeros(0, np.int64)
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    return ordered[starts], np.diff(np.r_[starts, len(ordered)])


def sorted_within_groups(group: np.ndarray, micros: np.ndarray, width: int, *,
                         consume: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Return the durations sorted by group then value, and how many each group code in [0, width] has.

    Args:
        consume: `group` (int64, not used by the caller afterwards) may become the sorted
            durations, which spares an array of its length.
    """
    counts = np.bincount(group, minlength=width + 1)
    if not len(micros):
        return micros.astype(np.int64), counts
    low = int(micros.min())
    span_bits = int(int(micros.max()) - low).bit_length()
    group_bits = max(int(width).bit_length(), 1)
    if span_bits + group_bits <= 62:
        # In place, with no temporary the size of the input: on 15M events each one is
        # 120 MB, and two sections pack at once. Adding the value, then taking `low` off,
        # gives what or-ing (value - low) would: its bits sit below span_bits.
        if consume and group.dtype == np.int64 and group.flags.writeable and group.flags.c_contiguous:
            packed = group
            packed <<= span_bits
        else:
            packed = np.left_shift(group, span_bits, dtype=np.int64)
        packed += micros
        if low:
            packed -= low
        packed.sort()
        packed &= (1 << span_bits) - 1
        if low:
            packed += low
        return packed, counts
    return micros[np.lexsort((micros, group))], counts


# Durations summed per slice of about this many by group_sums (whole groups at a time).
SUM_SLICE = 1 << 20


def group_sums(ordered: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The float64 sum of each group's run of int64 durations (runs back to back, none empty).

    np.add.reduceat with dtype float64 first converts its whole input: a copy of 8 bytes a
    duration (15M events: 114 MiB at a section's peak). Each group's sum depends on its
    own run alone, so converting and summing a few whole groups at a time gives the same
    sums, bit for bit, with a copy of one slice.
    """
    ends = starts + counts
    sums = np.empty(len(starts))
    first = 0
    while first < len(starts):
        # The groups ending within SUM_SLICE of this one's start, and at least this one.
        last = max(int(np.searchsorted(ends, starts[first] + SUM_SLICE, side="right")), first + 1)
        low, high = int(starts[first]), int(ends[last - 1])
        sums[first:last] = np.add.reduceat(ordered[low:high], starts[first:last] - low, dtype=np.float64)
        first = last
    return sums


@dataclass(frozen=True)
class SortedDurations:
    """Durations (int64 microseconds) by group code: each group's run sorted, or only grouped.

    Attributes:
        ordered: the durations, group 0's first; past the groups' own may follow others
            (the left-out code's), which nothing reads.
        counts: per group code in [0, width), how many durations it has.
        sorted_within: each group's run is in increasing order; when False the runs are in
            no order, and the order statistics are selected (`_stats_of_grouped`).
    """

    ordered: np.ndarray
    counts: np.ndarray
    sorted_within: bool = True

    def stats(self) -> DurationColumns:
        """Count, total, mean, median, 90th percentile and maximum per group (see duration_stats)."""
        if not self.sorted_within:
            return _stats_of_grouped(self.ordered, self.counts)
        return _stats_of_sorted(self.ordered, self.counts)

    def regrouped_stats(self, coarse: np.ndarray, width: int) -> DurationColumns:
        """The statistics of the same durations in coarser groups: group g's join group coarse[g] in [0, width).

        Each group's run is sorted already, so a coarse group is its runs side by side,
        merged by a stable sort (timsort finds the runs and merges them): far less than
        sorting the durations again, and the same sorted values, so the same statistics.
        Runs in no order (`sorted_within` False) are laid side by side and selected from.
        One coarse group is merged at a time: a copy of the largest group's durations, not
        of them all (15M events: 103 MiB at the map's peak).
        """
        starts = np.cumsum(self.counts) - self.counts
        order = np.argsort(coarse, kind="stable")
        order = order[self.counts[order] > 0]
        target = coarse[order]
        columns = {name: np.zeros(width) for name in ("total", "mean", "median", "p90", "max")}
        counts = np.zeros(width, dtype=np.int64)
        first = 0
        while first < len(order):
            group = int(target[first])
            last = first + int(np.searchsorted(target[first:], group, side="right"))
            pieces = [self.ordered[start:start + count] for start, count in
                      zip(starts[order[first:last]].tolist(), self.counts[order[first:last]].tolist())]
            merged = np.concatenate(pieces)
            del pieces
            if not self.sorted_within:
                one = _stats_of_grouped(merged, np.array([len(merged)], dtype=np.int64), copy=False)
            else:
                if last - first > 1:
                    merged.sort(kind="stable")
                one = _stats_of_sorted(merged, np.array([len(merged)], dtype=np.int64))
            del merged
            counts[group] = one.count[0]
            for name, column in columns.items():
                column[group] = getattr(one, name)[0]
            first = last
        return DurationColumns(count=counts, **columns)


def sort_by_group(micros: np.ndarray, groups: Iterable[np.ndarray], width: int) -> SortedDurations:
    """Sort durations by group code in [0, width), then value, with the group codes given a slice at a time.

    The codes are never held whole: each slice is packed into the durations' own array
    (as `sorted_within_groups` packs them), which is sorted in place. 15M events: one
    array of the log's length instead of two.

    Args:
        micros: int64 durations, taken over: the array becomes the sorted durations.
        groups: the group code of each duration, slices in the durations' order, covering them all.
    """
    if not len(micros):
        return SortedDurations(micros, np.zeros(width, dtype=np.int64))
    low = int(micros.min())
    span_bits = int(int(micros.max()) - low).bit_length()
    if span_bits + max(int(width).bit_length(), 1) > 62:
        # Durations too far apart to pack beside a group code: sort by both keys.
        return sorted_durations(np.concatenate(list(groups)), micros, width)
    counts = np.zeros(width + 1, dtype=np.int64)
    if low:
        micros -= low
    filled = 0
    for group in groups:
        counts += np.bincount(group, minlength=width + 1)
        micros[filled:filled + len(group)] += np.left_shift(group, span_bits, dtype=np.int64)
        filled += len(group)
    micros.sort()
    micros &= (1 << span_bits) - 1
    if low:
        micros += low
    return SortedDurations(micros, counts[:width])


# Durations are grouped without sorting them (`grouped_by_key`) when there are at most this
# many groups: each group's order statistics are then selected in linear time, one numpy
# call per group, where sorting all of them costs n log n (1.3M waits: about 0.09 s of
# CPU sorted against 0.04 s grouped and selected).
SELECTED_GROUPS = 1024


def grouped_by_key(micros: np.ndarray, numbers: np.ndarray, counts: np.ndarray) -> SortedDurations:
    """The durations grouped by number (uint16, each below len(counts)), each group's run in no order.

    Args:
        counts: how many durations each number has.

    A stable sort of 16-bit numbers is a linear-time radix sort; the durations are gathered once.
    """
    order = np.argsort(numbers, kind="stable")
    return SortedDurations(micros[order], counts, sorted_within=False)


def _stats_of_grouped(grouped: np.ndarray, counts: np.ndarray, *, copy: bool = True) -> DurationColumns:
    """_stats_of_sorted's statistics of runs in no order, their order statistics selected (np.partition).

    The ranks and the interpolation are _stats_of_sorted's, so are the values. Each run is
    selected in a copy unless `copy` is False: another thread may read the same runs.
    """
    width = len(counts)
    starts = np.cumsum(counts) - counts
    has = counts > 0
    safe = np.maximum(counts, 1)
    total = np.zeros(width)
    if has.any():
        total[has] = np.add.reduceat(grouped[:int(counts.sum())], starts[has], dtype=np.float64) / MICROSECONDS
    ranks = {share: share * (safe - 1) for share in (0.5, 0.9)}
    below = {share: np.floor(rank).astype(np.int64) for share, rank in ranks.items()}
    above = {share: np.minimum(below[share] + 1, safe - 1) for share in ranks}
    wanted = np.stack([below[0.5], above[0.5], below[0.9], above[0.9], safe - 1], axis=1)
    picked = np.zeros((width, 5), dtype=np.int64)
    for group in np.flatnonzero(has).tolist():
        start, count = int(starts[group]), int(counts[group])
        run = grouped[start:start + count]
        run = run.copy() if copy else run
        ranks_wanted = wanted[group]
        # Not np.unique: it imports numpy.ma on first use (see `compact`).
        run.partition(sorted(set(ranks_wanted.tolist())))
        picked[group] = run[ranks_wanted]
    values = picked.astype(np.float64)

    def quantile(share: float, low: np.ndarray, high: np.ndarray) -> np.ndarray:
        fraction = ranks[share] - below[share]
        return np.where(has, (low + fraction * (high - low)) / MICROSECONDS, 0.0)

    return DurationColumns(count=counts, total=total, mean=np.where(has, total / safe, 0.0),
                           median=quantile(0.5, values[:, 0], values[:, 1]),
                           p90=quantile(0.9, values[:, 2], values[:, 3]),
                           max=np.where(has, picked[:, 4], 0) / MICROSECONDS)


def sorted_durations(group: np.ndarray, micros: np.ndarray, width: int, *, consume: bool = False) -> SortedDurations:
    """The durations sorted by group code in [0, width), then value; code width is left out."""
    ordered, counts = sorted_within_groups(group, micros, width, consume=consume)
    return SortedDurations(ordered, counts[:width])


def duration_stats(group: np.ndarray, micros: np.ndarray, width: int, *, consume: bool = False) -> DurationColumns:
    """Statistics of durations (int64 microseconds) by group code in [0, width); code width is left out.

    Quantiles interpolate linearly between the two nearest ranks, as SQL's quantile_cont.
    consume: the caller hands `group` over (see `sorted_within_groups`); its values are lost.
    """
    return sorted_durations(group, micros, width, consume=consume).stats()


def _stats_of_sorted(ordered: np.ndarray, counts: np.ndarray) -> DurationColumns:
    width = len(counts)
    starts = np.cumsum(counts) - counts
    has = counts > 0
    # The groups with durations are back to back in `ordered`, and the left-out code last.
    total = np.zeros(width)
    if has.any():
        total[has] = group_sums(ordered, starts[has], counts[has]) / MICROSECONDS
    safe = np.maximum(counts, 1)
    last = max(len(ordered) - 1, 0)

    def quantile(share: float) -> np.ndarray:
        if not len(ordered):
            return np.zeros(width)
        rank = share * (safe - 1)
        below = np.floor(rank).astype(np.int64)
        above = np.minimum(below + 1, safe - 1)
        fraction = rank - below
        low = ordered[np.minimum(starts + below, last)].astype(np.float64)
        high = ordered[np.minimum(starts + above, last)].astype(np.float64)
        return np.where(has, (low + fraction * (high - low)) / MICROSECONDS, 0.0)

    maximum = (np.where(has, ordered[np.minimum(starts + safe - 1, last)], 0) / MICROSECONDS
               if len(ordered) else np.zeros(width))
    return DurationColumns(count=counts, total=total, mean=np.where(has, total / safe, 0.0),
                           median=quantile(0.5), p90=quantile(0.9), max=maximum)


def quantile_of(micros: np.ndarray, share: float, *, ordered: bool = False) -> float | None:
    """One quantile of durations in seconds (linear interpolation), or None when there are none.

    ordered: the durations are sorted already (they are not sorted again).
    """
    if not len(micros):
        return None
    ordered = micros if ordered else np.sort(micros)
    rank = share * (len(ordered) - 1)
    below = int(np.floor(rank))
    above = min(below + 1, len(ordered) - 1)
    return float(ordered[below] + (rank - below) * (ordered[above] - ordered[below])) / MICROSECONDS
