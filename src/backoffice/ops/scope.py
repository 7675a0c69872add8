"""What a dashboard looks at: one workflow (one version, or all), over a window of whole weeks, as of a moment.

The moment is passed in (the web app reads the clock; tests pass a fixed one). Weeks start on
Monday at 00:00 UTC, so every database buckets them alike and a week's figures never depend on
the zone of the server that asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from backoffice.definitions.model import Definition
from backoffice.engine.versions import running_version
from backoffice.errors import UnknownWorkflow
from backoffice.store.sql_store import SqlStore

WEEK = timedelta(days=7)
DEFAULT_WEEKS = 12
MAX_WEEKS = 104
"""Two years of weeks: a window wider than that is a report, not a dashboard."""


def week_start(moment: datetime) -> datetime:
    """Return the Monday 00:00 UTC that starts the week of `moment`."""
    moment = moment.astimezone(timezone.utc)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class Window:
    """Whole weeks ending with the week of `now`: from `start` (a Monday) up to `now`."""

    start: datetime
    now: datetime

    @classmethod
    def last_weeks(cls, now: datetime, weeks: int = DEFAULT_WEEKS) -> Window:
        """Return the window of the `weeks` weeks up to `now`, the current (partial) week included.

        Raises:
            ValueError: weeks is not between 1 and MAX_WEEKS, or now has no time zone.
        """
        if not 1 <= weeks <= MAX_WEEKS:
            raise ValueError(f"{weeks} weeks; expected 1 to {MAX_WEEKS}")
        if now.tzinfo is None:
            raise ValueError(f"{now.isoformat()} has no time zone; expected an aware moment")
        now = now.astimezone(timezone.utc)
        return cls(start=week_start(now) - (weeks - 1) * WEEK, now=now)

    @property
    def weeks(self) -> list[datetime]:
        """Return the Monday of each week in the window, oldest first."""
        count = (week_start(self.now) - self.start) // WEEK + 1
        return [self.start + k * WEEK for k in range(count)]


@dataclass(frozen=True)
class Scope:
    """One workflow's cases (all versions, or one) over a window, with the definitions they run on."""

    workflow: str
    version: int | None
    window: Window
    definitions: dict[int, Definition]
    """version -> definition, for every deployed version in scope."""

    @classmethod
    def of(cls, store: SqlStore, workflow: str, window: Window, *, version: int | None = None) -> Scope:
        """Return the scope of a deployed workflow (and version).

        Raises:
            UnknownWorkflow: nothing is deployed under that name, or not that version (the message lists what is).
        """
        stored = {v.version: v for v in store.versions(workflow)}
        if not stored:
            raise UnknownWorkflow(workflow, sorted({v.workflow for v in store.versions()}))
        if version is not None and version not in stored:
            raise UnknownWorkflow(workflow, sorted(stored), version)
        numbers = [version] if version is not None else sorted(stored)
        return cls(workflow, version, window, {n: running_version(stored[n]).definition for n in numbers})

    @property
    def end_states(self) -> tuple[str, ...]:
        """Return the states that end a case in any version in scope."""
        return tuple(sorted({sid for d in self.definitions.values() for sid in d.end_states}))

    @property
    def intake_states(self) -> tuple[str, ...]:
        return tuple(sorted({d.intake_state for d in self.definitions.values()}))

    def state_order(self) -> list[str]:
        """Return every state in scope in the order the definitions list them (the latest version's first)."""
        order: dict[str, None] = {}
        for number in sorted(self.definitions, reverse=True):
            order.update(dict.fromkeys(self.definitions[number].states))
        return list(order)

    def state_titles(self) -> dict[str, str]:
        """Return state id -> its title for people (the latest version's), or the id when it has none."""
        titles: dict[str, str] = {}
        for number in sorted(self.definitions):
            for sid, state in self.definitions[number].states.items():
                titles[sid] = state.title or sid
        return titles

    def cases_where(self, table: sa.Table, *, workflow_column: str = "workflow",
                    version_column: str = "definition_version") -> sa.ColumnElement[bool]:
        """Return the condition that keeps a table's rows of this scope's workflow (and version)."""
        condition = table.c[workflow_column] == self.workflow
        if self.version is not None:
            condition = sa.and_(condition, table.c[version_column] == self.version)
        return condition
