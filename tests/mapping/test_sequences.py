"""Numbering the variants of many cases at once: exact, and in order of each variant's first case."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from backoffice.mapping.sequences import number_sequences, traces

logs = st.lists(st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=6), min_size=1, max_size=40)


def arrays(case_sequences):
    lengths = np.array([len(sequence) for sequence in case_sequences], np.int64)
    starts = np.r_[0, np.cumsum(lengths)[:-1]].astype(np.int64)
    activity = np.array([code for sequence in case_sequences for code in sequence], np.int32)
    return activity, starts, starts + lengths


def plain_numbering(case_sequences):
    numbers: dict[tuple, int] = {}
    return [numbers.setdefault(tuple(sequence), len(numbers)) for sequence in case_sequences], list(numbers)


@settings(max_examples=100, deadline=None)
@given(logs)
def test_equal_sequences_get_equal_numbers_in_order_of_first_case(case_sequences):
    activity, starts, ends = arrays(case_sequences)
    variant, first_case = number_sequences(activity, starts, ends)
    expected, distinct = plain_numbering(case_sequences)
    assert variant.tolist() == expected
    assert [list(trace) for trace in traces(activity, starts, ends, first_case)] == [list(d) for d in distinct]


def test_sequences_that_share_bytes_across_case_boundaries_stay_apart():
    # [1, 2] + [3] and [1] + [2, 3] hold the same codes back to back; only the boundaries differ.
    activity, starts, ends = arrays([[1, 2], [3], [1], [2, 3], [1, 2]])
    variant, first_case = number_sequences(activity, starts, ends)
    assert variant.tolist() == [0, 1, 2, 3, 0]
    assert first_case.tolist() == [0, 1, 2, 3]


def test_many_cases_number_like_a_dictionary_of_tuples():
    generator = np.random.default_rng(3)
    case_sequences = [generator.integers(0, 3, size=generator.integers(1, 5)).tolist() for _ in range(20_000)]
    activity, starts, ends = arrays(case_sequences)
    variant, _ = number_sequences(activity, starts, ends)
    assert variant.tolist() == plain_numbering(case_sequences)[0]


def test_no_cases_give_no_variants():
    variant, first_case = number_sequences(np.zeros(0, np.int32), np.zeros(0, np.int64), np.zeros(0, np.int64))
    assert len(variant) == 0 and len(first_case) == 0
