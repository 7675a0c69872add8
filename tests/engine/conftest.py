"""Fixtures of the engine tests: the service-request template deployed, or a copy of it edited.

The database, store and engine fixtures (each test on SQLite and PostgreSQL) are the suite's own
(tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from backoffice.engine import Engine

from .service_request import T0, TEMPLATE


@pytest.fixture
def deployed(engine: Engine) -> Engine:
    """An engine with the service-request template deployed (version 1)."""
    engine.deploy(TEMPLATE, actor="lead", now=T0)
    return engine


@pytest.fixture
def definition_copy(tmp_path: Path) -> Callable[..., Path]:
    """Write the service-request template with text replaced, as a new file."""
    def write(*replacements: tuple[str, str], name: str = "service-request.yaml") -> Path:
        text = TEMPLATE.read_text()
        for old, new in replacements:
            assert old in text, f"{old!r} is not in the template"
            text = text.replace(old, new)
        folder = tmp_path / "definitions"
        folder.mkdir(exist_ok=True)
        path = folder / name
        path.write_text(text)
        return path
    return write
