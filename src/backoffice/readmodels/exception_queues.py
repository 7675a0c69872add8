"""Exceptions: a queue per reason code, oldest first, and the resolution through the engine.

An exception is in the viewer's queues when its resolver's task is theirs (or they read
everything); resolving it is `Engine.resolve_exception`, which checks the resolver itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from backoffice.engine import Actor, Case, Engine
from backoffice.engine.worklist import OpenException, Viewer


@dataclass(frozen=True)
class ExceptionQueue:
    """The open exceptions of one reason code, oldest first, with what the definition says of it."""

    reason: str
    description: str | None
    resolver: str | None
    items: tuple[OpenException, ...]

    @property
    def oldest(self) -> datetime:
        return self.items[0].raised_at


def exception_queues(engine: Engine, viewer: Viewer, *, reason: str | None = None) -> Sequence[ExceptionQueue]:
    """Return the viewer's open exceptions grouped by reason code, the queue with the oldest first."""
    grouped: dict[str, list[OpenException]] = {}
    for item in engine.store.open_exceptions(viewer, reason=reason):
        grouped.setdefault(item.reason, []).append(item)
    queues = []
    for code, items in grouped.items():
        spec = _spec(engine, items[0])
        queues.append(ExceptionQueue(reason=code, description=spec.description if spec else None,
                                     resolver=str(spec.resolver) if spec and spec.resolver else None,
                                     items=tuple(items)))
    return sorted(queues, key=lambda queue: (queue.oldest, queue.reason))


def resolve(engine: Engine, case_id: int, *, viewer: Viewer, now: datetime, note: str | None = None) -> Case:
    """Resolve the case's open exception as the viewer, by the engine's rules (its resolver only).

    Raises:
        NoOpenException, NotEligibleForTask and what `Engine.resolve_exception` raises.
    """
    return engine.resolve_exception(case_id, actor=Actor(viewer.person), now=now, note=note or None)


def _spec(engine: Engine, item: OpenException):
    case = engine.case(item.case_id)
    return engine.running(case.workflow, case.definition_version).definition.exceptions.get(item.reason)
