"""The as-is map of an event log: analysis and its renderings."""

from backoffice.mapping.analyze import analyze
from backoffice.mapping.model import Lanes, ProcessMap, StepKind

__all__ = ["Lanes", "ProcessMap", "StepKind", "analyze"]
