"""Durations as people write them ("5d", "4h30m") and as they like to read them."""

from __future__ import annotations

import math
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
    """Return a short reading of a duration: "45 s", "12 min", "4 h", "3.2 d", "1.5 y".

    None or NaN reads as an en dash; a negative duration (rework that saves time) keeps its sign.
    """
    if seconds is None or math.isnan(seconds):
        return "–"
    if seconds < 0:
        return "-" + humanize(-seconds)
    for unit, size, limit in (("s", 1, 60), ("min", 60, 3600), ("h", 3600, 48 * 3600),
                              ("d", 86400, 365 * 86400), ("y", 365 * 86400, math.inf)):
        if seconds < limit:
            value = seconds / size
            break
    text = f"{value:.0f}" if value >= 10 or unit in ("s", "min") else f"{value:.1f}".removesuffix(".0")
    return f"{text} {unit}"
