"""Backoffice: map, standardize, automate and govern back-office work."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from backoffice.errors import BackofficeError, UserError

if TYPE_CHECKING:
    from backoffice.events.reader import read_log
    from backoffice.events.schema import EventLog

__all__ = ["BackofficeError", "EventLog", "UserError", "read_log"]
__version__ = "0.1.0"

# Imported on first use (PEP 562), not with the package: the command line starts by importing
# this package, and must be able to set up the process (numpy's thread pools) before numpy loads.
_LAZY = {"read_log": "backoffice.events.reader", "EventLog": "backoffice.events.schema"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'backoffice' has no attribute {name!r}")
