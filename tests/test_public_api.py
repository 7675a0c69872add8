"""The public surface: what `import backoffice` promises, and the JSON schema of the map."""

from __future__ import annotations

import json
from pathlib import Path

import backoffice
import backoffice.mapping
from backoffice.mapping.model import SCHEMA_VERSION, ProcessMap

DOCUMENTED_SCHEMA = Path(__file__).resolve().parents[1] / "docs" / "map-schema.json"


def test_the_package_exports_reading_and_errors():
    assert set(backoffice.__all__) == {"BackofficeError", "EventLog", "UserError", "read_log"}
    assert set(backoffice.mapping.__all__) == {"Lanes", "ProcessMap", "StepKind", "analyze"}


def test_the_documented_json_schema_matches_the_model():
    # Changing the map's JSON is a change for every consumer: regenerate docs/map-schema.json
    # (backoffice schema > docs/map-schema.json) and bump SCHEMA_VERSION when a field changes meaning.
    assert json.loads(DOCUMENTED_SCHEMA.read_text()) == ProcessMap.model_json_schema()
    assert SCHEMA_VERSION == 2
