"""Time arithmetic in SQL that reads the same on SQLite and PostgreSQL: seconds since the epoch, week numbers.

SQLite keeps a time as text and has no interval type; PostgreSQL has no julianday. Both
reach the same number of seconds, so every read model computes durations and buckets in the
database, whichever one it runs on.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

_UNIX_EPOCH_JULIAN_DAY = 2440587.5


def epoch_seconds(dialect: str, moment: sa.ColumnElement) -> sa.ColumnElement[float]:
    """Return an expression for the seconds from 1970-01-01 UTC to a stored (UTC) time."""
    if dialect == "postgresql":
        return sa.cast(sa.extract("epoch", moment), sa.Float)
    return (sa.func.julianday(moment) - _UNIX_EPOCH_JULIAN_DAY) * 86400.0


def seconds_between(dialect: str, earlier: sa.ColumnElement, later: sa.ColumnElement) -> sa.ColumnElement[float]:
    """Return an expression for the seconds from one stored time to another."""
    return epoch_seconds(dialect, later) - epoch_seconds(dialect, earlier)


def week_number(dialect: str, moment: sa.ColumnElement, first_monday: datetime) -> sa.ColumnElement[int]:
    """Return an expression for the week of a time, counted from the week starting `first_monday` (week 0).

    Only for times on or after `first_monday`: the cast truncates toward zero.
    """
    weeks = (epoch_seconds(dialect, moment) - first_monday.timestamp()) / 604800.0
    if dialect == "postgresql":
        return sa.cast(sa.func.floor(weeks), sa.Integer)  # PostgreSQL rounds when it casts a float
    return sa.cast(weeks, sa.Integer)
