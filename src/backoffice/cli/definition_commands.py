"""`backoffice check FILE...`: check workflow definitions, printing problems as a compiler does."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer


def _definition_files(paths: list[Path]) -> list[Path]:
    """Expand folders to the definition files directly inside them (*.yaml, *.yml)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        else:
            files.append(path)
    return files


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def check_command(
    paths: Annotated[list[Path], typer.Argument(metavar="FILE", help="Definition YAML files, or folders of them.")],
    strict: Annotated[bool, typer.Option("--strict", help="Count warnings as errors.")] = False,
    against: Annotated[Optional[Path], typer.Option(
        "--against", help="Print the control diff against this definition (the version deployed now).")] = None,
    db: Annotated[Optional[str], typer.Option(
        "--db", help="Print the control diff against the version deployed in this database (file or URL).")] = None,
) -> None:
    """Check workflow definitions: every error and warning, with file, line and column.

    With --against or --db, also print the control diff: what the file weakens or tightens
    compared with the deployed version (a weakening deploy waits for a second person).
    Exits with status 2 when any file has an error (with --strict, a warning too), else 0.
    """
    # Imported here: the CEL and calendar libraries cost start-up time other commands need not pay.
    from backoffice.definitions import check_definition

    reports = [check_definition(path) for path in _definition_files(paths)]
    for report in reports:
        for problem in report.problems:
            typer.echo(str(problem))
        if not report.problems:
            typer.echo(f"{report.path}: ok")
        if report.ok and (against is not None or db is not None):
            for line in _control_diff(report.path, against, db):
                typer.echo(f"{report.path}: {line}")
    errors = sum(len(report.errors) for report in reports)
    warnings = sum(len(report.warnings) for report in reports)
    failed = sum(1 for report in reports if report.errors or (strict and report.warnings))
    verdict = "ok" if not failed else f"{_plural(failed, 'file')} failed"
    typer.echo(f"checked {_plural(len(reports), 'file')}: {_plural(errors, 'error')}, "
               f"{_plural(warnings, 'warning')}; {verdict}")
    if failed:
        raise typer.Exit(code=2)


def _control_diff(path: Path, against: Path | None, db: str | None) -> list[str]:
    """Return the control diff of a definition file against a deployed version (a file, or the database's)."""
    from datetime import datetime, timezone

    from backoffice.definitions.control_diff import diff_controls
    from backoffice.engine.versions import read_version, running_version

    now = datetime.now(timezone.utc)
    if db is not None:
        from backoffice.engine import Engine
        from backoffice.store import SqlStore
        return Engine(SqlStore.open(db)).deploy_preview(path, now=now).lines()
    new = running_version(read_version(path, actor="check", now=now))
    old = running_version(read_version(against, actor="check", now=now))
    return diff_controls(old.definition, new.definition, old_inputs=old.inputs, new_inputs=new.inputs).lines()
