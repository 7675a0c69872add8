"""A definition sent over HTTP, written to a private temporary folder so the engine reads it as a file.

The engine deploys and compares definition files (the contract files they name sit beside
them); deploying and previewing over HTTP write the body's YAML and its files there first.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from backoffice.api.problems import ApiError
from backoffice.api.schemas import DeployRequest

DEFINITION_NAME = "definition.yaml"


@contextmanager
def uploaded_definition(body: DeployRequest) -> Iterator[Path]:
    """Yield the path of the body's definition, its named files beside it; everything is removed after.

    Raises:
        ApiError: 422, a file name that is not a plain relative name.
    """
    with tempfile.TemporaryDirectory(prefix="backoffice-deploy-") as folder:
        root = Path(folder)
        for name, text in body.files.items():
            target = root / _safe_relative(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        definition = root / DEFINITION_NAME
        definition.write_text(body.definition, encoding="utf-8")
        yield definition


def _safe_relative(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if (not name or path.is_absolute() or ".." in path.parts or "\\" in name or "\x00" in name
            or len(name) > 200 or path.name == DEFINITION_NAME):
        raise ApiError(422, f"the file name {name[:80]!r} is not a plain relative name", pointer="/body/files",
                       expected="a relative name such as contracts/invoice.yaml, as the definition names it",
                       title="Invalid file name")
    return path
