"""Administration of calendars: an administrator changes the business calendar a workflow counts its SLAs on.

The calendar is part of the workflow's definition (see `engine.calendars`): saving the form
deploys the next version with the new calendar, through the engine's `change_calendar`, which
refuses anyone but an administrator in the core, audits the deploy, and leaves it waiting for a
second person where the workflow's change rules ask for one. Running cases keep the calendar of
the version they started on; new cases count on the new one.

The form is read into a `CalendarSpec` first: each mistake (an unknown zone, hours that are no
range, a country the holidays library does not know, a date that is no date) is shown beside
its field, with everything typed kept, and nothing is deployed.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from pydantic import ValidationError

from backoffice.definitions.calendar import Weekday
from backoffice.definitions.model import CalendarSpec
from backoffice.errors import InputRefused
from backoffice.services.visibility import require
from backoffice.web.context import Web, WebServices
from backoffice.web.pages_admin import ADMINISTRATOR
from backoffice.web.render import redirect, render
from backoffice.web.sessions import CurrentUser

router = APIRouter()
FIELDS = ("name", "timezone", "working_hours", "country", "subdivision", "extra")
MAX_FIELD = 2000
DAYS = [str(day) for day in Weekday]
LABELS = {"name": "Calendar name", "timezone": "Time zone", "working_hours": "Working hours",
          "working_days": "Working days", "country": "Country", "subdivision": "State or province",
          "extra": "Extra closure days"}
DEFAULT = CalendarSpec(timezone="UTC", working_hours="09:00-17:00")  # what a workflow naming none counts on


@dataclass(frozen=True)
class CalendarForm:
    """The form's values as text (what was typed, or the calendar's), and the days ticked."""

    values: dict[str, str]
    days: tuple[str, ...]

    @classmethod
    def of(cls, spec: CalendarSpec) -> CalendarForm:
        holidays = spec.holidays
        return cls({"name": spec.name, "timezone": spec.timezone,
                    "working_hours": ", ".join(str(part) for part in spec.working_hours),
                    "country": holidays.country if holidays else "",
                    "subdivision": (holidays.subdivision or "") if holidays else "",
                    "extra": "\n".join(day.isoformat() for day in holidays.extra) if holidays else ""},
                   tuple(str(day) for day in spec.working_days))

    def spec(self) -> tuple[CalendarSpec | None, dict[str, str]]:
        """Return the calendar the form says, or None and an error per field."""
        values = self.values
        raw: dict[str, object] = {"name": values["name"].strip() or "default", "timezone": values["timezone"].strip(),
                                  "working_hours": [part.strip() for part in values["working_hours"].split(",")
                                                    if part.strip()] or values["working_hours"].strip(),
                                  "working_days": list(self.days)}
        extra = [part.strip() for part in values["extra"].replace(",", "\n").splitlines() if part.strip()]
        if values["country"].strip():
            raw["holidays"] = {"country": values["country"].strip().upper(),
                               "subdivision": values["subdivision"].strip().upper() or None, "extra": extra}
        errors: dict[str, str] = {}
        if not values["country"].strip() and (values["subdivision"].strip() or extra):
            errors["country"] = "Expected a country: holidays and closure dates belong to one."
        if not self.days:
            errors["working_days"] = "Expected at least one working day."
        try:
            spec = CalendarSpec.model_validate(raw)
        except ValidationError as invalid:
            for problem in invalid.errors():
                errors.setdefault(_field_of(problem["loc"], problem["msg"]), _sentence(problem["msg"]))
            return None, errors
        return (None, errors) if errors else (spec, {})


def _field_of(location: tuple, message: str) -> str:
    head = str(location[0]) if location else "name"
    if head == "holidays":
        if len(location) > 1 and location[1] == "extra":
            return "extra"
        return "subdivision" if "subdivision" in message else "country"
    return head if head in (*FIELDS, "working_days") else "name"


def _sentence(message: str) -> str:
    message = message.removeprefix("Value error, ")
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def _current(web: WebServices, workflow: str) -> tuple[int, CalendarSpec]:
    running = web.engine.running(workflow[:200])
    return running.definition.version, running.definition.calendar or DEFAULT


def _page(request: Request, web: WebServices, workflow: str, form: CalendarForm, *, errors: dict[str, str],
          status: int = 200):
    version, _ = _current(web, workflow)
    return render(request, "calendar.html", {"workflow": workflow, "version": version, "form": form, "days": DAYS,
                                             "errors": errors, "labels": LABELS}, status=status)


@router.get("/admin/calendars/{workflow}")
def calendar_form(workflow: str, request: Request, user: CurrentUser, web: Web):
    require(user, (ADMINISTRATOR,), "change a workflow's calendar")
    _, spec = _current(web, workflow)
    return _page(request, web, workflow, CalendarForm.of(spec), errors={})


@router.post("/admin/calendars/{workflow}")
async def change_calendar(workflow: str, request: Request, user: CurrentUser, web: Web):
    posted = await request.form(max_fields=50, max_files=0)
    values = {name: _text(posted.get(name), name) for name in FIELDS}
    days = tuple(day for day in DAYS if day in posted.getlist("working_days"))
    form = CalendarForm(values, days)
    spec, errors = form.spec()
    if spec is None:
        return _page(request, web, workflow, form, errors=errors, status=422)
    # The core decides who may: an administrator (NotAdministrator, 403, for anyone else).
    deployed = web.engine.change_calendar(workflow, spec, actor=user.actor(), now=web.clock())
    if deployed.pending:
        said = (f"{workflow} version {deployed.version} with the new calendar waits for a second person "
                f"(the workflow's change rules ask for one).")
    elif deployed.created:
        said = (f"{workflow} version {deployed.version} is deployed with the new calendar; running cases keep "
                f"the calendar they started with.")
    else:
        said = f"Nothing changed: {workflow} version {deployed.version} has this calendar already."
    return redirect(request, "/admin#calendars", flash=said)


def _text(value: object, name: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > MAX_FIELD:
        raise InputRefused(f"the calendar's {name}", "it is not text of at most 2000 characters",
                           "the form's own field")
    return value
