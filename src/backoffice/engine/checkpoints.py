"""Signed checkpoints: the heads of every audit chain, sealed together and kept outside the database.

A checkpoint lists each chain's last sequence number and hash at one moment, folds them into
one Merkle root, and signs a short statement naming that root with the audit key (Ed25519).
It is written to a checkpoint store outside the database (a folder by default, numbered files
never overwritten), so someone who can write to the database but not to that folder cannot
move a chain back (truncate it), re-hash it or wipe it without `verify` finding that the
database holds less than a signed checkpoint saw.

The Merkle root lets one chain be proven without the others: an evidence pack carries its
case's head and the path from it to the signed root (`proof`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from backoffice.engine.audit import AuditHead, canonical_json
from backoffice.engine.audit_keys import AuditKey, PublicKey
from backoffice.errors import CheckpointStoreError

FORMAT = "backoffice-audit-checkpoint/1"
_NAME = re.compile(r"^(\d{8})\.json$")


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement of every chain's head at one moment.

    Attributes:
        number: 1 for the first checkpoint of a database, one more for each after it.
        previous: sha256 of the previous checkpoint's statement (None for the first).
        heads: chain -> (last seq, its hash), every chain with records at `at`.
        root: the Merkle root over the heads; the signature covers it, not the list.
        public_key, signature: the signer's public key and its signature of `statement()`.
    """

    number: int
    at: datetime
    database: str
    previous: str | None
    heads: Mapping[str, tuple[int, str]]
    root: str
    public_key: str
    signature: str

    @property
    def records(self) -> int:
        return sum(seq for seq, _ in self.heads.values())

    @property
    def key_id(self) -> str:
        return PublicKey.from_text(self.public_key).key_id

    def statement(self) -> dict[str, Any]:
        """Return what the signature covers (everything but the heads, which the root covers)."""
        return {"format": FORMAT, "number": self.number, "at": self.at.astimezone(timezone.utc).isoformat(),
                "database": self.database, "previous": self.previous, "chains": len(self.heads),
                "records": self.records, "root": self.root, "key_id": self.key_id}

    def digest(self) -> str:
        """Return sha256 of the statement: what the next checkpoint names as its previous."""
        return hashlib.sha256(canonical_json(self.statement()).encode("utf-8")).hexdigest()

    def signed_by(self, public: PublicKey) -> bool:
        """Whether the statement carries `public`'s valid signature and the root matches the heads."""
        if self.public_key != public.text() or merkle_root(leaves(self.heads)) != self.root:
            return False
        return public.verifies(base64.b64decode(self.signature), canonical_json(self.statement()).encode("utf-8"))

    def proof(self, chain: str) -> list[list[str]]:
        """Return the Merkle path from a chain's head to the root: [side, hash] pairs, leaf first."""
        return merkle_proof(leaves(self.heads), sorted(self.heads).index(chain))

    def as_json(self, *, with_heads: bool = True) -> dict[str, Any]:
        value = {**self.statement(), "public_key": self.public_key, "signature": self.signature}
        if with_heads:
            value["heads"] = [[chain, seq, hash_] for chain, (seq, hash_) in sorted(self.heads.items())]
        return value

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Checkpoint:
        """Read a checkpoint; raises KeyError, TypeError or ValueError when it is not one."""
        if value.get("format") != FORMAT:
            raise ValueError(f"format {value.get('format')!r} is not {FORMAT}")
        heads = {str(chain): (int(seq), str(hash_)) for chain, seq, hash_ in value.get("heads", [])}
        return cls(number=int(value["number"]), at=datetime.fromisoformat(value["at"]),
                   database=str(value["database"]), previous=value["previous"], heads=heads, root=str(value["root"]),
                   public_key=str(value["public_key"]), signature=str(value["signature"]))


def sign_checkpoint(key: AuditKey, heads: Sequence[AuditHead], *, number: int, at: datetime, database: str,
                    previous: Checkpoint | None) -> Checkpoint:
    """Return a checkpoint of these heads, signed with the audit key."""
    by_chain = {head.chain: (head.seq, head.hash) for head in heads if head.seq > 0}
    unsigned = Checkpoint(number=number, at=at.astimezone(timezone.utc), database=database,
                          previous=previous.digest() if previous else None, heads=by_chain,
                          root=merkle_root(leaves(by_chain)), public_key=key.public.text(), signature="")
    signature = key.sign(canonical_json(unsigned.statement()).encode("utf-8"))
    return Checkpoint(**{**unsigned.__dict__, "signature": base64.b64encode(signature).decode("ascii")})


