"""Audit commands: `audit verify [--pack FILE]`, `audit checkpoint`, `audit export CASE -o FILE`, `audit key`.

Exit status: 0 when the trail (or pack) verifies, 1 when something was altered, removed or
forged (the message names the first), 2 for a mistake in what was asked (a file that cannot be
read, a key that is not one).
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from backoffice.cli.engine_commands import Db, console
from backoffice.errors import AuditTrailBroken, BadOption, EvidencePackError, TrailWentBack

audit_app = typer.Typer(help="Prove who did what: the sealed audit trail, its signed checkpoints and evidence packs.",
                        no_args_is_help=True)
_errors = Console(stderr=True, highlight=False, soft_wrap=True)


def _store(db: str):
    # An existing database only: a mistyped path must not verify as a new, empty and "intact" trail.
    from backoffice.errors import DatabaseUnavailable
    from backoffice.store.connect import database_url, shown
    from backoffice.store.event_log import open_existing
    store = open_existing(db)
    if store is None:
        raise DatabaseUnavailable(shown(database_url(db)), "it holds no engine tables (nothing was ever deployed)")
    return store


def _broken(message: str) -> None:
    _errors.print(f"[bold red]{message}[/bold red]")
    raise typer.Exit(code=1)


@audit_app.command("verify")
def audit_verify(
    db: Db = "backoffice.db",
    pack: Annotated[Optional[Path], typer.Option("--pack", help="Check this evidence pack offline instead (no "
                                                 "database, no key needed).")] = None,
    public_key: Annotated[Optional[str], typer.Option(
        "--public-key", help="With --pack: the audit key's public half the pack must be signed by (base64, or "
                             "@file), as `backoffice audit key` prints it.")] = None,
) -> None:
    """Check the trail against the audit key and the latest signed checkpoint; then sign a new checkpoint.

    Exits 1 naming the first record or row altered, removed or forged; no checkpoint is signed then.
    """
    if pack is not None:
        _verify_pack(pack, public_key)
        return
    from backoffice.engine.audit_verify import checkpoint, verify
    with _store(db) as store:
        report = verify(store)
        if not report.ok:
            _broken(str(report))
        console.print(str(report))
        try:
            signed = checkpoint(store, now=datetime.now(timezone.utc))
        except TrailWentBack as exc:  # written to between the check and now: say so, do not sign
            _broken(str(exc))
        console.print(f"signed checkpoint {signed.number}: {len(signed.heads)} chains, root {signed.root[:16]}...")


def _verify_pack(path: Path, public_key: str | None) -> None:
    from backoffice.engine.audit_keys import PublicKey
    from backoffice.engine.evidence_pack import verify_pack
    pinned = None
    if public_key is not None:
        text = public_key
        if text.startswith("@"):
            try:
                text = Path(text[1:]).read_text(encoding="utf-8")
            except OSError as exc:
                raise BadOption("--public-key", public_key, f"a readable file ({exc.strerror})") from exc
        try:
            pinned = PublicKey.from_text(text.strip().split()[-1])
        except ValueError as exc:
            raise BadOption("--public-key", public_key, "a base64 Ed25519 public key (32 bytes), as "
                                                        "`backoffice audit key` prints it") from exc
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise EvidencePackError(path, f"cannot read the file ({exc.strerror})") from exc
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise EvidencePackError(path, f"not JSON ({type(exc).__name__})") from exc
    try:
        report = verify_pack(data, public_key=pinned)
    except (ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError) as exc:
        raise EvidencePackError(path, f"not an evidence pack ({type(exc).__name__}: {exc})") from exc
    if not report.ok:
        _broken(str(report))
    console.print(str(report))


@audit_app.command("checkpoint")
def audit_checkpoint(db: Db = "backoffice.db") -> None:
    """Sign the heads of every chain into a new checkpoint, in the checkpoint store outside the database."""
    from backoffice.engine.audit_keys import AuditLocations
    from backoffice.engine.audit_verify import checkpoint
    with _store(db) as store:
        try:
            signed = checkpoint(store, now=datetime.now(timezone.utc))
        except TrailWentBack as exc:
            _broken(str(exc))
        folder = AuditLocations.for_database(store.url).checkpoints
    console.print(f"signed checkpoint {signed.number}: {len(signed.heads)} chains, {signed.records} records, "
                  f"root {signed.root[:16]}... in {folder}")


@audit_app.command("export")
def audit_export(
    case_id: Annotated[int, typer.Argument(metavar="CASE", help="The case id.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The evidence pack file to write (JSON).")],
    db: Db = "backoffice.db",
) -> None:
    """Write a case's evidence pack: its records, rows and the signed checkpoint over them, checkable offline."""
    from backoffice.engine.evidence_pack import export_pack, pack_text
    with _store(db) as store:
        try:
            pack = export_pack(store, case_id, now=datetime.now(timezone.utc))
        except (TrailWentBack, AuditTrailBroken) as exc:
            _broken(str(exc))
    text = pack_text(pack)
    temporary = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(output)  # whole or not at all
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise BadOption("--output", str(output), f"a file that can be written ({exc.strerror})") from exc
    console.print(f"wrote {output}: case {case_id}, {len(pack['records'])} records, {len(pack['rows'])} rows, "
                  f"checkpoint {pack['checkpoint']['statement']['number']} signed by key "
                  f"{pack['checkpoint']['statement']['key_id']}")


@audit_app.command("key")
def audit_key(db: Db = "backoffice.db") -> None:
    """Print the audit key's public half (publish it: auditors check packs and checkpoints with it) and where it is."""
    from backoffice.engine.audit_keys import AuditKey, AuditLocations
    with _store(db) as store:
        locations = AuditLocations.for_database(store.url)
    key = AuditKey.load_or_create(locations.key)
    console.print(f"public key {key.public.text()}")
    console.print(f"key id {key.key_id}; private key {locations.key}; checkpoints {locations.checkpoints}")
