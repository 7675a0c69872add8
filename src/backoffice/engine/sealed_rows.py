"""What the engine runs by, held to the audit record that wrote it before it is run.

A definition version (its states, approvals, separation of duties, guards, roles, SLAs) and a
workflow's mode decide what the engine lets people do. Both are rows of the database, bound
to the audit record of the change that wrote them (`store.audit_store.BOUND_TABLES`). Someone
who can write to the database could edit them in SQL, and `audit verify` would name the row,
but only when someone runs it. So the engine checks the row it is about to run by against
the record that wrote it, as `verify` does for one row: the record must be sealed by this
database's audit key (an HMAC: whoever edits the row can recompute a sha256, not the seal) and
list the row's digest as it is now.

A case's row (its state, data, version, routing, its place among branches) decides what the
engine lets people do with it, so the engine holds it to the newest record of its chain that lists
it whenever it reads the case (`Engine.case`: every act reads its case there), in the same
statement as the case (see `SqlStore.case_as_written`); a join holds the branch rows it decides by,
and the cases it locks, the same way (`BranchOperations._branches_checked`, `_lock_checked`).

When: a version when the engine first loads it (versions are immutable, and the engine keeps the
one it checked, so a later edit of the row is never run by this process; the next process
checks it on load); a mode whenever the row differs from the one last checked (a mode changes
through the engine, so the check costs a read only after a change); a pending change when its
second person approves it (governance), since the version deployed is built from that row.

What this does not see (`audit verify` and the signed checkpoints do): records deleted from the
chain (a row put back as an older record wrote it); versions deployed before rows were bound
(revision 0008), which no record lists.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from backoffice.engine.audit import AuditRecord, RowSeal, listed_rows

VERSIONS_TABLE = "workflow_versions"
MODES_TABLE = "workflow_modes"
CHANGES_TABLE = "definition_changes"
CASES_TABLE = "cases"
BRANCHES_TABLE = "case_branches"


class RecordSealer(Protocol):
    """What checks a record's seal: the audit key (see `audit_keys.AuditKey`)."""

    key_id: str

    def mac(self, record_hash: str) -> str: ...


def held_row_problem(row: RowSeal, records: Sequence[AuditRecord], *, sealer: RecordSealer,
                     legacy_marks: Callable[[], Mapping[str, int]]) -> str | None:
    """Return what is wrong with a row a case's act decides by (a vote, an approval task, an exception), or None.

    As `row_problem`, the legacy marks read only when the row is not as written (a row from
    before rows were bound, which no record lists, is then let be): one read less on every act.
    """
    problem = row_problem(row, row.table, row.key, records, sealer=sealer, legacy_mark=0)
    if problem is None:
        return None
    return row_problem(row, row.table, row.key, records, sealer=sealer,
                       legacy_mark=legacy_marks().get(row.table, 0))


def row_problem(row: RowSeal | None, table: str, key: Any, records: Sequence[AuditRecord], *,
                sealer: RecordSealer, legacy_mark: int) -> str | None:
    """Return what is wrong with a row against the newest of `records` that lists it (None: it is as written).

    Args:
        row: the row as it is now, sealed (None: there is no such row).
        records: records that may have written it, newest first.
        legacy_mark: the last id of the table's rows written before rows were bound (0008); an
            int key at or below it that no record lists is from before, and nothing vouches for it.
    """
    writer, listed = _writer(records, table, key)
    if writer is None:
        if row is None or (isinstance(key, int) and key <= legacy_mark):
            return None
        return "was added to the database outside the engine: no audit record wrote it"
    problem = _writer_seal_problem(writer, sealer)
    if problem is not None:
        return problem
    by = _named(writer)
    if listed[2] is None:
        return None if row is None else f"was put back in the database outside the engine ({by} removed it)"
    if row is None:
        return f"was removed from the database outside the engine ({by} wrote it)"
    if row.digest != listed[2]:
        fields = changed_fields(listed[3] if isinstance(listed[3], dict) else {}, row.fields)
        what = ", ".join(f"field {name} {how}" for name, how in fields) or "its fields changed"
        return f"was changed in the database outside the engine: {what} (not as {by} wrote it)"
    return None


