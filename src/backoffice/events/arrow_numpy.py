"""Move columns between Arrow and numpy through their buffers, without pyarrow's pandas bridge.

pyarrow imports pandas, when it is installed, the first time it converts values through
its pandas-compatible paths: `pa.array(...)`, `pa.scalar(...)`, `Array.to_numpy()`, a
Python value passed to a compute function, a timestamp scalar's `as_py()`. That import
costs about 0.4 s and 47 MiB, more than half of what mapping a million-event CSV needs.
Fixed-width columns are plain memory in both libraries, so these helpers hand the buffers
over instead: zero copies for a single chunk, and no pandas.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_ARROW_OF_NUMPY = {np.dtype(np.int8): pa.int8(), np.dtype(np.int16): pa.int16(), np.dtype(np.int32): pa.int32(),
                   np.dtype(np.int64): pa.int64(), np.dtype(np.uint8): pa.uint8(),
                   np.dtype(np.uint16): pa.uint16(), np.dtype(np.uint32): pa.uint32(), np.dtype(np.uint64): pa.uint64(),
                   np.dtype(np.float32): pa.float32(), np.dtype(np.float64): pa.float64()}


def _numpy_dtype(data_type: pa.DataType) -> np.dtype:
    if pa.types.is_timestamp(data_type) or pa.types.is_date64(data_type) or pa.types.is_duration(data_type):
        return np.dtype(np.int64)
    if pa.types.is_date32(data_type):
        return np.dtype(np.int32)
    for dtype, arrow_type in _ARROW_OF_NUMPY.items():
        if arrow_type == data_type:
            return dtype
    raise TypeError(f"no numpy view of an Arrow column of type {data_type}")


def values(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Return the values of a fixed-width column as a numpy array (timestamps as int64 ticks).

    A single chunk is a view of Arrow's memory; several chunks are copied into one array.
    Values under missing entries are undefined: check `valid` where nulls can occur.

    Raises:
        TypeError: the column is not of a fixed-width numeric, boolean or temporal type.
    """
    if isinstance(column, pa.ChunkedArray):
        if column.num_chunks == 1:
            return values(column.chunk(0))
        dtype = _numpy_dtype(column.type) if column.num_chunks else np.dtype(np.int64)
        return np.concatenate([values(chunk) for chunk in column.chunks]) if column.num_chunks \
            else np.empty(0, dtype)
    data_type = column.type
    if pa.types.is_boolean(data_type):
        bits = np.frombuffer(column.buffers()[1], dtype=np.uint8)
        return np.unpackbits(bits, bitorder="little")[column.offset:column.offset + len(column)].astype(bool)
    if not (pa.types.is_integer(data_type) or pa.types.is_floating(data_type) or pa.types.is_temporal(data_type)):
        raise TypeError(f"no numpy view of an Arrow column of type {data_type}")
    dtype = _numpy_dtype(data_type)
    buffer = column.buffers()[1]
    if buffer is None:
        return np.empty(0, dtype)
    return np.frombuffer(buffer, dtype=dtype, count=len(column), offset=column.offset * dtype.itemsize)


def valid(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Return a boolean numpy array that is True where the column holds a value."""
    if isinstance(column, pa.ChunkedArray):
        if column.num_chunks == 1:
            return valid(column.chunk(0))
        return np.concatenate([valid(chunk) for chunk in column.chunks]) if column.num_chunks \
            else np.empty(0, bool)
    if column.null_count == 0:
        return np.ones(len(column), dtype=bool)
    if pa.types.is_null(column.type):
        return np.zeros(len(column), dtype=bool)
    bits = np.frombuffer(column.buffers()[0], dtype=np.uint8)
    return np.unpackbits(bits, bitorder="little")[column.offset:column.offset + len(column)].astype(bool)


def arrow(array: np.ndarray, data_type: pa.DataType | None = None, *, mask: np.ndarray | None = None) -> pa.Array:
    """Wrap a numpy array as an Arrow array, without a copy for numeric types.

    Args:
        array: one-dimensional numeric or boolean values.
        data_type: the Arrow type (e.g. a timestamp type over int64 ticks); None derives it.
        mask: True where the value is missing.
    """
    array = np.ascontiguousarray(array)
    if array.dtype == bool:
        data = pa.py_buffer(np.packbits(array, bitorder="little"))
        data_type = data_type or pa.bool_()
    else:
        data = pa.py_buffer(array)
        data_type = data_type or _ARROW_OF_NUMPY[array.dtype]
    validity, nulls = None, 0
    if mask is not None and mask.any():
        validity = pa.py_buffer(np.packbits(~mask, bitorder="little"))
        nulls = int(np.count_nonzero(mask))
    return pa.Array.from_buffers(data_type, len(array), [validity, data], null_count=nulls)


def missing_strings(rows: int) -> pa.Array:
    """A string array of `rows` missing values whose buffers cost no memory until written.

    pa.nulls fills its zeros by hand, so a column a log lacks (no lifecycle, no group) took
    4 bytes per event of resident memory; numpy's zeros come from calloc, whose fresh pages
    stay unmapped while only read. All zeros: no value valid, every offset 0, no characters.
    """
    zeros = pa.py_buffer(np.zeros(rows + 1, dtype=np.int32))
    return pa.Array.from_buffers(pa.string(), rows, [zeros, zeros, pa.py_buffer(b"")], null_count=rows)


def strings(texts: list[str]) -> pa.Array:
    """Build an Arrow string array from Python strings (none of them missing)."""
    encoded = [text.encode("utf-8") for text in texts]
    lengths = np.fromiter((len(item) for item in encoded), dtype=np.int64, count=len(encoded))
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    large = offsets[-1] > np.iinfo(np.int32).max
    return pa.Array.from_buffers(pa.large_string() if large else pa.string(), len(encoded),
                                 [None, pa.py_buffer(offsets if large else offsets.astype(np.int32)),
                                  pa.py_buffer(b"".join(encoded))])


def dictionary_codes(column: pa.Array) -> np.ndarray:
    """Return a dictionary array's indices as int32, with -1 where the value is missing (read-only)."""
    indices = column.indices
    if indices.type != pa.int32():
        indices = indices.cast(pa.int32())
    if indices.null_count:
        # One pass in Arrow; the fill value is an Arrow scalar, so no Python value is converted.
        indices = pc.fill_null(indices, arrow(np.array([-1], np.int32))[0])
    return values(indices)


def dictionary_array(codes: np.ndarray, dictionary: pa.Array) -> pa.DictionaryArray:
    """Build a dictionary array from int32 codes (-1 for a missing value) and its dictionary."""
    codes = np.ascontiguousarray(codes, dtype=np.int32)
    missing = codes < 0
    return pa.DictionaryArray.from_arrays(arrow(np.where(missing, 0, codes) if missing.any() else codes,
                                                pa.int32(), mask=missing), dictionary)
