"""My work: the open tasks that are mine or my queues', soonest SLA due first, and the acts on them.

A search is a `TaskFilter`, read from (and written back to) a URL's query string, so a saved
filter is a link and a shared one works for whoever opens it:

    search = filter_from_query({"queue": "purchasing", "due_before": "2024-03-08", "q": "laptop"})
    items = my_work(engine, viewer, search, now=now)
    query_string(search)   # 'queue=purchasing&due_before=2024-03-08&q=laptop'

The acts (claim next, claim, release, reassign, each alone or in bulk) are the engine's own
operations, with the viewer as the actor; bulk acts report one result per task.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from enum import StrEnum
from urllib.parse import urlencode

from backoffice.engine import Actor, Engine
from backoffice.engine.tasks import Task, TaskKind
from backoffice.engine.worklist import MAX_FILTER_TEXT, TaskFilter, Viewer, WorkItem, WorkKey
from backoffice.errors import BackofficeError, InputRefused
from backoffice.limits import check_text

FILTER_FIELDS = ("scope", "queue", "workflow", "state", "kind", "due_before", "q")
"""The query-string names of a search, in the order a link writes them."""
MINE = "mine"
MAX_NAME = 200
MAX_BULK = 200


def filter_from_query(params: Mapping[str, str]) -> TaskFilter:
    """Return the search a query string asks for; unknown names are ignored, blank values leave a criterion out.

    Raises:
        InputRefused: a value is too long, holds a NUL byte, or (due_before) is not a date; the
            message names the field.
    """
    values: dict[str, str] = {}
    for name in FILTER_FIELDS:
        value = params.get(name)
        if value is None or not str(value).strip():
            continue
        value = check_text(str(value).strip(), f"the filter's {name}")
        limit = MAX_FILTER_TEXT if name == "q" else MAX_NAME
        if len(value) > limit:
            raise InputRefused(f"the filter's {name}", f"it is {len(value)} characters long",
                               f"at most {limit} characters")
        values[name] = value
    scope = values.get("scope", "")
    if scope and scope not in (MINE, "all"):
        raise InputRefused("the filter's scope", f"{scope!r} is not a scope", "mine or all")
    kind = values.get("kind")
    if kind is not None and kind not in set(TaskKind):
        raise InputRefused("the filter's kind", f"{kind!r} is not a kind of task",
                           "one of " + ", ".join(str(k) for k in TaskKind))
    return TaskFilter(mine_only=scope == MINE, queue=values.get("queue"), workflow=values.get("workflow"),
                      state=values.get("state"), kind=kind, due_before=_due_before(values.get("due_before")),
                      text=values.get("q"))


def query_of(search: TaskFilter) -> dict[str, str]:
    """Return the query-string values of a search (the inverse of `filter_from_query`)."""
    values = {"scope": MINE if search.mine_only else None, "queue": search.queue, "workflow": search.workflow,
              "state": search.state, "kind": search.kind,
              "due_before": _date_text(search.due_before) if search.due_before else None, "q": search.text}
    return {name: value for name, value in values.items() if value}


def query_string(search: TaskFilter) -> str:
    """Return a search as a URL's query string."""
    return urlencode(query_of(search))


def my_work(engine: Engine, viewer: Viewer, search: TaskFilter, *, now: datetime, limit: int = 200,
            after: WorkKey | None = None) -> Sequence[WorkItem]:
    """Return the open tasks of the viewer and their queues that match, soonest SLA due first, then oldest.

    after: the place of the last task of the page before (`place_of`): the next page, by keyset.
    """
    return engine.store.work_items(viewer, search, now=now, limit=limit, after=after)


def place_of(item: WorkItem) -> WorkKey:
    """Return a task's place in My work's order, from which the next page starts."""
    return (item.task.due_at, item.task.created_at, item.task.id)


def encode_place(place: WorkKey) -> str:
    """Return a place as an opaque cursor for a link (the API's cursors are opaque too)."""
    due, created, task_id = place
    text = f"{due.isoformat() if due else '-'}|{created.isoformat()}|{task_id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_place(cursor: str) -> WorkKey:
    """Return the place a cursor of `encode_place` holds.

    Raises:
        InputRefused: the cursor is not one this list made.
    """
    try:
        due, created, task_id = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split("|")
        place = (None if due == "-" else datetime.fromisoformat(due), datetime.fromisoformat(created), int(task_id))
    except (ValueError, UnicodeDecodeError):
        raise InputRefused("the page's cursor", f"{cursor[:40]!r} is not a place in this list",
                           "the after= of a Next page link") from None
    if any(value is not None and value.tzinfo is None for value in place[:2]):
        raise InputRefused("the page's cursor", f"{cursor[:40]!r} holds a time without a zone",
                           "the after= of a Next page link")
    return place


