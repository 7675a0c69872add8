"""ISO 8601 durations (BPMN's timeDuration) to and from the definition's durations (4h, 3d, 2w)."""

from __future__ import annotations

import re

from backoffice.definitions.calendar import Duration

_ISO = re.compile(r"^P(?:(?P<w>\d+(?:\.\d+)?)W)?(?:(?P<d>\d+(?:\.\d+)?)D)?"
                  r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$")


def iso_duration_to_text(text: str) -> str | None:
    """Return an ISO 8601 duration (P3D, PT4H, P1DT12H, PT90M) as 3d, 4h, 1d12h, 90m; None when it is not one.

    Years and months have no fixed length and expressions (${...}) are known only at run
    time: both give None, for the caller to list.
    """
    match = _ISO.match(text.strip().upper()) if text else None
    if not match or not any(match.groupdict().values()):
        return None
    parts = [f"{_number(match.group(unit))}{unit}" for unit in ("w", "d", "h", "m", "s")
             if match.group(unit) and float(match.group(unit)) > 0]
    return "".join(parts) or None


def text_to_iso_duration(duration: Duration) -> str:
    """Return a definition's duration as ISO 8601 (3d -> P3D, 1d12h -> P1DT12H, 90m -> PT1H30M)."""
    days = duration.weeks * 7 + duration.days
    seconds = round(duration.clock_seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    clock = "".join(f"{value}{unit}" for value, unit in ((hours, "H"), (minutes, "M"), (seconds, "S")) if value)
    date = f"{_number(str(days))}D" if days else ""
    if duration.weeks and not duration.days and not clock:
        date = f"{_number(str(duration.weeks))}W"
    return f"P{date}{'T' + clock if clock else ''}" if date or clock else "PT0S"


def _number(text: str) -> str:
    value = float(text)
    return f"{value:g}"
