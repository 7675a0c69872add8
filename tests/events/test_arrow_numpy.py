"""Columns cross between Arrow and numpy through their buffers, nulls included, without pandas."""

from __future__ import annotations

import subprocess
import sys
from importlib.util import find_spec

import numpy as np
import pyarrow as pa
import pytest

from backoffice.events import arrow_numpy


def test_values_of_one_chunk_are_a_view_and_of_several_a_copy():
    chunk = pa.array([1, 2, 3], pa.int64())
    assert arrow_numpy.values(chunk).tolist() == [1, 2, 3]
    assert np.shares_memory(arrow_numpy.values(chunk), arrow_numpy.values(chunk))
    chunked = pa.chunked_array([pa.array([1, 2], pa.int32()), pa.array([3], pa.int32())])
    assert arrow_numpy.values(chunked).tolist() == [1, 2, 3]


def test_values_of_a_slice_start_at_its_offset():
    assert arrow_numpy.values(pa.array([10, 20, 30, 40], pa.int64()).slice(1, 2)).tolist() == [20, 30]
    assert arrow_numpy.values(pa.array([True, False, True, True]).slice(1, 3)).tolist() == [False, True, True]


def test_timestamps_become_their_ticks():
    stamps = pa.array([0, 1_500_000], pa.timestamp("us", tz="UTC"))
    assert arrow_numpy.values(stamps).tolist() == [0, 1_500_000]


def test_text_has_no_numpy_view():
    with pytest.raises(TypeError):
        arrow_numpy.values(pa.array(["a"]))


def test_valid_marks_values_and_missing_ones():
    column = pa.array([1, None, 3, None], pa.int64()).slice(1, 3)
    assert arrow_numpy.valid(column).tolist() == [False, True, False]


def test_arrow_wraps_numpy_with_a_mask():
    wrapped = arrow_numpy.arrow(np.array([5, 6, 7], np.int32), mask=np.array([False, True, False]))
    assert wrapped.type == pa.int32() and wrapped.to_pylist() == [5, None, 7]
    assert arrow_numpy.arrow(np.array([True, False])).to_pylist() == [True, False]


def test_strings_and_dictionaries_round_trip():
    names = arrow_numpy.strings(["Submit", "Approve", "", "Pay ✓"])
    assert names.to_pylist() == ["Submit", "Approve", "", "Pay ✓"]
    column = arrow_numpy.dictionary_array(np.array([1, -1, 0, 3], np.int32), names)
    assert column.to_pylist() == ["Approve", None, "Submit", "Pay ✓"]
    assert arrow_numpy.dictionary_codes(column).tolist() == [1, -1, 0, 3]


@pytest.mark.skipif(find_spec("pandas") is None, reason="pandas is not installed, so nothing could import it")
def test_none_of_it_imports_pandas():
    script = ("import sys, numpy as np\n"
              "from backoffice.events import arrow_numpy\n"
              "names = arrow_numpy.strings(['a', 'b'])\n"
              "column = arrow_numpy.dictionary_array(np.array([1, -1], np.int32), names)\n"
              "arrow_numpy.dictionary_codes(column); arrow_numpy.valid(column)\n"
              "arrow_numpy.values(arrow_numpy.arrow(np.arange(3)))\n"
              "print('pandas' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "False", result.stderr
