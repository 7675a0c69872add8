"""The events the engine writes as cases move: one row per change, in the event schema of DESIGN.md.

The mapping reads these rows back as an event log (`backoffice.store.event_log`), so the
as-is map of live work uses the same analysis as the logs exported from other systems.
An event's activity is the action taken (the transition's name, such as `assign`), or the
state entered when the transition has no name; the intake event is the intake state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

SYSTEM = "backoffice"
"""The system column of every event the engine writes."""


class Lifecycle(StrEnum):
    """The lifecycle word of an engine event: every move the engine records is a completed action."""

    COMPLETE = "complete"


@dataclass(frozen=True)
class EngineEvent:
    """One event in the schema of DESIGN.md, as the engine writes it.

    Attributes:
        case_id, activity, timestamp (UTC), resource (the actor), role, system, lifecycle, reason,
        workflow and version (the definition version), branch (the branch of parallel work it
        happened in, None outside branches): the schema's columns.
        attributes: the rest: the states left and entered, the case version, routing, data changed.
        id: the store's sequence number, which keeps the order of arrival; None before it is stored.
    """

    case_id: int
    activity: str
    timestamp: datetime
    workflow: str
    version: int
    resource: str | None = None
    role: str | None = None
    system: str = SYSTEM
    lifecycle: Lifecycle = Lifecycle.COMPLETE
    reason: str | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    id: int | None = None
    branch: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.attributes, MappingProxyType):
            object.__setattr__(self, "attributes", MappingProxyType(dict(self.attributes)))


def change_attributes(*, from_state: str | None, to_state: str, case_version: int, queue: str | None,
                      priority: str, owner: str | None, changed: Mapping[str, Any],
                      transition: str | None = None) -> dict[str, Any]:
    """Return an event's attributes for a move: where from and to, routing after it, the data it changed."""
    attributes: dict[str, Any] = {"from_state": from_state, "to_state": to_state, "case_version": case_version,
                                  "queue": queue, "priority": priority, "owner": owner}
    if transition is not None:
        attributes["transition"] = transition
    if changed:
        attributes["data"] = dict(changed)
    return attributes
