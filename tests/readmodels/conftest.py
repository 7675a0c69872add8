"""Fixtures of the read-model tests: both sample workflows deployed on the suite's engine (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest

from backoffice.engine import Engine

from ..engine.service_request import T0, TEMPLATE

PURCHASE = Path(__file__).parents[1] / "engine" / "purchase-approval.yaml"


@pytest.fixture
def deployed(engine: Engine) -> Engine:
    """An engine with the service-request template and the small purchase approval deployed."""
    engine.deploy(TEMPLATE, actor="lead", now=T0)
    engine.deploy(PURCHASE, actor="lead", now=T0)
    return engine
