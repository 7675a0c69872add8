"""Saved filters of My work: a name and a link, kept per person, and shared with a queue's people when asked.

The link is normalised through `work.filter_from_query` before it is kept, so a saved filter
only ever holds the search's own fields, and opening it runs the same checks as typing it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl

from backoffice.engine import Engine
from backoffice.engine.worklist import Viewer
from backoffice.errors import InputRefused
from backoffice.limits import check_text
from backoffice.readmodels.work import filter_from_query, query_string

MAX_FILTER_NAME = 80


@dataclass(frozen=True)
class SavedFilter:
    """A named search of my work: the query string of its link, and the queue it is shared with (if any)."""

    id: int
    owner: str
    name: str
    query: str
    shared_queue: str | None

    def mine(self, viewer: Viewer) -> bool:
        return self.owner == viewer.person


def saved_filters(engine: Engine, viewer: Viewer) -> Sequence[SavedFilter]:
    """Return the viewer's saved filters, then those others shared with a queue the viewer works."""
    return [SavedFilter(id=row.id, owner=row.owner, name=row.name, query=row.query, shared_queue=row.shared_queue)
            for row in engine.store.saved_filters(viewer.person, viewer.queues)]


def save_filter(engine: Engine, viewer: Viewer, *, name: str, query: Mapping[str, str] | str,
                share_with: str | None = None, now: datetime) -> SavedFilter:
    """Save the viewer's search under `name` (replacing one of theirs of that name); return it.

    Raises:
        InputRefused: a blank or long name, a search `filter_from_query` refuses, or a queue to
            share with that the viewer does not work (named, with theirs).
    """
    name = check_text((name or "").strip(), "the filter's name")
    if not name or len(name) > MAX_FILTER_NAME:
        raise InputRefused("the filter's name", "it is blank" if not name else f"it is {len(name)} characters long",
                           f"a name of 1 to {MAX_FILTER_NAME} characters, such as 'Due this week'")
    params = dict(parse_qsl(query.lstrip("?"))) if isinstance(query, str) else dict(query)
    normalised = query_string(filter_from_query(params))
    share_with = (share_with or "").strip() or None
    if share_with is not None and share_with not in viewer.queues:
        raise InputRefused("the queue to share with", f"{share_with!r} is not a queue {viewer.person} works",
                           "one of " + (", ".join(viewer.queues) or "their queues (they work none)"))
    filter_id = engine.store.save_filter(owner=viewer.person, name=name, query=normalised, shared_queue=share_with,
                                         at=now)
    return SavedFilter(id=filter_id, owner=viewer.person, name=name, query=normalised, shared_queue=share_with)


def delete_filter(engine: Engine, viewer: Viewer, filter_id: int) -> bool:
    """Delete one of the viewer's own filters (a shared one stays its owner's); False when it is not theirs."""
    return engine.store.delete_filter(filter_id, owner=viewer.person)
