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
              "print('handle' in bulk._libc, 'ctypes.util' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False"]