class CheckpointStore:
    """A folder of checkpoints, one file each (00000001.json, ...), never overwritten."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def numbers(self) -> list[int]:
        try:
            names = os.listdir(self.folder)
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise CheckpointStoreError(self.folder, f"cannot list the folder ({exc.strerror})") from exc
        return sorted(int(match[1]) for name in names if (match := _NAME.match(name)))

    def read(self, number: int) -> Checkpoint:
        path = self.folder / f"{number:08d}.json"
        try:
            return Checkpoint.from_json(json.loads(path.read_text(encoding="utf-8")))
        except OSError as exc:
            raise CheckpointStoreError(path, f"cannot read the checkpoint ({exc.strerror})") from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise CheckpointStoreError(path, f"not a checkpoint ({exc})") from exc

    def latest(self) -> Checkpoint | None:
        numbers = self.numbers()
        return self.read(numbers[-1]) if numbers else None

    def add(self, checkpoint: Checkpoint) -> Path:
        """Write a checkpoint as a new file; never replace one (two writers at once: the second fails).

        Raises:
            CheckpointStoreError: the folder cannot be written, or the number is taken already.
        """
        path = self.folder / f"{checkpoint.number:08d}.json"
        text = json.dumps(checkpoint.as_json(), indent=1, ensure_ascii=False) + "\n"
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            temporary = self.folder / f".{checkpoint.number:08d}.{os.getpid()}.tmp"
            with open(temporary, "w", encoding="utf-8") as file:
                file.write(text)
                file.flush()
                os.fsync(file.fileno())
            try:
                os.link(temporary, path)  # fails when the name exists: a checkpoint is never replaced
            finally:
                temporary.unlink()
        except FileExistsError as exc:
            raise CheckpointStoreError(path, "another checkpoint took this number meanwhile") from exc
        except OSError as exc:
            raise CheckpointStoreError(self.folder, f"cannot write a checkpoint ({exc.strerror})") from exc
        return path


# --- the Merkle tree over the heads ---

def leaves(heads: Mapping[str, tuple[int, str]]) -> list[str]:
    """Return the leaf hashes of the heads, in chain-name order."""
    return [leaf_hash(chain, seq, hash_) for chain, (seq, hash_) in sorted(heads.items())]


def leaf_hash(chain: str, seq: int, hash_: str) -> str:
    return hashlib.sha256(b"\x00" + canonical_json([chain, seq, hash_]).encode("utf-8")).hexdigest()


def _node(left: str, right: str) -> str:
    return hashlib.sha256(b"\x01" + bytes.fromhex(left) + bytes.fromhex(right)).hexdigest()


def merkle_root(level: Sequence[str]) -> str:
    """Return the root over leaf hashes; an odd last node goes up a level unchanged."""
    if not level:
        return hashlib.sha256(b"").hexdigest()
    nodes = list(level)
    while len(nodes) > 1:
        nodes = [_node(nodes[i], nodes[i + 1]) if i + 1 < len(nodes) else nodes[i] for i in range(0, len(nodes), 2)]
    return nodes[0]


def merkle_proof(level: Sequence[str], index: int) -> list[list[str]]:
    """Return the sibling hashes from leaf `index` up to the root: ["L", hash] when the sibling is on the left."""
    proof: list[list[str]] = []
    nodes = list(level)
    while len(nodes) > 1:
        sibling = index ^ 1
        if sibling < len(nodes):
            proof.append(["L" if sibling < index else "R", nodes[sibling]])
        nodes = [_node(nodes[i], nodes[i + 1]) if i + 1 < len(nodes) else nodes[i] for i in range(0, len(nodes), 2)]
        index //= 2
    return proof


def root_from_proof(leaf: str, proof: Sequence[Sequence[str]]) -> str:
    """Return the root a leaf and its path lead to."""
    node = leaf
    for side, sibling in proof:
        node = _node(sibling, node) if side == "L" else _node(node, sibling)
    return node
