"""Verify the audit trail against the audit key and the latest signed checkpoint, and name what was touched.

    report = verify(store, key=AuditKey.load(path), checkpoints=CheckpointStore(folder))
    print(report)   # "audit trail ok: ..." or the first record or row altered, removed or forged

What is checked, chain by chain (the `system` chain, then each case's):
- each record's hash recomputes from its fields, and links to the one before it (sha256);
- each record's seal is the audit key's HMAC of its hash: a record edited and re-hashed with
  plain sha256, or forged and appended, is named here;
- the chain reaches every head the latest checkpoint signed, with the same hash there: records
  cut off the end (with the head moved back) or a whole trail wiped are named here;
- every row the chain's records bound (cases, events, tasks, votes, evidence, exceptions; and on
  the system chain versions, modes and the directory's people, groups, grants, tokens and
  delegations) is as the latest record that wrote it says (or gone, when it removed it), and no
  bound row exists that no record wrote.
Also `checkpoint` (below) refuses to sign a trail that went back since the last checkpoint.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from backoffice.engine.audit import GENESIS, LEGACY_CHAIN, SYSTEM_CHAIN, AuditHead, AuditRecord, RowSeal, chain_of
from backoffice.engine.audit_keys import AuditKey, AuditLocations
from backoffice.engine.checkpoints import Checkpoint, CheckpointStore, sign_checkpoint
from backoffice.engine.sealed_rows import (SLA_CLOCK_ROW, TIMER_ROWS, changed_fields, clock_row_problem,
                                          first_sealed_timer, timer_row_problem)
from backoffice.errors import AuditKeyError, CheckpointStoreError, TrailWentBack

LEGACY_ROWS = "legacy-rows:"
"""Checkpoint heads named `legacy-rows:<table>` pin where the rows written before 0008 end (seq: last id)."""
_WINDOW = 200


class AuditSource(Protocol):
    """What `verify` reads (SqlStore implements it; see backoffice.store.audit_store)."""

    url: str

    def audit_chain_names(self) -> list[str]: ...

    def audit_chain_records(self, chains: Sequence[str]) -> Sequence[AuditRecord]: ...

    def audit_heads(self, chains: Sequence[str] | None = None) -> dict[str, AuditHead]: ...

    def audit_tips(self) -> Sequence[AuditRecord]: ...

    def audit_hashes_at(self, places: Sequence[tuple[str, int]]) -> dict[tuple[str, int], str]: ...

    def bound_rows(self, case_ids: Sequence[int] | None) -> list[RowSeal]: ...

    def unrecorded_case_ids(self) -> list[int]: ...

    def legacy_row_marks(self) -> dict[str, int]: ...

    def pending_timer_rows(self, case_ids: Sequence[int]) -> list[RowSeal]: ...

    def first_timer_listings(self, *, limit: int = 20) -> list[AuditRecord]: ...

    def clock_rows(self, case_ids: Sequence[int]) -> list[RowSeal]: ...


@dataclass(frozen=True)
class AuditProblem:
    """One thing found wrong: in which chain and record, or which row (table, key, field), and what."""

    message: str
    chain: str | None = None
    seq: int | None = None
    record_id: int | None = None
    table: str | None = None
    key: Any = None
    field: str | None = None

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class AuditReport:
    """The result of `verify`: ok, or every problem found, the first one first.

    Attributes:
        records, chains, rows: how many records, chains and bound rows were checked.
        legacy_rows: rows written before rows were bound (revision 0008): nothing vouches for them.
        checkpoint: the signed checkpoint the trail was held to (None: there was none yet).
    """

    problems: Sequence[AuditProblem]
    records: int
    chains: int
    rows: int
    checkpoint: Checkpoint | None = None
    legacy_rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first(self) -> AuditProblem | None:
        return self.problems[0] if self.problems else None

    def __str__(self) -> str:
        anchor = (f"checkpoint {self.checkpoint.number} of {self.checkpoint.at:%Y-%m-%d %H:%M:%S} UTC holds"
                  if self.checkpoint else "no signed checkpoint yet")
        legacy = f", {self.legacy_rows} rows from before binding not covered" if self.legacy_rows else ""
        if self.ok:
            return (f"audit trail ok: {self.records} records in {self.chains} chains, {self.rows} rows bound"
                    f"{legacy}; {anchor}")
        lines = [f"audit trail broken: {self.problems[0]}"]
        lines += [f"  also: {problem}" for problem in self.problems[1:20]]
        if len(self.problems) > 20:
            lines.append(f"  and {len(self.problems) - 20} more")
        lines.append(f"({self.records} records in {self.chains} chains checked; {anchor})")
        return "\n".join(lines)


def verify(store: AuditSource, *, key: AuditKey | None = None, checkpoints: CheckpointStore | None = None
           ) -> AuditReport:
    """Check every chain, every bound row and the latest checkpoint; return what was found.

    `key` and `checkpoints` default to the database's (see `backoffice.engine.audit_keys`).

    Raises:
        AuditKeyError: the audit key cannot be read (or created).
        CheckpointStoreError: the checkpoint folder or its latest file cannot be read.
    """
    key, checkpoints = audit_defaults(store, key, checkpoints, create=False)
    problems: list[AuditProblem] = []
    checkpoint = checkpoints.latest()
    signed: Mapping[str, tuple[int, str]] = {}
    held_to: Checkpoint | None = None
    if checkpoint is not None:
        if not checkpoint.signed_by(key.public):
            problems.append(AuditProblem(
                f"checkpoint {checkpoint.number} in {checkpoints.folder} is not signed by this audit key "
                f"({key.key_id}): the trail cannot be held to it"))
        else:
            signed, held_to = checkpoint.heads, checkpoint
    marks = store.legacy_row_marks()
    problems += _check_legacy_marks(marks, signed)
    names = set(store.audit_chain_names()) | {name for name in signed if not name.startswith(LEGACY_ROWS)}
    names |= {chain_of(case_id) for case_id in store.unrecorded_case_ids()}
    names.add(SYSTEM_CHAIN)  # its window reads the rows of no case: a forged one is found without records too
    ordered = sorted(names, key=_chain_order)
    records = rows = legacy = 0
    timers_sealed_from = functools.cache(lambda: first_sealed_timer(store.first_timer_listings(), sealer=key))
    for start in range(0, len(ordered), _WINDOW):
        window = ordered[start:start + _WINDOW]
        by_chain: dict[str, list[AuditRecord]] = {name: [] for name in window}
        for record in store.audit_chain_records(window):
            by_chain[record.chain].append(record)
        heads = store.audit_heads(window)
        case_ids = [case_id for name in window if (case_id := _case_of(name)) is not None]
        current = {(row.table, row.key): row for row in store.bound_rows(case_ids)} if case_ids else {}
        if SYSTEM_CHAIN in window:
            current.update({(row.table, row.key): row for row in store.bound_rows(None)})
        for name in window:
            chain_records = by_chain[name]
            records += len(chain_records)
            problems += _check_chain(name, chain_records, key, signed.get(name), heads.get(name),
                                     anchored=held_to is not None)
        found, legacy_here = _check_rows(_bindings(by_chain.values()), current, marks)
        problems += found
        if case_ids:
            problems += _check_pending_timers(store.pending_timer_rows(case_ids), by_chain, key, timers_sealed_from)
            problems += _check_clock_rows(store.clock_rows(case_ids), by_chain, key)
        rows += len(current) - legacy_here
        legacy += legacy_here
    return AuditReport(problems, records, len(ordered), rows, held_to, legacy)


def verify_case(store: AuditSource, case_id: int, records: Sequence[AuditRecord], rows: Sequence[RowSeal], *,
                key: AuditKey, signed: tuple[int, str] | None) -> list[AuditProblem]:
    """Check one case as `verify` checks it: its chain's `records`, its bound `rows`, its pending timers and its SLA
    clock.

    The case page and the evidence pack read this, so a timer or a clock row edited in SQL is named there as the
    engine would refuse it, not only by `audit verify`.
    """
    chain = chain_of(case_id)
    problems = _check_chain(chain, records, key, signed, None)
    found, _ = _check_rows(_bindings([records]), {(row.table, row.key): row for row in rows}, {})
    problems += found
    by_chain = {chain: list(records)}
    sealed_from = functools.cache(lambda: first_sealed_timer(store.first_timer_listings(), sealer=key))
    problems += _check_pending_timers(store.pending_timer_rows([case_id]), by_chain, key, sealed_from)
    return problems + _check_clock_rows(store.clock_rows([case_id]), by_chain, key)


def _bindings(chains: Iterable[Sequence[AuditRecord]]) -> dict[tuple[str, Any], tuple[AuditRecord, list[Any]]]:
    """Return, per row, the latest record that lists it (records in chain order) and its listing."""
    bindings: dict[tuple[str, Any], tuple[AuditRecord, list[Any]]] = {}
    for records in chains:
        for record in records:
            if record.chain == LEGACY_CHAIN:
                continue  # it binds nothing (a legacy record that lists rows is named as forged)
            for listed in record.bound_rows():
                bindings[(listed[0], listed[1])] = (record, listed)
    return bindings


def checkpoint(store: AuditSource, *, now: datetime, key: AuditKey | None = None,
               checkpoints: CheckpointStore | None = None) -> Checkpoint:
    """Sign the heads of every chain into a new checkpoint and add it to the store; return it.

    Nothing is signed over a trail that went back: a chain shorter than the last checkpoint saw,
    another record where it saw one, or a head whose record the audit key did not seal.

    Raises:
        TrailWentBack: what went back (run `verify` to see all of it).
        CheckpointStoreError: the folder cannot be written.
    """
    key, checkpoints = audit_defaults(store, key, checkpoints)
    previous = checkpoints.latest()
    if previous is not None and not previous.signed_by(key.public):
        raise CheckpointStoreError(checkpoints.folder, f"checkpoint {previous.number} is not signed by this audit key "
                                                       f"({key.key_id})")
    tips = {record.chain: record for record in store.audit_tips()}
    seen = previous.heads if previous is not None else {}
    problems: list[str] = []
    for record in tips.values():
        if seen.get(record.chain) == (record.seq, record.hash):
            continue  # unchanged since it was signed
        if record.chain == LEGACY_CHAIN and previous is not None:
            problems.append(f"the legacy chain ends at #{record.seq}, checkpoint {previous.number} saw "
                            f"#{seen.get(record.chain, (0, ''))[0]}: nothing writes to it any more")
            continue
        if record.expected_hash() != record.hash or (record.chain != LEGACY_CHAIN and record.mac != key.mac(record.hash)):
            problems.append(f"the last record of {record.chain} (#{record.seq}) is not sealed by this audit key")
    earlier = [(chain, seq) for chain, (seq, _) in seen.items() if not chain.startswith(LEGACY_ROWS)
               and chain in tips and tips[chain].seq > seq]
    hashes = store.audit_hashes_at(earlier)
    for chain, (seq, hash_) in seen.items():
        if chain.startswith(LEGACY_ROWS):
            continue
        tip = tips.get(chain)
        if tip is None or tip.seq < seq:
            problems.append(f"{chain} ends at #{tip.seq if tip else 0}, checkpoint {previous.number} saw #{seq}")
        elif (tip.hash if tip.seq == seq else hashes.get((chain, seq))) != hash_:
            problems.append(f"{chain} holds another record #{seq} than checkpoint {previous.number} saw")
    marks = store.legacy_row_marks()
    problems += [str(problem) for problem in _check_legacy_marks(marks, seen)]
    if problems:
        raise TrailWentBack(problems)
    heads = [AuditHead(record.seq, record.hash, record.chain) for record in tips.values()]
    heads += [AuditHead(last, GENESIS, f"{LEGACY_ROWS}{table}") for table, last in marks.items()]
    signed = sign_checkpoint(key, heads, number=(previous.number + 1) if previous else 1, at=now,
                             database=store.url, previous=previous)
    checkpoints.add(signed)
    return signed


def audit_defaults(store: AuditSource, key: AuditKey | None, checkpoints: CheckpointStore | None, *,
                   create: bool = True) -> tuple[AuditKey, CheckpointStore]:
    """Return the key and checkpoint store given, or else the database's (see audit_keys).

    Raises:
        AuditKeyError: the key cannot be read; or (create=False) there is none though the trail or the
            checkpoints show one was used: a new key would call every record forged.
    """
    locations = AuditLocations.for_database(store.url)
    checkpoints = checkpoints or CheckpointStore(locations.checkpoints)
    if key is not None:
        return key, checkpoints
    try:
        return AuditKey.load(locations.key), checkpoints
    except FileNotFoundError:
        sealed = [name for name in store.audit_chain_names() if name != LEGACY_CHAIN]
        if not create and (sealed or checkpoints.numbers()):
            raise AuditKeyError(locations.key, "there is no audit key here, yet the trail was sealed with one") \
                from None
    return AuditKey.load_or_create(locations.key), checkpoints


def _check_chain(name: str, records: Sequence[AuditRecord], key: AuditKey, signed: tuple[int, str] | None,
                 head: AuditHead | None, *, anchored: bool = False) -> list[AuditProblem]:
    label = _label(name)
    problems: list[AuditProblem] = []
    previous: AuditRecord | None = None
    for record in records:
        found = _check_record(label, record, previous, key)
        if found is not None:
            return [found]  # the rest of a broken chain proves nothing more
        previous = record
    last_seq, last_hash = (previous.seq, previous.hash) if previous else (0, GENESIS)
    if name == LEGACY_CHAIN and anchored and last_seq > (signed[0] if signed else 0):
        # Nothing writes to the legacy chain after 0008, and its records carry no seal: any it gained
        # after a checkpoint were forged by hand.
        first = (signed[0] if signed else 0) + 1
        forged = next(record for record in records if record.seq == first)
        return [AuditProblem(f"{label}, record #{first} (id {forged.id}) was forged: the legacy chain never grows, "
                             f"and the signed checkpoint saw it {'end at #' + str(signed[0]) if signed else 'absent'}",
                             chain=name, seq=first, record_id=forged.id)]
    if signed is not None:
        seq, hash_ = signed
        if last_seq < seq:
            if last_seq == 0:
                what = f"the whole trail of {label} (#1 to #{seq}) was removed"
            elif last_seq + 1 == seq:
                what = f"record #{seq} of {label} was removed"
            else:
                what = f"records #{last_seq + 1} to #{seq} of {label} were removed"
            problems.append(AuditProblem(f"{what}: the signed checkpoint saw {label} up to #{seq}",
                                         chain=name, seq=last_seq + 1))
        else:
            at_signed = next(record for record in records if record.seq == seq)
            if at_signed.hash != hash_:
                problems.append(AuditProblem(
                    f"{label}, record #{seq} (id {at_signed.id}) is not the record the signed checkpoint saw there: "
                    f"the chain was rewritten", chain=name, seq=seq, record_id=at_signed.id))
    if head is not None and (head.seq, head.hash) != (last_seq, last_hash) and not problems:
        problems.append(AuditProblem(
            f"{label}: the chain head says #{head.seq}, its records end at #{last_seq}: the head was moved",
            chain=name, seq=min(head.seq, last_seq) + 1))
    return problems


def _check_record(label: str, record: AuditRecord, previous: AuditRecord | None,
                  key: AuditKey) -> AuditProblem | None:
    expected_seq = previous.seq + 1 if previous else 1
    where = f"{label}, record #{record.seq} (id {record.id})"

    def problem(message: str, seq: int | None = None, record_id: int | None = None) -> AuditProblem:
        return AuditProblem(message, chain=record.chain, seq=seq or record.seq, record_id=record_id or record.id)

    if record.seq != expected_seq:
        return problem(f"{label}, record #{expected_seq} is missing (the next record is #{record.seq})",
                       seq=expected_seq)
    if record.chain != LEGACY_CHAIN and record.chain != chain_of(record.case_id):
        return problem(f"{where} was altered: it names case {record.case_id} but sits in {label}")
    intact = record.hash == record.expected_hash()
    if record.prev_hash != (previous.hash if previous else GENESIS):
        if intact and previous is not None:
            return problem(f"{label}, record #{previous.seq} (id {previous.id}) was altered: its hash is not the one "
                           f"record #{record.seq} was chained to", seq=previous.seq, record_id=previous.id)
        return problem(f"{where} was altered: its link to the previous record was changed")
    if not intact:
        return problem(f"{where} was altered: its content no longer matches its hash")
    if record.chain == LEGACY_CHAIN:
        if record.bound_rows() or record.key_id is not None or record.mac is not None:
            return problem(f"{where} was forged: a record of the legacy chain binds no rows and carries no seal")
        return None  # written before records were sealed; anchored by the checkpoints only
    if record.key_id != key.key_id:
        return problem(f"{where} is sealed by audit key {record.key_id}, not by this one ({key.key_id}): forged, "
                       f"or written by an engine with another key (BACKOFFICE_AUDIT_KEY)")
    if record.mac != key.mac(record.hash):
        return problem(f"{where} was forged or re-hashed: its seal does not match (it was written without the "
                       f"audit key)")
    return None


def _check_rows(bindings: Mapping[tuple[str, Any], tuple[AuditRecord, list[Any]]],
                current: Mapping[tuple[str, Any], RowSeal], marks: Mapping[str, int]) -> tuple[list[AuditProblem], int]:
    problems: list[AuditProblem] = []
    legacy = 0
    for (table, row_key), (record, listed) in sorted(bindings.items(), key=_row_order):
        by = f"{_label(record.chain)}, record #{record.seq} (id {record.id})"
        row = current.get((table, row_key))
        if listed[2] is None:
            # The engine deleted it (a grant revoked, a member removed): it must stay gone.
            if row is not None:
                problems.append(AuditProblem(f"{table} row {row_key} was put back outside the engine ({by} removed "
                                             f"it)", chain=record.chain, seq=record.seq, record_id=record.id,
                                             table=table, key=row_key))
        elif row is None:
            problems.append(AuditProblem(f"{table} row {row_key} was removed outside the engine ({by} wrote it)",
                                         chain=record.chain, seq=record.seq, record_id=record.id, table=table,
                                         key=row_key))
        elif row.digest != listed[2]:
            fields = changed_fields(listed[3] if isinstance(listed[3], dict) else {}, row.fields)
            what = ", ".join(f"field {name} {how}" for name, how in fields) or "its fields"
            problems.append(AuditProblem(f"{table} row {row_key} was changed outside the engine: {what} "
                                         f"(not as {by} wrote it)", chain=record.chain, seq=record.seq,
                                         record_id=record.id, table=table, key=row_key,
                                         field=fields[0][0] if fields else None))
    for (table, row_key), row in sorted(current.items(), key=_row_order):
        if (table, row_key) in bindings:
            continue
        if isinstance(row_key, int) and row_key <= marks.get(table, 0):
            legacy += 1
            continue
        case = f" of case {row.case_id}" if row.case_id is not None else ""
        problems.append(AuditProblem(f"{table} row {row_key}{case} was added outside the engine: no audit record wrote it",
                                     chain=chain_of(row.case_id), table=table, key=row_key))
    return problems, legacy


def _check_pending_timers(timers: Sequence[RowSeal], by_chain: Mapping[str, Sequence[AuditRecord]], key: AuditKey,
                          sealed_from: Callable[[], int | None]) -> list[AuditProblem]:
    # Pending timers are not bound rows (see sealed_rows.TIMER_ROWS): each is held, as `fire_timers` holds it, to
    # the newest record of its case that lists it, so a timer the engine refuses to fire is named here too.
    return _check_listed(timers, by_chain, TIMER_ROWS,
                         lambda timer, records: timer_row_problem(timer, records, sealer=key, sealed_from=sealed_from))


def _check_clock_rows(clocks: Sequence[RowSeal], by_chain: Mapping[str, Sequence[AuditRecord]],
                      key: AuditKey) -> list[AuditProblem]:
    # SLA clock rows are not bound rows either (see sealed_rows.SLA_CLOCK_ROW): each is held, as the engine holds it
    # before it runs the case's clock, to the newest record of its case that gives it.
    return _check_listed(clocks, by_chain, SLA_CLOCK_ROW,
                         lambda clock, records: clock_row_problem(clock, records, sealer=key))


def _check_listed(rows: Sequence[RowSeal], by_chain: Mapping[str, Sequence[AuditRecord]], detail_key: str,
                  problem_of: Callable[[RowSeal, list[AuditRecord]], str | None]) -> list[AuditProblem]:
    """Name each row, listed in its case's records' detail under `detail_key`, that is not as they give it."""
    problems = []
    for row in rows:
        chain = chain_of(row.case_id)
        records = [record for record in reversed(by_chain.get(chain, ())) if detail_key in record.detail]
        problem = problem_of(row, records)
        if problem is not None:
            problems.append(AuditProblem(f"{row.table} row {row.key} of case {row.case_id} {problem}", chain=chain,
                                         table=row.table, key=row.key))
    return problems


def _check_legacy_marks(marks: Mapping[str, int], signed: Mapping[str, tuple[int, str]]) -> list[AuditProblem]:
    pinned = {name[len(LEGACY_ROWS):]: seq for name, (seq, _) in signed.items() if name.startswith(LEGACY_ROWS)}
    if not signed:
        return []
    return [AuditProblem(f"the mark of {table} rows written before binding says {marks.get(table, 0)}, the signed "
                         f"checkpoint saw {pinned.get(table, 0)}: it was moved", table=table)
            for table in sorted(set(marks) | set(pinned)) if marks.get(table, 0) != pinned.get(table, 0)]


def _case_of(chain: str) -> int | None:
    if chain.startswith("case:"):
        try:
            return int(chain[5:])
        except ValueError:
            return None
    return None


def _chain_order(chain: str) -> tuple[int, int, str]:
    case_id = _case_of(chain)
    if case_id is not None:
        return (2, case_id, "")
    return (0 if chain == SYSTEM_CHAIN else 1, 0, chain)


def _row_order(item: tuple[tuple[str, Any], Any]) -> tuple[str, str]:
    (table, row_key), _ = item
    return (table, f"{row_key:020d}" if isinstance(row_key, int) else str(row_key))


def _label(chain: str) -> str:
    case_id = _case_of(chain)
    return f"case {case_id}" if case_id is not None else f"the {chain} chain"