def changed_fields(written: Mapping[str, str], now: Mapping[str, str]) -> list[tuple[str, str]]:
    """The fields that differ between two digests per field, each with how: "changed", "set" or "cleared"."""
    changed = []
    for name in sorted(set(written) | set(now)):
        if name not in now:
            changed.append((name, "cleared"))
        elif name not in written:
            changed.append((name, "set"))
        elif written[name] != now[name]:
            changed.append((name, "changed"))
    return changed


def _writer(records: Sequence[AuditRecord], table: str, key: Any) -> tuple[AuditRecord | None, list[Any]]:
    for record in records:
        for listed in _listed_rows(record.rows):
            if listed[0] == table and listed[1] == key:
                return record, listed
    return None, []


# What the checks above derive from audit records alone, kept by the record's own content: a vote holds its task
# and every vote of its round to the same few records, and parsed each record's rows and checked its seal again
# for each of them, on every vote. Nothing derived from a row checked is kept: each row is sealed as it is now and
# compared afresh, so a row edited after a check is caught as before. A record edited in SQL has other content,
# is found in neither, and is checked in full.
_PARSED_ROWS: dict[str, list[list[Any]]] = {}
_SEALED_RECORDS: dict[tuple, RecordSealer] = {}
_KEPT_LIMIT = 20_000


def _listed_rows(rows_text: str) -> list[list[Any]]:
    """The rows a record's `rows` text lists (AuditRecord.bound_rows), parsed once per text; read, never changed."""
    found = _PARSED_ROWS.get(rows_text)
    if found is None:
        found = listed_rows(rows_text)
        if len(_PARSED_ROWS) >= _KEPT_LIMIT:
            _PARSED_ROWS.clear()
        _PARSED_ROWS[rows_text] = found
    return found


def _sealed_by(record: AuditRecord, sealer: RecordSealer) -> bool:
    """Whether the record's hash is that of its fields and its seal that of this audit key; a record found so
    before, every field the same (value and type) and under the same key object, is not hashed again."""
    values = tuple(record.__dict__.values())
    kept = (id(sealer), sealer.key_id, values, tuple(map(type, values)))
    if _SEALED_RECORDS.get(kept) is sealer:
        return True
    if record.expected_hash() != record.hash or record.mac is None or record.mac != sealer.mac(record.hash):
        return False
    if len(_SEALED_RECORDS) >= _KEPT_LIMIT:
        _SEALED_RECORDS.clear()
    _SEALED_RECORDS[kept] = sealer
    return True


TIMER_ROWS = "timer_rows"
"""The key of a record's detail that lists the timers its change wrote: [[id, digest, {field: short digest},
inserted], ...] (inserted: the change scheduled it, rather than moved, settled or cancelled it).

Timers are not among the tables `audit verify` holds (`BOUND_TABLES`): were they, every timer pending
when they joined would be named as added outside the engine, and the mark of older rows that would
spare them is pinned by the signed checkpoints. So the record lists them in its detail, sealed with
it, and the engine holds a timer to that listing before it fires it (`timer_row_problem`)."""


def timer_row_problem(row: RowSeal, records: Sequence[AuditRecord], *, sealer: RecordSealer,
                      sealed_from: Callable[[], int | None]) -> str | None:
    """Return what is wrong with a timer row about to fire, against the newest of `records` that lists it, or None.

    Args:
        row: the timer's row as it is now, sealed.
        records: the records of the timer's case's chain that list timers, newest first.
        sealed_from: the smallest id of a timer scheduled under a sealed listing (None: none was yet). A
            timer below it that no record lists was scheduled before timers were listed, and nothing
            vouches for it; it is let be, as rows from before binding are.
    """
    for record in records:
        listed = _timer_listing(record, row.key)
        if listed is None:
            continue
        problem = _writer_seal_problem(record, sealer)
        if problem is not None:
            return problem
        return _listed_digest_problem(row, listed[1], listed[2], record)
    first = sealed_from()
    if isinstance(row.key, int) and 1 <= row.key and (first is None or row.key < first):
        return None
    return f"was added to the database outside the engine: no audit record of case {row.case_id} wrote it"


