"""`backoffice templates` and `backoffice new --from TEMPLATE [DEST]`: the library of ready workflows."""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

console = Console()


def _say(text: str) -> None:
    # Paths can hold brackets that Rich would read as markup.
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def templates_command() -> None:
    """List the ready workflow definitions of the library, to copy with `backoffice new --from NAME`."""
    from backoffice.definitions.library_templates import list_templates

    table = Table(title="Workflow templates", title_justify="left")
    table.add_column("template", no_wrap=True)
    table.add_column("title")
    table.add_column("purpose", overflow="fold")
    for template in list_templates():
        table.add_row(Text(template.name, style="bold"), Text(template.title), Text(template.summary))
    console.print(table)
    _say("Copy one to edit: backoffice new --from TEMPLATE [DEST]")


def new_command(
    template: Annotated[str, typer.Option("--from", metavar="TEMPLATE", show_default=False,
                                          help="A template of the library (see `backoffice templates`).")],
    # Text, not a Path: a trailing slash (out/) says "a folder", and Path would drop it.
    destination: Annotated[Optional[str], typer.Argument(
        metavar="DEST", help="A folder (out/) for TEMPLATE.yaml, or the file to create (out/invoice.yaml); "
                               "default: the current folder.")] = None,
) -> None:
    """Copy a workflow template, with its data contract, to edit; never overwrites a file."""
    from backoffice.definitions.library_templates import get_template, new_from_template

    chosen = get_template(template)
    created = new_from_template(chosen.name, destination)
    _say(f"created {created} from the template {chosen.name} ({chosen.title})")
    for contract in chosen.contracts:
        _say(f"  with its data contract {created.parent / contract}")
    _say(f"next: edit it (owner, roles, calendar, thresholds), then run: backoffice check {created}")
