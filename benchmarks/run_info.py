"""What every benchmark report says about the code it measured."""

from __future__ import annotations

import subprocess
from pathlib import Path


def source_state(package: Path) -> str:
    """Return the commit the measured backoffice code comes from, and whether it has uncommitted changes."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=package, capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "."], cwd=package, capture_output=True,
                               text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    return f"{commit} + uncommitted changes" if dirty else commit
