"""bulk.return_large_blocks: glibc's threshold is set through the process's own symbols."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's; elsewhere bulk does nothing")
def test_the_threshold_is_set_without_running_ldconfig():
    # ctypes.util.find_library('c') runs ldconfig in a child process at every start of a
    # command that reads a log; the C library's symbols are already in the process.
    script = ("import os, sys\n"
              "os.environ.pop('MALLOC_MMAP_THRESHOLD_', None)\n"
              "from backoffice import bulk\n"
              "bulk.return_large_blocks()\n"
              "print(bulk.allocator_is_set(), 'ctypes.util' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False"]


ARENAS = ("import ctypes, os, sys, tempfile, threading\n"
          "os.environ.pop('MALLOC_MMAP_THRESHOLD_', None)\n"
          "os.environ.pop('MALLOC_ARENA_MAX', None)\n"
          "import numpy as np\n"
          "from backoffice import bulk\n"
          "bulk.return_large_blocks()\n"
          "bulk.hold_blocks_for(int(sys.argv[1]))\n"
          "def allocate():\n"
          "    kept = [np.ones(50_000) for _ in range(40)]\n"
          "threads = [threading.Thread(target=allocate) for _ in range(4)]\n"
          "[thread.start() for thread in threads]\n"
          "[thread.join() for thread in threads]\n"
          "libc = ctypes.CDLL(None)\n"
          "libc.fopen.restype = ctypes.c_void_p\n"
          "with tempfile.NamedTemporaryFile(suffix='.xml') as report:\n"
          "    stream = libc.fopen(report.name.encode(), b'w')\n"
          "    libc.malloc_info(0, ctypes.c_void_p(stream))\n"
          "    libc.fclose(ctypes.c_void_p(stream))\n"
          "    print(open(report.name).read().count('<heap nr='))\n")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="arenas are glibc's; elsewhere bulk does nothing")
def test_a_small_log_s_threads_share_one_arena_and_a_large_one_s_do_not():
    # A block one reading thread frees is reused by the others only within one arena.
    assert number_printed(ARENAS, 1_000) == 1
    assert number_printed(ARENAS, 100_000_000) > 1


def number_printed(script: str, events: int) -> int:
    """What a fresh process running `script` for a log of `events` events prints: one number."""
    result = subprocess.run([sys.executable, "-c", script, str(events)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return int(result.stdout)


HEAP_AFTER_FREEING = ("import ctypes, os, sys\n"
                      "for name in ('MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_'):\n"
                      "    os.environ.pop(name, None)\n"
                      "from backoffice import bulk\n"
                      "bulk.return_large_blocks()\n"
                      "bulk.hold_blocks_for(int(sys.argv[1]))\n"
                      "libc = ctypes.CDLL(None)\n"
                      "libc.malloc.restype = ctypes.c_void_p\n"
                      "blocks = [libc.malloc(1 << 20) for _ in range(40)]\n"
                      "for block in reversed(blocks):\n"
                      "    libc.free(ctypes.c_void_p(block))\n"
                      "class Info(ctypes.Structure):\n"
                      "    _fields_ = [(name, ctypes.c_size_t) for name in ('arena', 'ordblks', 'smblks', 'hblks',\n"
                      "                'hblkhd', 'usmblks', 'fsmblks', 'uordblks', 'fordblks', 'keepcost')]\n"
                      "libc.mallinfo2.restype = Info\n"
                      "print(libc.mallinfo2().arena >> 20)\n")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the heap's top is glibc's; elsewhere bulk does nothing")
def test_a_small_log_s_heap_keeps_its_free_top_and_a_large_one_s_hands_it_back():
    # Freed at the top and handed back, the next block's pages would fault in again.
    assert number_printed(HEAP_AFTER_FREEING, 1_000) >= 40
    assert number_printed(HEAP_AFTER_FREEING, 100_000_000) < 40
