"""Make large freed blocks go back to the system at once (glibc), so that peaks do not add up."""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

# mallopt's parameter number for the size above which malloc maps fresh pages (glibc's malloc.h).
_M_MMAP_THRESHOLD = -3
_THRESHOLD = 64 * 1024


def return_large_blocks() -> None:
    """Keep glibc's mmap threshold fixed at its starting value.

    glibc raises the threshold each time a mapped block is freed (up to 32 MiB), so the
    next blocks of a few MiB come from the heap, which is handed back to the system only
    from its top. Reading a log, then sorting it, then mapping it frees and allocates such
    blocks in turn: with the sliding threshold the freed ones stayed resident (15M-event
    Parquet log: 955 MiB resident after reading at 64 KiB, 1,075 MiB at 128 KiB; 1.5M-event
    CSV map: peak 300 MiB against 365 MiB). The price is page faults on fresh pages: about
    0.2 s more system time on the 1.5M-event CSV. Elsewhere (not glibc) this does nothing;
    a user's MALLOC_MMAP_THRESHOLD_ wins.
    """
    if not sys.platform.startswith("linux"):
        return
    import os

    if "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, _THRESHOLD)
    except (OSError, AttributeError):
        pass
