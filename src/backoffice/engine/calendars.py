"""Change the business calendar a workflow counts its SLAs and timers on: a new version, deployed by an administrator.

A calendar is part of a workflow's definition, so it is versioned with it: a case keeps the
definition version it started on, and with it the calendar its SLA clock counts on (changing
the hours under a running clock would move due times already promised). Changing a calendar is
therefore deploying a new version that differs only in its calendar (and its number), through
`deploy`: the same checks, the same audit record, the same change control (a workflow whose
change rules ask for a second person waits for one). New cases count on the new calendar.

Only an administrator changes a calendar this way (`NotAdministrator` otherwise, from every
interface); the YAML deployed keeps the deployed one's text and comments, with its `calendar:`
and `version:` replaced, so a reviewer reads the change as a person would have written it.

The audit record says what happened rather than how: `workflow.deployed` (or `change.pending`)
with `change: calendar`, the version it was made from, and the calendar before and after; the
temporary file the definition was checked through is nobody's business and is not named.
"""

from __future__ import annotations

import io
import tempfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ruamel.yaml import YAML

from backoffice.definitions.model import CalendarSpec
from backoffice.engine.cases import utc
from backoffice.limits import check_payload
from backoffice.errors import ContractFileError
from backoffice.engine.versions import DeployedVersion

if TYPE_CHECKING:
    from backoffice.engine.engine import Engine
    from backoffice.engine.identity import Actor


class CalendarOperations:
    """The engine's calendar change (mixed into `Engine`)."""

    def change_calendar(self: Engine, workflow: str, calendar: CalendarSpec, *, actor: Actor | str,
                        now: datetime) -> DeployedVersion:
        """Deploy the next version of `workflow` with `calendar` instead of its latest version's.

        Returns the deploy's answer: the new version, or the change that waits for a second person.

        Raises:
            NotAdministrator: the actor is not an administrator (nothing is read or written).
            UnknownWorkflow: nothing is deployed under that name.
            DefinitionError: the version with this calendar does not pass the definition's checks.
            InputRefused: the calendar holds text no database stores (a NUL byte, a lone surrogate).
        """
        now = utc(now)
        # Refused before anything is read or written: text no database stores (a NUL, a lone surrogate).
        check_payload(calendar.model_dump(mode="json", exclude_none=True), what="the calendar")
        who = self._administrator(actor, now=now, what=f"change the calendar of {workflow}")
        latest = self.running(workflow)
        stored = next(v for v in self.versions(workflow) if v.version == latest.definition.version)
        source = with_calendar(stored.source, calendar, version=latest.definition.version + 1)
        contract_name = stored.contract_name if stored.contract_source is not None else None
        with tempfile.TemporaryDirectory(prefix="calendar-") as folder:
            # The definition names its contract relative to itself (maybe ../contracts/x.yaml): the
            # definition sits deep enough in the folder for that name to stay inside it.
            ups = sum(part == ".." for part in Path(contract_name).parts) if contract_name else 0
            path = Path(folder).joinpath(*["definition"] * ups, f"{workflow}.yaml")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(source, encoding="utf-8")
            if contract_name is not None:
                contract = (path.parent / contract_name).resolve()
                if not contract.is_relative_to(Path(folder).resolve()):
                    raise ContractFileError(contract_name, "the contract's name leaves its folder",
                                            expected="a contract file beside the definition or below its folder")
                contract.parent.mkdir(parents=True, exist_ok=True)
                contract.write_text(stored.contract_source or "", encoding="utf-8")
            # The same checks and change control as `deploy`; only the audit record differs.
            plan = self._plan_deploy(path, actor=who, now=now)
        what = {"change": "calendar", "from_version": latest.definition.version,
                "calendar_before": _as_record(latest.definition.calendar), "calendar_after": _as_record(calendar)}
        return self._deploy_planned(plan, what, actor=who, now=now)


def _as_record(calendar: CalendarSpec | None) -> dict[str, Any] | None:
    """A calendar as the audit record keeps it (None: the version named none, and counted on the default)."""
    return None if calendar is None else calendar.model_dump(mode="json", exclude_none=True)


def with_calendar(source: str, calendar: CalendarSpec, *, version: int) -> str:
    """Return a definition's YAML text with its `calendar:` (added when absent) and `version:` replaced."""
    yaml = YAML()  # round trip: comments, order and quoting of everything else are kept
    yaml.width = 4096
    document = yaml.load(source)
    document["version"] = version
    document["calendar"] = calendar.model_dump(mode="json", exclude_none=True)
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()