class BulkAction(StrEnum):
    CLAIM = "claim"
    RELEASE = "release"
    REASSIGN = "reassign"


@dataclass(frozen=True)
class ItemResult:
    """What one task of a bulk act came to: done, or refused and why."""

    task_id: int
    done: bool
    message: str


def act(engine: Engine, action: BulkAction | str, task_ids: Iterable[int], *, viewer: Viewer, now: datetime,
        queue: str | None = None, person: str | None = None,
        seen: Callable[[int], object] | None = None) -> list[ItemResult]:
    """Apply one act to each task, through the engine's own operation; return a result per task.

    Each task gets the result it would have had alone: a refusal (not eligible, claimed by
    someone else, not a lead) is reported for its task and the others go on.

    Args:
        seen: raises for a task the viewer may not see (`Visibility.task`), which is then answered
            as absent: the engine's refusal would name whose task it is and of which workflow.

    Raises:
        InputRefused: an unknown act, more than MAX_BULK tasks, or a reassignment saying nowhere.
    """
    try:
        action = BulkAction(action)
    except ValueError:
        raise InputRefused("the action", f"{action!r} is not an act on tasks",
                           "one of " + ", ".join(str(a) for a in BulkAction)) from None
    ids = list(dict.fromkeys(task_ids))
    if not ids:
        raise InputRefused("the tasks", "none was chosen", "at least one task")
    if len(ids) > MAX_BULK:
        raise InputRefused("the tasks", f"{len(ids)} were chosen", f"at most {MAX_BULK} at once")
    if action is BulkAction.REASSIGN and not (queue or person):
        raise InputRefused("the reassignment", "it names neither a queue nor a person", "a queue or a person")
    actor = Actor(viewer.person)
    results = []
    for task_id in ids:
        try:
            if seen is not None:
                seen(task_id)
            task = _one(engine, action, task_id, actor=actor, now=now, queue=queue or None, person=person or None)
        except BackofficeError as refused:
            results.append(ItemResult(task_id, False, str(refused)))
            continue
        results.append(ItemResult(task_id, True, _done(action, task)))
    return results


def claim_next(engine: Engine, viewer: Viewer, *, now: datetime, queues: Sequence[str] | None = None) -> Task | None:
    """Claim the most urgent task the viewer may take in their queues (or those given); None when none waits."""
    # Only queues the viewer works: a queue named in a form is a choice among theirs, not a grant.
    wanted = [queue for queue in queues if queue in viewer.queues] if queues else list(viewer.queues)
    if not wanted:
        return None
    return engine.next_task(wanted, actor=Actor(viewer.person), now=now)


def _one(engine: Engine, action: BulkAction, task_id: int, *, actor: Actor, now: datetime, queue: str | None,
         person: str | None) -> Task:
    if action is BulkAction.CLAIM:
        return engine.claim(task_id, actor=actor, now=now)
    if action is BulkAction.RELEASE:
        return engine.release(task_id, actor=actor, now=now)
    return engine.reassign(task_id, actor=actor, now=now, queue=queue, person=person)


def _done(action: BulkAction, task: Task) -> str:
    if action is BulkAction.CLAIM:
        return f"task {task.id} is yours until {task.claim_expires_at:%Y-%m-%d %H:%M} UTC"
    if action is BulkAction.RELEASE:
        return f"task {task.id} is back in {task.queue or 'its queue'}"
    return f"task {task.id} now goes to {task.assignment.describe()}"


def _due_before(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0), tzinfo=timezone.utc)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InputRefused("the filter's due_before", f"{text!r} is not a date",
                           "a date such as 2024-03-08 (or a time such as 2024-03-08T12:00Z)") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _date_text(moment: datetime) -> str:
    moment = moment.astimezone(timezone.utc)
    return moment.date().isoformat() if moment.time() == time(0) else moment.isoformat()
