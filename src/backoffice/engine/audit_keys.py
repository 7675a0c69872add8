"""The audit key and the checkpoint store: where they live, outside the database, and what the key does.

One Ed25519 private key per database seals the audit trail twice: it signs checkpoints of the
chain heads (anyone with the public key checks them, offline), and an HMAC key derived from it
seals each record (only a holder of the key checks those). Someone who can write to the
database but cannot read this file can neither forge a record nor re-sign the heads.

Where they are, for a database at URL or path U (the key U gives: a name and a hash of U):

    key          $BACKOFFICE_AUDIT_KEY, else <config>/backoffice/audit-keys/<db>.key
    checkpoints  $BACKOFFICE_CHECKPOINTS, else <data>/backoffice/checkpoints/<db>/

<config> is $XDG_CONFIG_HOME or ~/.config, <data> is $XDG_DATA_HOME or ~/.local/share (on
Windows, %APPDATA%). The key is created on first use, readable by its owner only (0600); every
process that writes to the database (the command line, the worker) must read the same key, so
on a server point BACKOFFICE_AUDIT_KEY at one file readable by the engine's account only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from backoffice.engine.audit import mac_of
from backoffice.errors import AuditKeyError

KEY_ENV = "BACKOFFICE_AUDIT_KEY"
CHECKPOINTS_ENV = "BACKOFFICE_CHECKPOINTS"
_MAC_LABEL = b"backoffice audit record seal v1\x00"
_SECRET_LABEL = b"backoffice kept secret digest v1\x00"


@dataclass(frozen=True)
class AuditLocations:
    """Where one database's audit key and checkpoints are."""

    key: Path
    checkpoints: Path

    @classmethod
    def for_database(cls, database: str) -> AuditLocations:
        """Return the locations for a database URL or path: the environment's, else the defaults keyed by it."""
        name = database_key(database)
        key = os.environ.get(KEY_ENV)
        checkpoints = os.environ.get(CHECKPOINTS_ENV)
        return cls(key=Path(key).expanduser() if key else _config_home() / "backoffice" / "audit-keys" / f"{name}.key",
                   checkpoints=Path(checkpoints).expanduser() if checkpoints
                   else _data_home() / "backoffice" / "checkpoints" / name)


def database_key(database: str) -> str:
    """Return a file name for a database: its last name part and 12 hex digits of sha256 over its URL."""
    text = str(database).strip()
    last = re.split(r"[/\\?]", text.rstrip("/").split("://")[-1].split("@")[-1])
    stem = next((part for part in reversed(last) if part), "database")
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", stem)[:40] or "database"
    return f"{stem}-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:12]}"


@dataclass(frozen=True)
class PublicKey:
    """An audit key's public half: checks checkpoint signatures; its id names the key in records."""

    raw: bytes

    @property
    def key_id(self) -> str:
        return key_id_of(self.raw)

    def text(self) -> str:
        return base64.b64encode(self.raw).decode("ascii")

    @classmethod
    def from_text(cls, text: str) -> PublicKey:
        raw = base64.b64decode(text.strip(), validate=True)
        if len(raw) != 32:
            raise ValueError("an Ed25519 public key is 32 bytes")
        return cls(raw)

    def verifies(self, signature: bytes, message: bytes) -> bool:
        """Whether `signature` is this key's signature of `message`."""
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


class AuditKey:
    """The private audit key of one database: seals records (HMAC) and signs checkpoints (Ed25519)."""

    def __init__(self, private: Ed25519PrivateKey, path: Path | None = None) -> None:
        self._private = private
        raw = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                    serialization.NoEncryption())
        # A key of its own for the MACs, so the signing key is never used for two purposes.
        self._mac_key = hashlib.sha256(_MAC_LABEL + raw).digest()
        # And one for digests of secrets held outside the database (a web session's), never a record's.
        self._secret_key = hashlib.sha256(_SECRET_LABEL + raw).digest()
        self.public = PublicKey(private.public_key().public_bytes(serialization.Encoding.Raw,
                                                                  serialization.PublicFormat.Raw))
        self.key_id = self.public.key_id
        self.path = path

    @classmethod
    def generate(cls) -> AuditKey:
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def load_or_create(cls, path: Path) -> AuditKey:
        """Read the key at `path`, or create it there (0600, in a 0700 folder) when there is none.

        Raises:
            AuditKeyError: the file cannot be read or written, is not a private key, or others may read it.
        """
        try:
            return cls.load(path)
        except FileNotFoundError:
            pass
        key = cls.generate()
        pem = key._private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption())
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return cls.load(path)  # another process created it meanwhile: use theirs
        except OSError as exc:
            raise AuditKeyError(path, f"cannot create the audit key ({exc.strerror})") from exc
        with os.fdopen(descriptor, "wb") as file:
            file.write(pem)
            file.flush()
            os.fsync(file.fileno())
        return cls(key._private, path)

    @classmethod
    def load(cls, path: Path) -> AuditKey:
        """Read the key at `path`.

        Raises:
            FileNotFoundError: there is no file.
            AuditKeyError: it cannot be read, is not an Ed25519 private key, or others may read it.
        """
        try:
            info = path.stat()
            data = path.read_bytes()
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise AuditKeyError(path, f"cannot read the audit key ({exc.strerror})") from exc
        if os.name == "posix" and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise AuditKeyError(path, f"the audit key is readable by others (mode {stat.S_IMODE(info.st_mode):o}); "
                                      f"run chmod 600 on it")
        try:
            private = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as exc:
            raise AuditKeyError(path, "not a PEM private key") from exc
        if not isinstance(private, Ed25519PrivateKey):
            raise AuditKeyError(path, "not an Ed25519 private key")
        return cls(private, path)

    def mac(self, record_hash: str) -> str:
        """Return the seal of a record's hash."""
        return mac_of(self._mac_key, record_hash)

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message)

    def secret_digest(self, purpose: str, text: str) -> str:
        """Return the keyed digest (HMAC-SHA256, hex) of a secret and what it proves, for one purpose.

        The database keeps this digest instead of a plain sha256: whoever can write to the database,
        but not read this key, cannot make a row that a secret of their choosing matches.
        """
        return hmac.digest(self._secret_key, f"{purpose}\x00{text}".encode("utf-8"), "sha256").hex()


def key_id_of(public_raw: bytes) -> str:
    """Return a key's id: 16 hex digits of sha256 over its public half."""
    return hashlib.sha256(public_raw).hexdigest()[:16]


def _config_home() -> Path:
    if os.name == "nt" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"])
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")


def _data_home() -> Path:
    if os.name == "nt" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"])
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
