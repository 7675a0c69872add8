"""`backoffice readiness FILE` and `backoffice prioritize DIR`: the gate, and what to automate first."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from backoffice.errors import BadOption, suggest

if TYPE_CHECKING:
    from backoffice.definitions.priority import PriorityReport
    from backoffice.definitions.readiness import ReadinessReport
    from backoffice.mapping.model import ProcessMap

console = Console()
errors = Console(stderr=True)
NOT_READY = 1
"""The exit status of a definition that fails the gate: a verdict, not an error (errors exit 2)."""


def _as_is_map(log_path: Path, object_type: str | None = None) -> ProcessMap:
    """Read a log and map it; a bad log is a user error (status 2), raised by the reader."""
    from backoffice.events.reader import read_log
    from backoffice.mapping.analyze import analyze
    # The gate and the scores read no attribute: leaving them unread saves memory on large logs.
    return analyze(read_log(log_path, attributes=False, object_type=object_type))


def readiness_command(
    path: Annotated[Path, typer.Argument(metavar="FILE", help="A workflow definition YAML file.")],
    log_path: Annotated[Optional[Path], typer.Option("--log", metavar="LOG", help=(
        "An event log of the workflow (CSV, XES, Parquet, OCEL): judge the happy path by the share of cases "
        "on the main variants, and the taxonomy by the reasons the log records."))] = None,
    json_path: Annotated[Optional[Path], typer.Option("--json", metavar="OUT", help="Write the report as JSON.")]
    = None,
    object_type: Annotated[Optional[str], typer.Option(
        "--object-type", help="With an OCEL --log: the object type whose objects are the cases.")] = None,
) -> None:
    """Judge a definition against the ten-point readiness gate, each point pass or fail with its reason.

    Exits with status 0 when the workflow is ready, 1 when it is not (a verdict, not an error),
    and 2 for a user error: a definition that fails `check`, a bad log, an unwritable output.
    """
    from backoffice.cli.outputs import write_all
    from backoffice.definitions.loader import load_definition
    from backoffice.definitions.readiness import assess_readiness

    # The definition first: a broken one is reported before a long log is read.
    definition = load_definition(path)
    if object_type is not None and log_path is None:
        raise BadOption("--object-type", object_type, "--log LOG with it: it picks the cases of an OCEL log")
    evidence = _as_is_map(log_path, object_type) if log_path is not None else None
    report = assess_readiness(definition, source=path, evidence=evidence)
    if json_path is not None:
        write_all({json_path: report.model_dump_json(indent=2)})
    show_readiness(console, report)
    if json_path is not None:
        console.print(f"JSON: {json_path}")
    if not report.ready:
        raise typer.Exit(code=NOT_READY)


def show_readiness(out: Console, report: ReadinessReport) -> None:
    """Print the ten points as a table, then the verdict."""
    table = Table(title=f"Readiness of {report.workflow} v{report.version}: {report.title}", title_justify="left")
    table.add_column("#", justify="right")
    table.add_column("point")
    table.add_column("result")
    table.add_column("reason", overflow="fold")
    for point in report.points:
        result = "[green]pass[/green]" if point.passed else "[bold red]FAIL[/bold red]"
        table.add_row(str(point.number), point.title, result, point.reason + (" [dim](log)[/dim]" if point.from_log
                                                                            else ""))
    out.print(table)
    if report.ready:
        out.print(f"[bold green]ready[/bold green]: all {len(report.points)} points pass")
    else:
        failed = report.failed
        out.print(f"[bold red]not ready[/bold red]: {len(failed)} of {len(report.points)} points fail "
                  f"({', '.join(str(point.number) for point in failed)})")


def _definition_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise BadOption("DIR", str(folder), "a folder of workflow definition files (*.yaml)"
                        + ("; it is a file: use `backoffice readiness FILE`" if folder.is_file() else ""))
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in (".yaml", ".yml"))
    if not files:
        raise BadOption("DIR", str(folder), "a folder holding workflow definition files (*.yaml or *.yml)")
    return files


def _attached_logs(options: list[str], workflow_ids: list[str]) -> dict[str, Path]:
    """Read --log ID=LOG options into workflow id -> log file, refusing ids the folder does not define."""
    logs: dict[str, Path] = {}
    for option in options:
        name, equals, log = option.partition("=")
        name = name.strip()
        if not equals or not name or not log.strip():
            raise BadOption("--log", option, "ID=LOG, a workflow id and its log, such as service-request=requests.csv")
        if name not in workflow_ids:
            close = suggest(name, workflow_ids)
            hint = f" (did you mean {close!r}?)" if close else ""
            raise BadOption("--log", option, f"the id of a workflow in the folder{hint}: {', '.join(workflow_ids)}")
        if name in logs:
            raise BadOption("--log", option, f"one log per workflow; {name} already has {logs[name]}")
        logs[name] = Path(log.strip())
    return logs


def prioritize_command(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="A folder of workflow definition files.")],
    log_options: Annotated[Optional[list[str]], typer.Option("--log", metavar="ID=LOG", help=(
        "Attach an event log to the workflow with that id: volume, cycle time and exception rate come "
        "from it. Repeat for more workflows."))] = None,
    html_path: Annotated[Optional[Path], typer.Option("--html", metavar="OUT", help=(
        "Write a self-contained HTML page: the 2x2 and every factor."))] = None,
    json_path: Annotated[Optional[Path], typer.Option("--json", metavar="OUT", help="Write the scores as JSON.")]
    = None,
) -> None:
    """Rank the workflows of a folder by impact against effort: quick wins, major projects, fill-ins, avoid for now.

    Every factor is shown with its score (1 to 5) and how it was derived. Workflows that fail the
    readiness gate are marked "fix foundations first". Exits with status 0, or 2 for a user error:
    a definition that fails `check`, a bad --log, an unwritable output.
    """
    from backoffice.cli.outputs import write_all
    from backoffice.definitions.loader import check_definition
    from backoffice.definitions.priority import PortfolioItem, prioritize

    reports = [check_definition(path) for path in _definition_files(folder)]
    broken = [report for report in reports if report.errors or report.definition is None]
    if broken:
        for report in broken:
            for problem in report.errors:
                errors.print(str(problem), highlight=False, soft_wrap=True)
        errors.print(f"[bold red]error:[/bold red] {len(broken)} of {len(reports)} definition files fail "
                     f"`check`; expected every file in {folder} to pass (fix them, or move them out)",
                     highlight=False, soft_wrap=True)
        raise typer.Exit(code=2)
    definitions = [(report.path, report.definition) for report in reports if report.definition is not None]
    logs = _attached_logs(log_options or [], sorted({definition.id for _, definition in definitions}))
    maps = {workflow: _as_is_map(log) for workflow, log in logs.items()}
    report = prioritize(PortfolioItem(definition, source=path, evidence=maps.get(definition.id))
                        for path, definition in definitions)
    documents: dict[Path, str] = {}
    if json_path is not None:
        documents[json_path] = report.model_dump_json(indent=2)
    if html_path is not None:
        from backoffice.definitions.priority_html import render_priority_html
        documents[html_path] = render_priority_html(report, title=f"Automation priorities · {folder.name or folder}")
    write_all(documents)
    show_priorities(console, report)
    for label, path in (("HTML", html_path), ("JSON", json_path)):
        if path is not None:
            console.print(f"{label}: {path}")


def show_priorities(out: Console, report: PriorityReport) -> None:
    """Print the ranking, then every factor with its score and derivation."""
    ranking = Table(title="What to automate first", title_justify="left")
    for column, justify in (("#", "right"), ("workflow", "left"), ("quadrant", "left"), ("impact", "right"),
                            ("effort", "right"), ("readiness", "left")):
        ranking.add_column(column, justify=justify)
    for rank, workflow in enumerate(report.workflows, start=1):
        known = workflow.known_impact_factors
        impact = f"{workflow.impact:g}" + (f" [dim]({known}/4 known)[/dim]" if known < 4 else "")
        readiness = "[green]ready[/green]" if workflow.ready else \
            f"[bold red]fix foundations first[/bold red] [dim]({len(workflow.readiness_failures)} of 10 fail)[/dim]"
        ranking.add_row(str(rank), f"{workflow.workflow} v{workflow.version}", workflow.quadrant.value, impact,
                        f"{workflow.effort:g}", readiness)
    out.print(ranking)
    factors = Table(title=f"Factors (1-5; a side is high from {report.high:g})", title_justify="left")
    for column, justify in (("workflow", "left"), ("factor", "left"), ("score", "right"), ("how derived", "left")):
        factors.add_column(column, justify=justify, overflow="fold" if column == "how derived" else "ellipsis")
    for workflow in report.workflows:
        for index, factor in enumerate(workflow.factors):
            factors.add_row(workflow.workflow if index == 0 else "", f"{factor.side.value}: {factor.name}",
                            "–" if factor.score is None else str(factor.score), factor.derivation)
        factors.add_section()
    out.print(factors)
    for workflow in report.workflows:
        for failure in workflow.readiness_failures:
            out.print(f"[red]{workflow.workflow}[/red] fails {failure}", highlight=False)
