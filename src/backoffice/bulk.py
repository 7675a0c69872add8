"""Pause Python's cyclic garbage collector while building many objects at once."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Keep the cyclic collector off inside the block, then restore it.

    Reading a log or building a map allocates millions of small objects that form no
    cycles. The collector still scans all live objects every few hundred allocations, which
    made building 100,000 variants four times slower than building them with it paused.
    Reference counting still frees everything as usual.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
