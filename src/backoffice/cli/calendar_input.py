"""Read the calendar `backoffice workflow calendar` deploys: from a YAML file, or from options.

The file holds a definition's `calendar:` mapping (on its own, or under a `calendar:` key, so a
definition file's own calendar section can be copied as it is). Each mistake names the file (or
option), the field and the value, and what was expected; nothing is deployed then (exit 2).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from backoffice.definitions.model import CalendarSpec
from backoffice.errors import UserError

MAX_CALENDAR_BYTES = 64 * 1024  # a calendar is a few lines; anything larger is not one


class CalendarInputError(UserError):
    """A calendar that cannot be used: where (file or option), which field, what was wrong and expected."""


def calendar_from_file(path: Path) -> CalendarSpec:
    """Read a calendar from a YAML file (its mapping, or a mapping with a `calendar:` key)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError
    try:
        if path.stat().st_size > MAX_CALENDAR_BYTES:
            raise CalendarInputError(f"{path}: the file is larger than {MAX_CALENDAR_BYTES // 1024} KiB; "
                                     f"expected a calendar of a few lines")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as unreadable:
        raise CalendarInputError(f"{path}: cannot be read ({unreadable}); expected a UTF-8 YAML file") from None
    try:
        document = YAML(typ="safe").load(text)
    except YAMLError as broken:
        mark = getattr(broken, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        raise CalendarInputError(f"{path}{where}: not YAML ({getattr(broken, 'problem', None) or broken}); "
                                 f"expected a mapping such as `timezone: Europe/Amsterdam`") from None
    if isinstance(document, dict) and set(document) == {"calendar"}:
        document = document["calendar"]
    if not isinstance(document, dict):
        raise CalendarInputError(f"{path}: holds {type(document).__name__}, not a calendar; expected a mapping "
                                 f"with timezone, working_hours, working_days and holidays")
    return _checked(document, where=str(path), fields={})


def calendar_from_options(*, name: str | None, timezone: str | None, hours: str | None, days: str | None,
                          country: str | None, subdivision: str | None, closed: list[str]) -> CalendarSpec:
    """Build a calendar from the command's options (--timezone and --hours at least)."""
    missing = [option for option, value in (("--timezone", timezone), ("--hours", hours)) if not value]
    if missing:
        raise CalendarInputError(f"{' and '.join(missing)} missing; expected --file CALENDAR.yaml, or at least "
                                 f"--timezone Europe/Amsterdam --hours 09:00-17:00")
    if (subdivision or closed) and not country:
        raise CalendarInputError("--subdivision and --closed need --country: holidays and closure dates belong to "
                                 "one; expected --country NL (an ISO 3166 code)")
    raw: dict[str, Any] = {"timezone": timezone,
                           "working_hours": [part.strip() for part in (hours or "").split(",") if part.strip()]}
    if name:
        raw["name"] = name
    if days:
        raw["working_days"] = [day.strip().lower() for day in days.split(",") if day.strip()]
    if country:
        raw["holidays"] = {"country": country.upper(), "subdivision": subdivision.upper() if subdivision else None,
                           "extra": closed}
    return _checked(raw, where="the options", fields={"timezone": "--timezone", "working_hours": "--hours",
                                                      "working_days": "--days", "name": "--name",
                                                      "holidays": "--country/--subdivision/--closed"})


def _checked(raw: dict[str, Any], *, where: str, fields: dict[str, str]) -> CalendarSpec:
    try:
        return CalendarSpec.model_validate(raw)
    except ValidationError as invalid:
        said = []
        for problem in invalid.errors(include_url=False):
            location = ".".join(str(part) for part in problem["loc"]) or "calendar"
            option = fields.get(str(problem["loc"][0])) if problem["loc"] else None
            field = f"{option} ({location})" if option else f"field {location}"
            value = problem.get("input")
            shown = f" {value!r}" if isinstance(value, (str, int, float)) else ""
            said.append(f"{field}{shown}: {problem['msg'].removeprefix('Value error, ')}")
        raise CalendarInputError(f"{where}: nothing deployed; " + "; ".join(said[:10])) from None
