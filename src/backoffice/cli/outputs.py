"""Write reports all-or-nothing: render everything first, then replace files atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from backoffice.errors import OutputFileError


def write_all(documents: dict[Path, str]) -> None:
    """Write each document to its path; none is written if any target is unusable.

    Each file is written to a temporary file beside it and renamed into place, so a reader
    never sees half a report and an interrupted run leaves the old file as it was.
    """
    for path in documents:
        folder = path.parent if str(path.parent) else Path(".")
        if path.is_dir():
            raise OutputFileError(path, "it is a folder")
        if not folder.exists():
            raise OutputFileError(path, f"the folder {folder} does not exist")
        if not os.access(folder, os.W_OK):
            raise OutputFileError(path, "permission denied")
    staged: list[tuple[str, Path]] = []
    # mkstemp makes private files; reports get the permissions any new file would get.
    umask = os.umask(0)
    os.umask(umask)
    try:
        for path, text in documents.items():
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
            os.chmod(temporary, 0o666 & ~umask)
            staged.append((temporary, path))
        for temporary, path in staged:
            os.replace(temporary, path)
    except OSError as exc:
        for temporary, _ in staged:
            if os.path.exists(temporary):
                os.unlink(temporary)
        raise OutputFileError(exc.filename or next(iter(documents)), exc.strerror or str(exc)) from exc
