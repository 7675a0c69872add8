"""The `backoffice contract` commands: check a contract, validate payloads against it, compare two versions."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from backoffice.errors import PayloadFileError
from backoffice.textfiles import read_utf8

if TYPE_CHECKING:
    from backoffice.definitions.contracts import Violation

contract_app = typer.Typer(help="Data contracts: check a contract, validate payloads against it, compare versions.",
                           no_args_is_help=True)
console = Console()

_ContractArgument = Annotated[Path, typer.Argument(metavar="CONTRACT", help="A data contract YAML file.")]
_PAYLOAD_SUFFIXES = (".json", ".jsonl", ".ndjson", ".yaml", ".yml")

# The contract library imports jsonschema: commands import it when they run, so that
# `backoffice map` and the rest do not pay for it at start-up.


def _say(text: str) -> None:
    console.print(text, markup=False, highlight=False, soft_wrap=True)


@contract_app.command("check")
def check_command(contract_path: _ContractArgument) -> None:
    """Check that a contract file is valid: every mistake is named with its line and column."""
    from backoffice.definitions.contract_reader import load_contract
    from backoffice.definitions.contracts import describe_duration
    contract = load_contract(contract_path)
    fields = [field for path, field in contract.paths.items() if not path.endswith("]")]
    required = sum(field.required for field in fields)
    _say(f"{contract_path}: {contract.id} (version {contract.version}) is a valid contract: "
         f"{_counted(len(fields), 'field')} ({required} required), {_counted(len(contract.quality), 'quality rule')}")
    _say(f"producer: {contract.producer}; consumers: {', '.join(contract.consumers) or 'none named'}; "
         f"freshness: {describe_duration(contract.freshness) if contract.freshness else 'not promised'}")


@contract_app.command("validate")
def validate_command(
    contract_path: _ContractArgument,
    payload_path: Annotated[Path, typer.Argument(
        metavar="PAYLOAD", help="A .json or .yaml payload (a list is a batch), or .jsonl with one payload a line.")],
) -> None:
    """List every way the payloads break the contract, by JSON path; exit with status 2 when any does."""
    from backoffice.definitions.contract_reader import load_contract
    from backoffice.definitions.contracts import validate_batch
    contract = load_contract(contract_path)
    labelled = read_payloads(payload_path)
    labels = [label for label, _ in labelled]
    violations = validate_batch(contract, [payload for _, payload in labelled])
    for violation in violations:
        _say(_shown(violation, labels))
    broken = len({violation.index for violation in violations})
    if len(labelled) == 1 and labels[0] is None:
        outcome = "the payload conforms" if not violations else "the payload breaks the contract"
    else:
        outcome = (f"all {len(labelled)} payloads conform" if not violations
                   else f"{broken} of {len(labelled)} payloads break the contract")
    count = f" ({_counted(len(violations), 'violation')})" if violations else ""
    _say(f"{contract.id} (version {contract.version}): {outcome}{count}")
    if violations:
        raise typer.Exit(code=2)


@contract_app.command("diff")
def diff_command(
    old_path: Annotated[Path, typer.Argument(metavar="OLD", help="The published version of the contract.")],
    new_path: Annotated[Path, typer.Argument(metavar="NEW", help="The proposed version.")],
) -> None:
    """Show what changed between two versions; exit with status 2 when a breaking change lacks a major bump."""
    from backoffice.definitions.contract_diff import diff_contracts
    from backoffice.definitions.contract_reader import load_contract
    diff = diff_contracts(load_contract(old_path), load_contract(new_path))
    if diff.changes:
        table = Table(title=f"{diff.name}: {diff.old_version} → {diff.new_version}", title_justify="left")
        table.add_column("field", overflow="fold")
        table.add_column("change", no_wrap=True)
        table.add_column("old → new")
        table.add_column("breaking", no_wrap=True)
        table.add_column("why")
        for change in diff.changes:
            # Text cells: paths and values hold brackets that Rich would otherwise read as markup.
            table.add_row(Text(change.path), Text(change.kind),
                          Text(f"{_clipped(change.old)} → {_clipped(change.new)}"),
                          Text("yes", style="bold red") if change.breaking else Text("no"), Text(change.reason))
        console.print(table)
    for warning in diff.warnings:
        _say(f"warning: {warning}")
    _say(diff.message)
    if diff.refused:
        raise typer.Exit(code=2)


@contract_app.command("schema")
def schema_command(contract_path: _ContractArgument) -> None:
    """Print the contract's schema as JSON Schema (Draft 2020-12), for systems that validate on their side."""
    from backoffice.definitions.contract_reader import load_contract
    typer.echo(json.dumps(load_contract(contract_path).json_schema(), indent=2, ensure_ascii=False))


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _clipped(value: str | None, width: int = 80) -> str:
    if value is None:
        return "-"
    return value if len(value) <= width else value[:width - 1] + "…"


