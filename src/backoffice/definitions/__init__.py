"""Workflow definitions: the model, its loader and checks, CEL expressions and business calendars.

    from backoffice.definitions import load_definition
    definition = load_definition("service-request.yaml")
    definition.allowed_transitions("triage")

See DESIGN.md, Layers.
"""

from pathlib import Path

from backoffice.definitions.calendar import BusinessCalendar, Duration
from backoffice.definitions.expressions import Expression
from backoffice.definitions.loader import CheckReport, check_definition, load_definition
from backoffice.definitions.model import (Approval, AutomatedStep, ControlReason, Definition, ExceptionReason,
                                          Party, Priority, State, StateKind, Timer, Transition)

LIBRARY = Path(__file__).resolve().parent / "library"
"""The folder of ready definitions (service-request.yaml ...) and their contracts."""

__all__ = [
    "LIBRARY", "Approval", "AutomatedStep", "BusinessCalendar", "CheckReport", "ControlReason", "Definition",
    "Duration", "ExceptionReason", "Expression", "Party", "Priority", "State", "StateKind", "Timer", "Transition",
    "check_definition", "load_definition",
]
