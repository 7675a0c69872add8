"""Backoffice: map, standardize, automate and govern back-office work."""

from backoffice.errors import BackofficeError, UserError
from backoffice.events.reader import read_log
from backoffice.events.schema import EventLog

__all__ = ["BackofficeError", "EventLog", "UserError", "read_log"]
__version__ = "0.1.0"
