"""Durations as people write them ("5d", "4h30m") and as they like to read them."""

from __future__ import annotations

import re

from backoffice.errors import BadOption

UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([wdhms])")


def parse_duration(text: str, *, option: str = "--sla") -> float:
    """Return the seconds in a duration such as 5d, 36h, 1d12h or 90m.

    Raises:
        BadOption: the text is not a positive duration.
    """
    cleaned = text.strip().lower().replace(" ", "")
    parts = _PART.findall(cleaned)
    if not cleaned or "".join(f"{number}{unit}" for number, unit in parts) != cleaned:
        raise BadOption(option, text, "a duration such as 5d, 36h, 1d12h, 90m or 2w")
    seconds = sum(float(number) * UNIT_SECONDS[unit] for number, unit in parts)
    if seconds <= 0:
        raise BadOption(option, text, "a duration greater than zero")
    return seconds


def humanize(seconds: float | None) -> str:
    """Return a short reading of a duration: 45 s, 12 min, 3.5 h, 2.1 d, 6.0 w."""
    if seconds is None:
        return "–"
    value = abs(seconds)
    if value < 60:
        text = f"{value:.0f} s"
    elif value < 3600:
        text = f"{value / 60:.0f} min"
    elif value < 86400:
        text = f"{value / 3600:.1f} h"
    elif value < 14 * 86400:
        text = f"{value / 86400:.1f} d"
    else:
        text = f"{value / 604800:.1f} w"
    return ("-" if seconds < 0 else "") + text