def _shown(violation: Violation, labels: list[str | None]) -> str:
    label = labels[violation.index] if violation.index is not None else None
    text = f"{label}: {violation}" if label else str(violation)
    if violation.duplicate_of is not None:
        text += f" (the same as {labels[violation.duplicate_of]})"
    return text


def read_payloads(path: Path) -> list[tuple[str | None, Any]]:
    """Read payloads from a file, each with the label that locates it in the file.

    A .jsonl file holds one payload a line (labelled `line N`); a .json or .yaml file holds one
    payload (no label), or a list of them (labelled `payload N`). YAML dates become ISO 8601 text,
    as a JSON producer would send them.

    Raises:
        PayloadFileError: the file is missing, empty, or not valid JSON or YAML (with line and column).
    """
    suffix = path.suffix.lower()
    if suffix not in _PAYLOAD_SUFFIXES:
        raise PayloadFileError(path, "cannot tell the format from the file name",
                               expected="a name ending in " + ", ".join(_PAYLOAD_SUFFIXES))
    text = read_utf8(path, PayloadFileError, expected="a JSON, JSON Lines or YAML payload file")
    if suffix in (".jsonl", ".ndjson"):
        payloads: list[tuple[str | None, Any]] = [
            (f"line {number}", _parse_json(line, path, line=number))
            for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
    else:
        document = _parse_json(text, path) if suffix == ".json" else _parse_yaml(text, path)
        payloads = ([(f"payload {number}", item) for number, item in enumerate(document, start=1)]
                    if isinstance(document, list) else [(None, document)])
    if not payloads:
        raise PayloadFileError(path, "the file holds no payload", expected="at least one JSON object")
    return payloads


def _parse_json(text: str, path: Path, *, line: int | None = None) -> Any:
    from backoffice.limits import parse_json
    try:
        return parse_json(text, what=f"{path}" + (f", line {line}" if line else ""))
    except json.JSONDecodeError as exc:
        raise PayloadFileError(path, f"not valid JSON: {exc.msg}", line=line or exc.lineno, column=exc.colno,
                               expected="one JSON object per line" if line else "a JSON document") from exc


def _parse_yaml(text: str, path: Path) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from backoffice.limits import check_yaml
    check_yaml(text, str(path))
    try:
        document = YAML(typ="safe", pure=True).load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise PayloadFileError(path, f"not valid YAML: {exc.problem or exc.context}",
                               line=mark.line + 1 if mark else None, column=mark.column + 1 if mark else None,
                               expected="a YAML document") from exc
    except YAMLError as exc:
        raise PayloadFileError(path, f"not valid YAML: {exc}", expected="a YAML document") from exc
    if document is None:
        raise PayloadFileError(path, "the file holds no payload", expected="a YAML mapping")
    return _as_json(document)


def _as_json(value: Any) -> Any:
    # YAML reads 2024-03-01 as a date; a JSON producer would send text, which is what the contract checks.
    if isinstance(value, dict):
        return {str(key): _as_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_json(item) for item in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value
