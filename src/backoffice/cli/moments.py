"""Dates and times given on the command line (--since, --until, --as-of)."""

from __future__ import annotations

from datetime import datetime, timezone

from backoffice.errors import BadOption


def parse_moment(text: str | None, option: str, zone: str) -> datetime | None:
    """Read a date or time given for `option`, in `zone` when it names no offset; None when not given.

    Raises:
        BadOption: the text is no ISO 8601 date or time, or the zone is no IANA zone name.
    """
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise BadOption(option, text, "a date or time such as 2024-03-31 or 2024-03-31T17:00+02:00") from exc
    if value.tzinfo is None:
        # Imported here: every `map` imports this module, few name a moment without an offset.
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            value = value.replace(tzinfo=ZoneInfo(zone))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise BadOption("--timezone", zone, "an IANA zone name such as Europe/Amsterdam or UTC") from exc
    return value.astimezone(timezone.utc)
