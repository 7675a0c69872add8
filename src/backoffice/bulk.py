"""Work on many objects at once: the cyclic garbage collector paused, and glibc's large blocks handed back."""

from __future__ import annotations

import gc
import os
import sys
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


# mallopt's parameter numbers (glibc's malloc.h): the size above which malloc maps fresh
# pages, and how many arenas (heaps for threads) it may make.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
# glibc's own trim threshold, which setting the mmap threshold by hand freezes.
TRIMMED_TOP = 128 * 1024
# A small log's heap keeps up to this much free at its top rather than handing it back
# and faulting it in again at the next block (1.5M-event CSV: 69,000 faults -> 53,000).
HELD_TOP = 256 * 1024 * 1024
# The threshold held while mapping: blocks of 64 KiB and more go back to the system when freed.
RETURNED_BLOCKS = 64 * 1024
# The threshold while a reader parses a file: its buffers, made and freed block after block
# (a CSV block, a Parquet row group's column), are reused from the heap. Larger gains
# nothing more, and costs memory: bpic2012 peaked at 266 MiB with 4 MiB, 346 MiB with 32 MiB.
REUSED_BLOCKS = 4 * 1024 * 1024
# Logs of up to this many events are read and mapped with freed blocks of up to HELD_BLOCKS
# kept in the heap for reuse (`hold_blocks_for`): there a page fault less on each fresh page
# is worth more than the memory (1.5M-event CSV: 7 % less CPU, 36,000 faults fewer, peak 210
# -> 300 MiB). On a 15M-event log the peak is the limit: held blocks raised it by 15 %.
SMALL_LOG_EVENTS = 4_000_000
HELD_BLOCKS = 16 * 1024 * 1024


class _Allocator:
    """glibc's malloc as this process has set it: its handle, and whether large blocks are held.

    Empty (no handle) until `return_large_blocks` succeeds: on another platform or allocator,
    or in a library caller that never called it, every policy below does nothing.
    """

    def __init__(self) -> None:
        self.libc = None
        self.held = False

    def set_threshold(self, size: int) -> None:
        self.libc.mallopt(_M_MMAP_THRESHOLD, size)

    def hand_back(self) -> None:
        """Return the free pages of every arena to the system, then keep 64 KiB blocks no longer."""
        self.libc.malloc_trim(0)
        self.set_threshold(RETURNED_BLOCKS)

    def hold(self) -> None:
        """Keep blocks of up to HELD_BLOCKS, and up to HELD_TOP free at the heap's top, for reuse."""
        self.set_threshold(HELD_BLOCKS)
        if "MALLOC_TRIM_THRESHOLD_" not in os.environ:  # a user's setting wins
            self.libc.mallopt(_M_TRIM_THRESHOLD, HELD_TOP)
        self.held = True

    def release(self) -> None:
        """Hand what `hold` kept back to the system, and keep no more than glibc's defaults from now on."""
        self.held = False
        if "MALLOC_TRIM_THRESHOLD_" not in os.environ:
            self.libc.mallopt(_M_TRIM_THRESHOLD, TRIMMED_TOP)
        self.hand_back()


_allocator = _Allocator()


def return_large_blocks() -> None:
    """Keep glibc's mmap threshold fixed at 64 KiB for the rest of the process.

    glibc raises the threshold each time a mapped block is freed (up to 32 MiB), so the
    next blocks of a few MiB come from the heap, which is handed back to the system only
    from its top. Reading a log, then sorting it, then mapping it frees and allocates such
    blocks in turn: with the sliding threshold the freed ones stayed resident (15M-event
    Parquet log: 955 MiB resident after reading at 64 KiB, 1,075 MiB at 128 KiB; 1.5M-event
    CSV map: peak 300 MiB against 365 MiB). The price is a page fault on every fresh page;
    `reading_in_bulk` spares the readers that price. Elsewhere (not glibc) this does
    nothing; a user's MALLOC_MMAP_THRESHOLD_ wins.
    """
    if not sys.platform.startswith("linux"):
        return
    if "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return
    try:
        import ctypes

        # The process's own symbols hold libc's: ctypes.util.find_library would run
        # ldconfig in a child process (and import subprocess) to name the file.
        libc = ctypes.CDLL(None)
        if libc.mallopt(_M_MMAP_THRESHOLD, RETURNED_BLOCKS):
            _allocator.libc = libc
    except (OSError, AttributeError):
        pass


def allocator_is_set() -> bool:
    """Whether `return_large_blocks` took hold of glibc's malloc in this process."""
    return _allocator.libc is not None


@contextmanager
def reading_in_bulk() -> Iterator[None]:
    """Let a file reader reuse freed blocks from the heap, then hand the heap's free pages back.

    Arrow's readers make and free buffers of 0.1 to a few MiB for each block of the file:
    each one a fresh mapping at a 64 KiB threshold, whose pages all fault on first touch
    (1.5M-event CSV: 130,000 faults and about 0.2 s of system time in the read alone,
    against 31,000). The map's sections that walk the log a slice at a time
    (`Workspace.slices`) free and make blocks alike. Inside the block the threshold is
    4 MiB; after it, malloc_trim hands the free pages of every arena back, and the
    threshold returns to 64 KiB. Once `hold_blocks_for` has chosen to keep larger blocks
    (a small log), this changes nothing. Without `return_large_blocks` (another platform,
    another allocator, a library caller), this does nothing.
    """
    if _allocator.libc is None or _allocator.held:
        yield
        return
    _allocator.set_threshold(REUSED_BLOCKS)
    try:
        yield
    finally:
        _allocator.hand_back()


def hold_blocks_for(events: int) -> None:
    """Choose by a log's size how large a freed block malloc keeps from now on.

    A small log (SMALL_LOG_EVENTS or fewer) keeps blocks of up to HELD_BLOCKS in the heap for
    reuse, its read included, keeps up to HELD_TOP free at the heap's top, and its threads
    share one arena: a block one reading thread
    frees is then reused by the others, instead of each thread's arena growing fresh pages
    (1.5M-event CSV: 86,000 faults -> 69,000, CPU best 1.09 -> 1.04 s, peak 290 -> 265 MiB; the
    15M-event Parquet gained nothing by wall, so large logs keep glibc's arenas). A larger one
    keeps `return_large_blocks`'s 64 KiB (the readers 4 MiB), so that what a step frees goes
    back to the system before the next one's peak. Called with an estimate before the read,
    then with the count read: a log larger than its estimate hands the heap's free pages back
    and returns to 64 KiB. Without `return_large_blocks` this does nothing.
    """
    if _allocator.libc is None:
        return
    if events <= SMALL_LOG_EVENTS:
        _allocator.hold()
        # Arenas already made stay; only threads started from now on (Arrow's, the map's) share.
        # A user's MALLOC_ARENA_MAX wins.
        if "MALLOC_ARENA_MAX" not in os.environ:
            _allocator.libc.mallopt(_M_ARENA_MAX, 1)
    elif _allocator.held:
        _allocator.release()