SLA_CLOCK_ROW = "sla_clock_row"
"""The key of a record's detail that gives its case's SLA clock row (`sla_clocks`: the business seconds paused, and
since when it stands) as the change left it: [digest, {field: short digest}]; null in a case's first record, which
says the case has no such row yet.

The row moves a case's SLA due times and its timers, and the SLA reports read it: paused seconds added in SQL would
hide a breach, and the engine's next move would write due times that look right. It is not bound (`BOUND_TABLES`)
for the reason timers are not: rows from before would be named. So the record lists it in its detail, and the
engine holds the row to the newest record of its case that gives one before it runs a case's clock by it
(`clock_row_problem`). A case whose records give none started before clocks were listed: nothing vouches for its
row, and it is let be, as rows from before binding are. A row deleted in SQL is not looked for: the clock then
counts the pause as worked time, which hides no breach."""


def clock_row_problem(row: RowSeal, records: Sequence[AuditRecord], *, sealer: RecordSealer) -> str | None:
    """Return what is wrong with a case's SLA clock row, against the newest of `records` that gives one, or None.

    Args:
        row: the `sla_clocks` row as it is now, sealed.
        records: the records of the row's case's chain that may give its clock row, newest first.
    """
    for record in records:
        try:
            detail = json.loads(record.detail)
        except ValueError:
            continue
        if not isinstance(detail, dict) or SLA_CLOCK_ROW not in detail:
            continue
        problem = _writer_seal_problem(record, sealer)
        if problem is not None:
            return problem
        listed = detail[SLA_CLOCK_ROW]
        if not isinstance(listed, list) or len(listed) != 2:
            return f"was added to the database outside the engine: no audit record of case {row.case_id} wrote it"
        return _listed_digest_problem(row, listed[0], listed[1], record)
    return None


def _listed_digest_problem(row: RowSeal, digest: Any, fields: Any, record: AuditRecord) -> str | None:
    """What differs between a row as it is now and as a record lists it (its digest and per-field digests), or None."""
    if row.digest == digest:
        return None
    changed = changed_fields(fields if isinstance(fields, dict) else {}, row.fields)
    what = ", ".join(f"field {name} {how}" for name, how in changed) or "its fields changed"
    return (f"was changed in the database outside the engine: {what} (not as case {record.case_id} "
            f"record #{record.seq} (id {record.id}) wrote it)")


def first_sealed_timer(records: Sequence[AuditRecord], *, sealer: RecordSealer) -> int | None:
    """Return the smallest id of a timer scheduled (inserted) by the first of `records` (oldest first) that
    scheduled one under this database's seal. A timer from before, settled or moved since, is listed too, not
    as inserted: it does not count, or the older timers still pending would be taken for forged ones."""
    for record in records:
        listing = _timer_listings(record)
        ids = [listed[0] for listed in listing if isinstance(listed[0], int) and len(listed) > 3 and listed[3] is True]
        if ids and _writer_seal_problem(record, sealer) is None:
            return min(ids)
    return None


def _named(record: AuditRecord) -> str:
    owner = "system" if record.case_id is None else f"case {record.case_id}"
    return f"{owner} record #{record.seq} (id {record.id})"


def _writer_seal_problem(writer: AuditRecord, sealer: RecordSealer) -> str | None:
    """What is wrong with the record that vouches for a row (its key, its seal), or None."""
    by = _named(writer)
    if writer.key_id != sealer.key_id:
        # Most often this process reads another key than the engine that wrote (a misconfiguration).
        return (f"is vouched for by {by}, sealed by audit key {writer.key_id}, not by the key this process reads "
                f"({sealer.key_id}): set BACKOFFICE_AUDIT_KEY to the database's key file (or the record was forged)")
    if not _sealed_by(writer, sealer):
        return f"is vouched for by {by}, which is not sealed by this database's audit key (forged or altered)"
    return None


def _timer_listings(record: AuditRecord) -> list[list[Any]]:
    try:
        detail = json.loads(record.detail)
    except ValueError:
        return []
    listing = detail.get(TIMER_ROWS) if isinstance(detail, dict) else None
    return [listed for listed in listing if isinstance(listed, list) and len(listed) in (3, 4)] \
        if isinstance(listing, list) else []


def _timer_listing(record: AuditRecord, key: Any) -> list[Any] | None:
    return next((listed for listed in _timer_listings(record) if listed[0] == key), None)
