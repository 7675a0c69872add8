"""Read the engine's own events back as an event log, so live work maps like any exported log.

    from backoffice.mapping import analyze
    process_map = analyze(read_engine_log("backoffice.db"))

The schema's columns come first; `workflow` and `version` follow, then each attribute the
engine wrote (from_state, to_state, queue, priority ...) as a text column of its own.

Parallel work: a branch of a case runs as a child case, and its events carry the branch's
name. Each branch is read as a trace of its own, `CASE/BRANCH` (such as `12/it`), with
`branch` naming it and `parent_case` the case it belongs to: so the directly-follows relation
stays within a branch (no false "transition" from one branch's step to another's), and the
case's own trace goes from the parallel state straight to what follows the join. A sub-case
is a case of its own workflow, read as such.

`read_live_work` reads one workflow's events for `conform`: each case beside the deployed
definition version it runs on, the rules the engine holds it to.

    live = read_live_work(open_existing("backoffice.db"), "service-request")
    report = conform_versions(live.logs, live.definitions, states=ENGINE_STATES, ...)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from backoffice.definitions.conformance import StateColumns
from backoffice.definitions.model import Definition
from backoffice.engine.versions import running_version
from backoffice.errors import DatabaseUnavailable, UnknownWorkflow
from backoffice.events.schema import TIMESTAMP_TYPE, Column, EventLog, ORDER
from backoffice.store.connect import create_engine, database_url, shown
from backoffice.store.migrate import current_revision, migrate
from backoffice.store.sql_store import SqlStore
from backoffice.store.tables import cases as case_rows, events
from backoffice.wording import plural

ENGINE_STATES = StateColumns(entered="to_state", acted_in=("from_state", "state"))
"""How the engine's events name states, by id: a move's to_state is the state entered, and its
actor acted in the state the move left (from_state) or, for a vote, the approval voted in (state).
The engine judges separation of duties on the same attributes."""

_TEXT_COLUMNS = (Column.CASE_ID, Column.ACTIVITY, Column.RESOURCE, Column.ROLE, Column.SYSTEM, Column.LIFECYCLE,
                 Column.REASON, "workflow")


def read_engine_log(source: SqlStore | str | Path, *, workflow: str | None = None,
                    started_since: datetime | None = None) -> EventLog:
    """Return the events the engine wrote (of one workflow, or all) as an EventLog.

    Args:
        source: an open store, or a database file path or URL (opened, read and closed here).
        workflow: keep the events of this workflow only.
        started_since: keep the events of the cases that started at or after this moment (whole
            cases, so none is cut in the middle); the database filters, so older work is never read.

    Raises:
        DatabaseUnavailable: the database cannot be opened.
    """
    store = source if isinstance(source, SqlStore) else SqlStore.open(source)
    try:
        query = sa.select(events).order_by(events.c.id)
        if workflow is not None:
            query = query.where(events.c.workflow == workflow)
        if started_since is not None:
            started = sa.select(case_rows.c.id).where(case_rows.c.created_at >= started_since)
            query = query.where(events.c.case_id.in_(started))
        columns: dict[str, list[Any]] = {name: [] for name in (*_TEXT_COLUMNS, Column.TIMESTAMP, "version", ORDER)}
        attributes: dict[str, list[Any]] = {}
        with store.engine.connect() as connection:
            traces = _branch_traces(connection)
            branch_of: list[str | None] = []
            parent_of: list[str | None] = []
            for position, row in enumerate(connection.execute(query)):
                trace = traces.get(row.case_id)
                columns[Column.CASE_ID].append(trace[0] if trace else str(row.case_id))
                branch_of.append(trace[1] if trace else None)
                parent_of.append(trace[2] if trace else None)
                for name in _TEXT_COLUMNS[1:]:
                    columns[name].append(getattr(row, name))
                columns[Column.TIMESTAMP].append(row.timestamp)
                columns["version"].append(row.version)
                columns[ORDER].append(position)
                for name, value in (row.attributes or {}).items():
                    # An attribute first seen on a later event is null on the events before it.
                    attributes.setdefault(name, [None] * position).append(_text(value))
                for values in attributes.values():
                    values.extend([None] * (position + 1 - len(values)))
    finally:
        if store is not source:
            store.close()
    arrays = {name: pa.array(values, pa.string()) for name, values in columns.items() if name in _TEXT_COLUMNS}
    arrays[Column.TIMESTAMP] = pa.array(columns[Column.TIMESTAMP], TIMESTAMP_TYPE)
    arrays["version"] = pa.array(columns["version"], pa.int64())
    arrays[ORDER] = pa.array(columns[ORDER], pa.int64())
    if any(branch is not None for branch in branch_of):
        arrays["branch"] = pa.array(branch_of, pa.string())
        arrays["parent_case"] = pa.array(parent_of, pa.string())
    for name, values in attributes.items():
        if name not in arrays:
            arrays[name] = pa.array(values, pa.string())
    notes: tuple[str, ...] = ()
    if "branch" in arrays:
        traces = {trace for trace, branch in zip(columns[Column.CASE_ID], branch_of, strict=True) if branch}
        parents = {parent for parent in parent_of if parent}
        notes = (f"parallel work: {plural(len(traces), 'branch')} of {plural(len(parents), 'case')} read as traces "
                 f"of their own (CASE/BRANCH), so each branch's path stays apart; the counts of cases include them",)
    return EventLog.from_table(pa.table(arrays), source=f"engine events in {store.url}", notes=notes)


def _branch_traces(connection: sa.Connection) -> dict[int, tuple[str, str, str]]:
    """Return, per branch case, its trace id (ROOT/BRANCH), its branch path and its root case's id."""
    rows = connection.execute(sa.select(case_rows.c.id, case_rows.c.parent_id, case_rows.c.branch)
                              .where(case_rows.c.parent_id.is_not(None), case_rows.c.branch.is_not(None))).all()
    parents = {row.id: row.parent_id for row in rows}
    traces: dict[int, tuple[str, str, str]] = {}
    for row in rows:
        root = row.parent_id
        while root in parents:  # a branch inside a branch belongs to the case at the top
            root = parents[root]
        traces[row.id] = (f"{root}/{row.branch}", row.branch, str(root))
    return traces


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


