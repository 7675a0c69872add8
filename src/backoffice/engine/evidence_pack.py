"""Evidence packs: one case's proof, in one file an auditor checks offline, without the database or the key.

    pack = export_pack(store, case_id=42, now=now)          # signs a checkpoint first
    report = verify_pack(pack, public_key=published_key)    # anywhere, later

A pack holds the case's audit records (its whole chain), its bound rows as they are (the case,
its events, tasks, votes, evidence and exceptions), the signed statement of a checkpoint taken
at export, and the Merkle path from the case's chain head to that statement's root. Checking
it needs only sha256 and the audit key's public half: the records link, the chain's last record
is the head the checkpoint signed, and each row is as the latest record that wrote it says.

Who signed is proven by the public key: give the one your organisation published
(`backoffice audit key`) to `verify_pack`; without it the report names the key that signed, to
compare by hand.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backoffice.engine.audit import GENESIS, AuditRecord, RowSeal, canonical_json, chain_of, seal_row
from backoffice.engine.audit_keys import AuditKey, PublicKey
from backoffice.engine.audit_verify import AuditSource, audit_defaults, checkpoint, verify_case
from backoffice.engine.checkpoints import CheckpointStore, leaf_hash, root_from_proof
from backoffice.errors import AuditTrailBroken, UnknownCase

FORMAT = "backoffice-evidence-pack/1"


def export_pack(store: AuditSource, case_id: int, *, now: datetime, key: AuditKey | None = None,
                checkpoints: CheckpointStore | None = None) -> dict[str, Any]:
    """Return the evidence pack of one case, after signing a checkpoint that covers its chain.

    Raises:
        UnknownCase: the case has no audit records.
        AuditTrailBroken: the case's chain or rows do not verify (nothing is exported).
        TrailWentBack: the trail went back since the last checkpoint (no checkpoint is signed).
    """
    key, checkpoints = audit_defaults(store, key, checkpoints)
    signed = checkpoint(store, now=now, key=key, checkpoints=checkpoints)
    chain = chain_of(case_id)
    if chain not in signed.heads:
        raise UnknownCase(case_id)
    seq, _ = signed.heads[chain]
    records = [record for record in store.audit_chain_records([chain]) if record.seq <= seq]
    rows = store.bound_rows([case_id])
    problems = verify_case(store, case_id, records, rows, key=key, signed=signed.heads.get(chain))
    if problems:
        raise AuditTrailBroken([str(problem) for problem in problems])
    return {
        "format": FORMAT,
        "case_id": case_id,
        "chain": chain,
        "exported_at": now.isoformat(),
        "records": [record.as_json() for record in records],
        "rows": [{"table": row.table, "key": row.key, "case_id": row.case_id, "values": row_values}
                 for row, row_values in _row_values(rows)],
        "checkpoint": {"statement": signed.statement(), "public_key": signed.public_key,
                       "signature": signed.signature},
        "proof": signed.proof(chain),
    }


def pack_text(pack: Mapping[str, Any]) -> str:
    """Return a pack as the file holds it: the same bytes from the command line and over HTTP."""
    return json.dumps(pack, indent=1, ensure_ascii=False) + "\n"


def _row_values(rows: Sequence[RowSeal]) -> list[tuple[RowSeal, dict[str, Any]]]:
    # The values as the digests saw them (times as canonical text): the same digest comes out of the pack.
    return [(row, json.loads(canonical_json(row.values))) for row in rows]


@dataclass(frozen=True)
class PackReport:
    """The result of `verify_pack`: ok, or every problem found, the first one first."""

    case_id: Any
    records: int
    rows: int
    key_id: str | None
    checkpoint_number: Any
    key_pinned: bool
    problems: Sequence[str]

    @property
    def ok(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        signer = (f"signed by the key you gave ({self.key_id})" if self.key_pinned else
                  f"signed by key {self.key_id}: compare it with your organisation's published audit key "
                  f"(backoffice audit key), or give it with --public-key")
        if self.ok:
            return (f"evidence pack ok: case {self.case_id}, {self.records} records, {self.rows} rows, "
                    f"checkpoint {self.checkpoint_number} {signer}")
        lines = [f"evidence pack broken: {self.problems[0]}"] + [f"  also: {p}" for p in self.problems[1:20]]
        return "\n".join(lines)


def verify_pack(pack: Mapping[str, Any], *, public_key: PublicKey | None = None) -> PackReport:
    """Check an evidence pack offline: the signature, the chain, the path to the signed root, and every row.

    Raises:
        ValueError, KeyError, TypeError: it is not an evidence pack at all (the caller names the file).
    """
    if pack.get("format") != FORMAT:
        raise ValueError(f"format {pack.get('format')!r} is not {FORMAT}")
    problems: list[str] = []
    signed = pack["checkpoint"]
    statement = dict(signed["statement"])
    signer = PublicKey.from_text(signed["public_key"])
    if public_key is not None and public_key.raw != signer.raw:
        problems.append(f"the checkpoint is signed by key {signer.key_id}, not by the key you gave ({public_key.key_id})")
    if statement.get("key_id") != signer.key_id:
        problems.append(f"the checkpoint names key {statement.get('key_id')}, but carries key {signer.key_id}")
    if not signer.verifies(base64.b64decode(signed["signature"]), canonical_json(statement).encode("utf-8")):
        problems.append(f"checkpoint {statement.get('number')}'s signature does not match its statement: "
                        f"the statement was edited")
    chain = str(pack["chain"])
    records = [AuditRecord.from_json(value) for value in pack["records"]]
    problems += _chain_problems(chain, records, statement, pack.get("proof") or [])
    rows = {(row["table"], row["key"]): seal_row(row["table"], row["key"], row["values"], case_id=row["case_id"])
            for row in pack["rows"]}
    latest: dict[tuple[str, Any], tuple[AuditRecord, list[Any]]] = {}
    for record in records:
        for listed in record.bound_rows():
            latest[(listed[0], listed[1])] = (record, listed)
    for (table, key), (record, listed) in latest.items():
        row = rows.get((table, key))
        if row is None:
            problems.append(f"{table} row {key} is missing from the pack (record #{record.seq} wrote it)")
        elif row.digest != listed[2]:
            changed = [name for name in sorted(set(listed[3]) | set(row.fields))
                       if listed[3].get(name) != row.fields.get(name)]
            problems.append(f"{table} row {key} is not as record #{record.seq} wrote it: "
                            f"{', '.join('field ' + name for name in changed) or 'its fields'} changed")
    problems += [f"{table} row {key} is in the pack but no record wrote it" for table, key in rows if (table, key) not in latest]
    return PackReport(pack.get("case_id"), len(records), len(rows), signer.key_id, statement.get("number"),
                      public_key is not None, problems)


def _chain_problems(chain: str, records: Sequence[AuditRecord], statement: Mapping[str, Any],
                    proof: Sequence[Sequence[str]]) -> list[str]:
    previous_hash, expected = GENESIS, 1
    for record in records:
        where = f"record #{record.seq}"
        if record.chain != chain:
            return [f"{where} belongs to {record.chain}, not {chain}"]
        if record.seq != expected:
            return [f"record #{expected} is missing from the pack (the next is #{record.seq})"]
        if record.prev_hash != previous_hash:
            return [f"{where}'s link to the record before it was changed"]
        if record.expected_hash() != record.hash:
            return [f"{where} was altered: its content no longer matches its hash"]
        previous_hash, expected = record.hash, expected + 1
    if not records:
        return ["the pack holds no records"]
    last = records[-1]
    if root_from_proof(leaf_hash(chain, last.seq, last.hash), proof) != statement.get("root"):
        return [f"the chain's last record (#{last.seq}) is not the head the signed checkpoint holds: records were "
                f"added, removed or re-hashed"]
    return []
