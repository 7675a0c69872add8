"""`backoffice bpmn import FILE -o DEFINITION.yaml` and `backoffice bpmn export DEFINITION.yaml -o FILE`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from backoffice.errors import OutputFileError

bpmn_app = typer.Typer(help="Bring BPMN 2.0 models in as definitions, and write definitions out as BPMN.",
                       no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)


def _say(text: str = "") -> None:
    typer.echo(text)


def _refuse_to_replace(path: Path, force: bool) -> None:
    # An imported definition is then edited by hand (its TODOs): a second run must not wipe that out.
    if path.exists() and not force:
        raise OutputFileError(path, "it exists; use --force to replace it")


def _write(path: Path, text: str) -> None:
    """Write the whole text or nothing: to a file beside the target, then renamed over it."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise OutputFileError(path, exc.strerror or str(exc)) from None


@bpmn_app.command("import")
def import_command(
    source: Annotated[Path, typer.Argument(metavar="FILE", help="A BPMN 2.0 file (.bpmn, .bpmn20.xml).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The definition YAML to write.")],
    process: Annotated[Optional[str], typer.Option("--process", help="The process to import, when the file "
                                                   "holds several (a collaboration).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the output file if it exists.")] = False,
) -> None:
    """Convert a BPMN 2.0 process into a draft definition, listing what a definition cannot express.

    Exits with status 2 when the file is not a BPMN 2.0 model (or holds several processes and
    --process names none of them), writing nothing.
    """
    from backoffice.definitions import check_definition
    from backoffice.definitions.bpmn_import import import_bpmn, render_yaml

    _refuse_to_replace(output, force)
    result = import_bpmn(source, process_id=process)
    definition = result.definition
    _write(output, render_yaml(result, source))
    _say(f"imported process {result.process.id} ({result.process.label}) from {source}: "
         f"{len(definition['states'])} states, {len(definition['transitions'])} transitions, "
         f"{len(definition['roles'])} roles, {len(definition.get('timers', []))} timers, "
         f"{len(definition.get('automated_steps', []))} automated steps")
    if result.not_expressible:
        _say(f"not expressible in a definition ({len(result.not_expressible)}), imported in the nearest form "
             "or left out:")
        for finding in result.not_expressible:
            _say(f"  {finding}")
    if result.notes:
        _say(f"notes ({len(result.notes)}):")
        for finding in result.notes:
            _say(f"  {finding}")
    if result.placeholders:
        _say("to fill in by a person (placeholders start with TODO):")
        for item in result.placeholders:
            _say(f"  {item}")
    report = check_definition(output)
    for problem in report.errors:
        _say(f"  {problem}")
    _say(f"wrote {output}; backoffice check: {len(report.errors)} errors, {len(report.warnings)} warnings")


@bpmn_app.command("export")
def export_command(
    source: Annotated[Path, typer.Argument(metavar="DEFINITION", help="A workflow definition YAML file.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The BPMN 2.0 file to write.")],
    force: Annotated[bool, typer.Option("--force", help="Replace the output file if it exists.")] = False,
) -> None:
    """Write a definition as BPMN 2.0 XML with a pool, lanes by role and a diagram (bpmn.io, Camunda Modeler).

    Exits with status 2, writing nothing, when the definition does not load.
    """
    from backoffice.definitions.bpmn_export import render_definition_bpmn
    from backoffice.definitions.loader import load_definition

    _refuse_to_replace(output, force)
    definition = load_definition(source)
    text = render_definition_bpmn(definition)
    _write(output, text)
    _say(f"wrote {output}: {len(definition.states)} states in {len(definition.roles)} role lanes, "
         f"{len(definition.transitions)} transitions, {len(definition.exceptions)} exception reasons, "
         f"{len(definition.timers)} timers")
