"""The numpy group-by behind every section of the map, checked against plain Python on random data."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backoffice.mapping.grouped import (BITSET_WIDTH, compact, distinct_cases, duration_stats, first_in_case,
                                        quantile_of)

# Cases as lists of (group code, duration in microseconds); -1 marks a row that counts for no group.
rows = st.tuples(st.integers(min_value=-1, max_value=9), st.integers(min_value=0, max_value=10**12))
cases = st.lists(st.lists(rows, min_size=1, max_size=9), min_size=1, max_size=20)


def flatten(case_rows):
    starts, group, micros, case = [], [], [], []
    for number, events in enumerate(case_rows):
        starts.append(len(group))
        for code, duration in events:
            group.append(code)
            micros.append(duration)
            case.append(number)
    return (np.array(starts, np.int64), np.array(group, np.int64), np.array(micros, np.int64),
            np.array(case, np.int64))


def quantile_cont(values: list[int], share: float) -> float:
    """SQL's quantile_cont: linear interpolation between the two nearest ranks."""
    ordered = sorted(values)
    rank = share * (len(ordered) - 1)
    below = int(rank)
    above = min(below + 1, len(ordered) - 1)
    return (ordered[below] + (rank - below) * (ordered[above] - ordered[below])) / 1e6


@settings(max_examples=80, deadline=None)
@given(cases)
def test_distinct_cases_counts_each_case_once_per_group(case_rows):
    starts, group, _, case = flatten(case_rows)
    expected = defaultdict(set)
    for code, number in zip(group.tolist(), case.tolist()):
        if code >= 0:
            expected[code].add(number)
    counted = distinct_cases(starts, group, 10)
    assert counted.tolist() == [len(expected[code]) for code in range(10)]


@pytest.mark.parametrize("width", [3, 64, 65, 200, BITSET_WIDTH, BITSET_WIDTH + 1, 5000])
def test_distinct_cases_agrees_across_bit_sets_and_sorting(width):
    generator = np.random.default_rng(width)
    lengths = generator.integers(1, 12, size=3000)
    starts = np.r_[0, np.cumsum(lengths)[:-1]]
    case = np.repeat(np.arange(len(lengths)), lengths)
    group = generator.integers(-1, width + 1, size=len(case))  # -1 and width count for no group
    expected = np.zeros(width, np.int64)
    for code in range(width):
        expected[code] = len(np.unique(case[group == code]))
    assert distinct_cases(starts, group, width, case=case).tolist() == expected.tolist()


@settings(max_examples=80, deadline=None)
@given(cases)
def test_duration_statistics_equal_a_plain_reading_per_group(case_rows):
    _, group, micros, _ = flatten(case_rows)
    # Code 10 (the width) is left out, like a case's first event, which waits for nothing.
    group = np.where(group < 0, 10, group)
    stats = duration_stats(group, micros, 10)
    for code in range(10):
        values = micros[group == code].tolist()
        fields = stats.fields(code)
        if not values:
            assert fields == {"count": 0, "total": 0.0, "mean": 0.0, "median": 0.0, "p90": 0.0, "max": 0.0}
            continue
        assert fields["count"] == len(values)
        assert fields["total"] == pytest.approx(sum(values) / 1e6)
        assert fields["mean"] == pytest.approx(sum(values) / len(values) / 1e6)
        assert fields["median"] == pytest.approx(quantile_cont(values, 0.5))
        assert fields["p90"] == pytest.approx(quantile_cont(values, 0.9))
        assert fields["max"] == max(values) / 1e6


def test_duration_statistics_of_spans_too_wide_to_pack_are_still_sorted_per_group():
    # Durations spanning 2**60 microseconds do not fit beside the group in one int64 key.
    micros = np.array([2**60, 5, 2**59, 7, 0], np.int64)
    group = np.array([0, 0, 1, 1, 1])
    stats = duration_stats(group, micros, 2)
    assert stats.fields(0)["median"] == pytest.approx((2**60 + 5) / 2 / 1e6)
    assert stats.fields(1)["median"] == 7 / 1e6 and stats.fields(1)["max"] == 2**59 / 1e6


def test_quantile_of_nothing_is_none():
    assert quantile_of(np.array([], np.int64), 0.5) is None
    assert quantile_of(np.array([4_000_000, 1_000_000], np.int64), 0.5) == 2.5


@pytest.mark.parametrize("width", [50, 10**12])
def test_compact_numbers_the_keys_that_occur_in_key_order(width):
    keys = np.array([40, 7, 40, 3, 7, 7]) * (width // 50)
    dense, behind = compact(keys, width)
    assert behind.tolist() == sorted(set(keys.tolist()))
    assert behind[dense].tolist() == keys.tolist()


def test_first_in_case_flags_the_first_row_of_each_code_in_each_case():
    case = np.array([0, 0, 0, 1, 1, 2])
    code = np.array([5, 5, -1, 5, 2, 2])
    assert first_in_case(case, code, 6).tolist() == [True, False, False, True, True, True]
