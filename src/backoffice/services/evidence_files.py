"""Evidence files: what an upload really is (sniffed, never trusted from its name or header), kept on disk by hash.

A file is stored once under its sha256 (`ab/cdef...`), written to a temporary name and
renamed, so a half-written file never has a hash's name. Its kind is read from its first
bytes; markup a browser would run (HTML, SVG, XML) is refused, so no evidence can ever be
served as a page.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from backoffice.errors import EvidenceRefused

# First bytes -> media type, for the binary kinds a back office receives as evidence.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"PK\x03\x04", "application/zip"),          # also docx, xlsx, odt: zip containers
)
# Markup a browser would render or run: never accepted as evidence.
_MARKUP = (b"<!doctype", b"<html", b"<svg", b"<?xml", b"<script", b"<head", b"<body", b"<iframe", b"<object")
# The name of a kept file: a sha256 in lower-case hex, nothing else (never a path of any kind).
DIGEST = re.compile(r"[0-9a-f]{64}")
ALLOWED = ("application/pdf", "image/png", "image/jpeg", "image/gif", "image/tiff", "application/zip", "text/plain")


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    media_type: str

    @property
    def reference(self) -> str:
        """How the case's evidence row and its audit record name the file: its hash, kind and size."""
        return f"sha256:{self.sha256};type={self.media_type};size={self.size}"


def sniff(content: bytes) -> str:
    """Return the media type of `content` read from its bytes.

    Raises:
        EvidenceRefused: for markup (HTML, SVG, XML), an empty file, or a kind not accepted as evidence.
    """
    if not content:
        raise EvidenceRefused("the file is empty", "a document with content")
    for signature, media_type in _SIGNATURES:
        if content.startswith(signature):
            return media_type
    head = content[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if any(head.startswith(tag) for tag in _MARKUP) or b"<script" in content[:4096].lower():
        raise EvidenceRefused("the file is markup (HTML, SVG or XML), which is never kept as evidence",
                              f"one of {', '.join(ALLOWED)}")
    if b"\x00" not in content:
        try:
            content.decode("utf-8")
            return "text/plain"
        except UnicodeDecodeError:
            pass
    raise EvidenceRefused("the file is of a kind not kept as evidence", f"one of {', '.join(ALLOWED)}")


class EvidenceFiles:
    """Files kept on disk under a folder, by their sha256."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def keep(self, content: bytes) -> StoredFile:
        """Sniff and store `content` (once per distinct content); return what was stored."""
        media_type = sniff(content)
        digest = hashlib.sha256(content).hexdigest()
        target = self.root / digest[:2] / digest[2:]
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
            try:
                with os.fdopen(handle, "wb") as file:
                    file.write(content)
                    file.flush()
                    os.fsync(file.fileno())
                os.replace(temporary, target)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        return StoredFile(digest, len(content), media_type)

    def path_of(self, digest: str) -> Path | None:
        """Return where the file of `digest` is kept, or None when `digest` is not a sha256.

        A reference is data anyone with SQL access (or an old row) may have written: a digest
        such as `../../key` must never lead out of the folder.
        """
        if not DIGEST.fullmatch(digest):
            return None
        return self.root / digest[:2] / digest[2:]
