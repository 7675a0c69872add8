"""Read a user's text file (a contract, a payload), with every way it can fail as one clear error."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from backoffice.errors import UserError


def read_utf8(path: Path, error: Callable[..., UserError], *, expected: str) -> str:
    """Return the file's text; a missing, unreadable or non-UTF-8 file raises `error(path, problem, expected=...)`.

    `expected` says what the file should have been (such as "a data contract YAML file").
    """
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(path, "cannot open the file (no such file)", expected=expected) from None
    except UnicodeDecodeError as exc:
        raise error(path, f"the file is not UTF-8 (byte {exc.start})", expected="UTF-8 text") from exc
    except OSError as exc:
        raise error(path, f"cannot open the file ({exc.strerror})", expected=expected) from exc
