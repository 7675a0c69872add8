"""`backoffice examples DIR`: write the files the README's examples use, so they run from any folder."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from backoffice.errors import OutputFileError

console = Console()

# Where each file comes from in the package, and where it goes under DIR (as the README names it).
EXAMPLE_FILES = {
    "examples/tickets.csv": "tickets.csv",
    "examples/request.json": "request.json",
    "examples/purchase_actions.py": "examples/purchase_actions.py",
    "examples/synonyms.yaml": "synonyms.yaml",
    "examples/kinds.yaml": "kinds.yaml",
    "examples/nots.csv": "nots.csv",
    "examples/export.csv": "export.csv",
    "samples/helpdesk.xes.gz": "helpdesk.xes.gz",
    "samples/DomesticDeclarations.xes.gz": "DomesticDeclarations.xes.gz",
    "samples/README.md": "LOGS.md",
}


def write_examples(folder: Path, *, force: bool = False) -> list[Path]:
    """Copy the example files into a folder; none is written when one exists already (unless force).

    Raises:
        OutputFileError: a file exists and force is false, or the folder cannot be written.
    """
    targets = {source: folder / name for source, name in EXAMPLE_FILES.items()}
    if not force:
        for target in targets.values():
            if target.exists():
                raise OutputFileError(target, "it exists; use --force to replace the example files")
    package = resources.files("backoffice")
    try:
        for source, target in targets.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes((package / source).read_bytes())
    except OSError as exc:
        raise OutputFileError(exc.filename or folder, exc.strerror or str(exc)) from exc
    return list(targets.values())


def examples_command(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="The folder to write the example files into "
                                                               "(created when missing).")] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Replace example files that exist already.")] = False,
) -> None:
    """Write the example logs, payloads and actions the README's commands use into DIR."""
    written = write_examples(folder, force=force)
    for path in written:
        console.print(str(path), markup=False, highlight=False)
    console.print(f"{len(written)} example files in {folder}; try: cd {folder} && backoffice map tickets.csv "
                  f"--timestamp Completed --start-timestamp Started --timestamp-format '%d-%m-%Y %H:%M' "
                  f"--timezone Europe/Amsterdam --sla 2d", markup=False, highlight=False, soft_wrap=True)