@dataclass(frozen=True)
class LiveWork:
    """One workflow's engine events, beside the deployed definition version each case runs on.

    A case runs on the version it started on until it is migrated to a newer one (`backoffice
    workflow migrate`); from then on the engine checks its moves against the newer one. Each
    case belongs to the version it runs on now: the version of its last event.

    Attributes:
        workflow: the workflow read.
        source: where the events came from (the database, without its password).
        logs: version -> the events of the cases on it (only versions with cases).
        definitions: version -> its deployed definition, for each version in `logs`.
        deployed: every deployed version number of the workflow, in order.
        on_version: version -> how many cases run on it, for every version with cases (also
            those left out by asking for one version).
        migrated_cases: cases (of those in `logs`) whose events name more than one version.
    """

    workflow: str
    source: str
    logs: dict[int, EventLog]
    definitions: dict[int, Definition]
    deployed: list[int]
    on_version: dict[int, int]
    migrated_cases: int

    def log(self) -> EventLog:
        """Return the events of every case read, as one log (to compare with one definition)."""
        logs = [self.logs[version] for version in sorted(self.logs)]
        if len(logs) == 1:
            return logs[0]
        table = pa.concat_tables([log.table for log in logs])  # parts of one table: one schema
        return EventLog.from_table(table, source=self.source)


def open_existing(target: str | Path) -> SqlStore | None:
    """Open an engine database to read it; return None when it holds no engine tables.

    Reading creates nothing: a SQLite file that does not exist is an error, not a new database.
    A database the engine used at an older revision is migrated, as every command does.

    Raises:
        DatabaseUnavailable: the file does not exist, or the database cannot be opened or read.
    """
    url = database_url(target)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:") \
            and not Path(parsed.database).is_file():
        raise DatabaseUnavailable(shown(url), "no such file")
    engine = create_engine(target)
    try:
        revision = current_revision(engine)
    except sa.exc.DBAPIError as exc:
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
        raise DatabaseUnavailable(shown(url), reason) from exc
    if revision is None:
        engine.dispose()
        return None
    migrate(engine)
    return SqlStore(engine)


def read_live_work(store: SqlStore, workflow: str, *, version: int | None = None,
                   started_since: datetime | None = None) -> LiveWork:
    """Read a workflow's engine events, split by the version each case runs on (or of one version only).

    `started_since` keeps the cases that started at or after that moment (see `read_engine_log`).

    Raises:
        UnknownWorkflow: nothing is deployed under that name (the message lists what is), or
            not that version (the message lists the versions).
    """
    stored = {v.version: v for v in store.versions(workflow)}
    if not stored:
        raise UnknownWorkflow(workflow, sorted({v.workflow for v in store.versions()}))
    if version is not None and version not in stored:
        raise UnknownWorkflow(workflow, sorted(stored), version)
    log = read_engine_log(store, workflow=workflow, started_since=started_since)
    cases = log.table.column(Column.CASE_ID).to_pylist()
    versions = log.table.column("version").to_pylist()
    runs_on = _current_versions(cases, versions)
    on_version: dict[int, int] = {}
    migrated: set[str] = set()
    for index, (case, number) in enumerate(zip(cases, runs_on, strict=True)):
        if index == 0 or cases[index - 1] != case:
            on_version[number] = on_version.get(number, 0) + 1
        if versions[index] != number and (version is None or number == version):
            migrated.add(case)
    logs = {number: log.with_table(log.table.filter(pa.array([v == number for v in runs_on])))
            for number in sorted(on_version) if version is None or number == version}
    return LiveWork(workflow=workflow, source=log.source, logs=logs,
                    definitions={number: running_version(stored[number]).definition for number in logs},
                    deployed=sorted(stored), on_version=dict(sorted(on_version.items())),
                    migrated_cases=len(migrated))


def _current_versions(cases: list[str], versions: list[int]) -> list[int]:
    """Return, per event, the version its case runs on now: that of the case's last event."""
    # A log holds each case's events together, in time order: the last of a run names the version.
    current: list[int] = [0] * len(cases)
    for index in range(len(cases) - 1, -1, -1):
        last_of_case = index == len(cases) - 1 or cases[index + 1] != cases[index]
        current[index] = versions[index] if last_of_case else current[index + 1]
    return current
