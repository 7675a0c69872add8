"""The service-request template as the engine tests use it: a fixed clock, its actors, a payload."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from backoffice.definitions import LIBRARY
from backoffice.engine import Actor

T0 = datetime(2024, 3, 4, 9, 0, tzinfo=timezone.utc)  # a Monday morning
TEMPLATE = LIBRARY / "service-request.yaml"
ANN = Actor("ann")                                     # a requester, in no role
DESK = Actor("bob", "service-desk")
RESOLVER = Actor("carl", "resolver")
OPERATOR = Actor("ops-admin", "operator")              # migrates cases, switches manual mode, replays


def later(hours: float) -> datetime:
    """Return the fixed clock moved on by some hours."""
    return T0 + timedelta(hours=hours)


def payload(**changes: object) -> dict[str, object]:
    """Return a valid intake payload, with fields changed or added."""
    fields = {"summary": "Printer jammed", "description": "The 3rd-floor printer eats paper", "category": "it",
              "urgency": "normal", "requester_email": "ann@example.com"}
    fields.update(changes)
    return fields
