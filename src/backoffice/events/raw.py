"""What a file reader hands on: the source's own columns, in file order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyarrow as pa

# Called with (units done, units in all) while a reader works through a file; the units are
# bytes of the file on disk, so compressed and plain files report alike.
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class RawEvents:
    """Events as a reader found them, before column mapping and timestamp parsing.

    Attributes:
        table: one row per event in file order; columns named as in the source (XES keys
            such as `concept:name`, trace attributes prefixed `case:`, CSV headers as written).
        lines: for each row, the line of the source it came from, when the reader knows it
            cheaply; else `line_of` finds it on demand (only error messages need it).
    """

    table: pa.Table
    lines: pa.Array | None = None
    line_of: Callable[[int], int | None] | None = None

    def line(self, position: int) -> int | None:
        """Return the source line of the row at `position` (0-based), when it can be known."""
        if self.lines is not None:
            return self.lines[position].as_py()
        return self.line_of(position) if self.line_of else None
