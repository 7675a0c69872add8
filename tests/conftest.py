"""Fixtures shared by the whole suite: real logs from ../shared, and small logs written on the spot."""

from __future__ import annotations

from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
SHARED_LOGS = REPOSITORY.parent / "shared" / "data" / "logs"
SAMPLES = REPOSITORY / "src" / "backoffice" / "samples"


@pytest.fixture
def shared_logs() -> Path:
    """The real logs beside the project; the test skips where they are absent (a laptop clone)."""
    if not SHARED_LOGS.is_dir():
        pytest.skip(f"real logs not found at {SHARED_LOGS} (../shared is absent in this checkout)")
    return SHARED_LOGS


@pytest.fixture
def write_csv(tmp_path: Path):
    """Write CSV text (or bytes) to a file in tmp_path and return its path."""
    def write(text: str | bytes, name: str = "log.csv") -> Path:
        path = tmp_path / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path
    return write
