"""The `backoffice` command: Typer commands over the library, user errors as one line and status 2."""

# No `from __future__ import annotations` here: Typer reads every command's parameters with
# typing.get_type_hints, which compiles and evaluates each annotation left as a string, on
# every call: building `map`'s command took 7.9 ms of CPU at each start, 1.5 ms with plain
# annotations, which are built once, when the function is defined.

import os

# Before numpy loads: its BLAS starts a pool of threads that spin for some 0.1 s of CPU, and
# nothing here does linear algebra. A user's own setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import gc  # noqa: E402 (after the setting above, on purpose)

# The imports below (Typer, numpy, Arrow, the map) make some 38,000 objects the collector
# tracks, which live as long as the process: its passes over them while they load (about
# 10 ms of CPU) find nothing to free. It is paused until they are loaded; `main` then freezes them.
_collecting = gc.isenabled()
gc.disable()

import sys  # noqa: E402
import traceback  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Annotated, Optional  # noqa: E402

import typer  # noqa: E402

from backoffice.bulk import hold_blocks_for
from backoffice.cli.map_params import PlainParamsCommand, PlainParamsGroup
from backoffice.cli.moments import parse_moment
from backoffice.errors import BadOption, DefinitionAltered, UserError
from backoffice.events.instances import LifecycleMode
from backoffice.events.reader import OnBadRows, read_log, rough_event_count
from backoffice.events.schema import EventLog
from backoffice.mapping.analyze import (DEFAULT_MAX_ACTIVITIES, DEFAULT_MAX_PATHS, analyze, lane_columns_for,
                                        narrowed_for_map)
from backoffice.mapping.model import Lanes, ProcessMap

if _collecting:
    gc.enable()

# The whole command tree is `app`, built on first use (see _full_app): the commands in this
# module are registered on `_commands` now, the others when `app` is asked for.
_commands = typer.Typer(help="Backoffice: map how back-office work really moves, from the evidence in event logs.",
                        no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)


class _ConsoleOnFirstUse:
    """A rich Console made when something is first printed through it.

    Importing rich costs some 15 ms of CPU, which every scripted `map` (no terminal, one plain
    line of output) would pay for nothing; the terminal summary, errors and the tour still use
    rich, through this.
    """

    def __init__(self, **options) -> None:
        self._options = options
        self._console = None

    @property
    def rich(self):
        """The Console itself, for code that takes one (progress bars, the summary, the tour)."""
        if self._console is None:
            from rich.console import Console
            self._console = Console(**self._options)
        return self._console

    def __getattr__(self, name: str):
        return getattr(self.rich, name)


console = _ConsoleOnFirstUse()
errors = _ConsoleOnFirstUse(stderr=True)
_state = {"debug": False}

DEMO_LOG = "DomesticDeclarations.xes.gz"
DEMO_TITLE = "travel-expense declarations and their approvals at a university (BPI Challenge 2020)"


def _show_version(asked: bool) -> None:
    if asked:
        from backoffice import __version__
        typer.echo(f"backoffice {__version__}")
        raise typer.Exit()


@_commands.callback()
def _options(debug: Annotated[bool, typer.Option("--debug", help="Show a traceback for errors.")] = False,
             version: Annotated[bool, typer.Option("--version", is_eager=True, callback=_show_version,
                                                   help="Print the version and exit.")] = False) -> None:
    _state["debug"] = debug


def _progress():
    # Imported here: a progress bar is drawn only on a terminal, and rich.progress costs
    # about 10 ms to import, which every scripted `map` would pay for nothing.
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(TextColumn("reading"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                    console=errors.rich, transient=True, disable=not errors.is_terminal)


def render_outputs(process_map: ProcessMap, *, json_path: Path | None, html_path: Path | None,
                   mermaid_path: Path | None, bpmn_path: Path | None) -> dict[Path, str]:
    """Render every asked-for report in memory, so a failure leaves no file half-written."""
    documents: dict[Path, str] = {}
    if json_path:
        documents[json_path] = process_map.model_dump_json(indent=2)
    if html_path:
        from backoffice.mapping.html_report import render_html
        documents[html_path] = render_html(process_map)
    if mermaid_path:
        from backoffice.mapping.mermaid import render_mermaid
        documents[mermaid_path] = render_mermaid(process_map)
    if bpmn_path:
        from backoffice.mapping.bpmn import render_bpmn
        documents[bpmn_path] = render_bpmn(process_map)
    return documents


def _may_be_terminal(stream) -> bool:
    """False when rich would surely say the stream is no terminal, so that rich need not load.

    Rich counts a stream as a terminal when it is a tty or the environment forces it
    (TTY_COMPATIBLE, FORCE_COLOR); anything else is its own decision.
    """
    if "TTY_COMPATIBLE" in os.environ or "FORCE_COLOR" in os.environ:
        return True
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _read_file(path: Path, **options) -> EventLog:
    """Read a log file with a progress bar on long reads (options as for `read_log`)."""
    if not _may_be_terminal(sys.stderr) or not errors.is_terminal:
        return read_log(path, **options)
    with _progress() as progress:
        task = progress.add_task("read", total=None)
        return read_log(path, progress=lambda done, total: progress.update(task, completed=done, total=total),
                        **options)


# PlainParamsCommand: the same options, converted without a pydantic TypeAdapter each (cli/map_params.py).
@_commands.command("map", cls=PlainParamsCommand)
def map_command(
    log_path: Annotated[Optional[Path], typer.Argument(
        metavar="[LOG]", help="CSV, XES, XES.gz, Parquet or OCEL 2.0 JSON file; or --db.")] = None,
    db: Annotated[Optional[str], typer.Option("--db", help="Map the engine's own events in this database "
                                                           "(file or URL) instead of a log file.")] = None,
    workflow: Annotated[Optional[str], typer.Option("--workflow", help="With --db: one workflow's events.")] = None,
    json_path: Annotated[Optional[Path], typer.Option("--json", help="Write the whole analysis as JSON.")] = None,
    html_path: Annotated[Optional[Path], typer.Option("--html", help="Write a self-contained HTML report.")] = None,
    mermaid_path: Annotated[Optional[Path], typer.Option("--mermaid", help="Write a Mermaid flowchart.")] = None,
    bpmn_path: Annotated[Optional[Path], typer.Option("--bpmn", help="Write BPMN 2.0 XML with lanes.")] = None,
    lanes: Annotated[Optional[Lanes], typer.Option(help="Swimlanes and handoffs by role, resource, system or "
                                                        "group; default: the first of role, group and system "
                                                        "the log has (resources only when asked).")] = None,
    sla: Annotated[Optional[str], typer.Option("--sla", help="Cycle-time target, e.g. 5d or 36h.")] = None,
    sla_from: Annotated[Optional[str], typer.Option("--sla-from", help="Case attribute holding a deadline.")] = None,
    since: Annotated[Optional[str], typer.Option(help="Keep cases that started on or after this date.")] = None,
    until: Annotated[Optional[str], typer.Option(help="Keep cases that started before this date.")] = None,
    min_path_count: Annotated[int, typer.Option("--min-path-count", help="Hide paths followed fewer times.")] = 1,
    variant_coverage: Annotated[Optional[float], typer.Option(
        "--variant-coverage", help="Keep the top variants covering this share of cases, e.g. 0.8.")] = None,
    step_kinds: Annotated[Optional[Path], typer.Option("--step-kinds", help="YAML: activity -> "
                                                       "straight_through | human | approval.")] = None,
    top: Annotated[int, typer.Option(help="Rows per table in the terminal.")] = 10,
    max_activities: Annotated[int, typer.Option("--max-activities", help="Past this many activities, the map "
                                                "keeps the most frequent and says so.")] = DEFAULT_MAX_ACTIVITIES,
    max_paths: Annotated[int, typer.Option("--max-paths", help="Past this many paths, the map keeps the most "
                                           "frequent and says so.")] = DEFAULT_MAX_PATHS,
    lifecycle: Annotated[LifecycleMode, typer.Option(
        "--lifecycle", help="instances: the events of one activity instance (schedule, start, complete...; or a "
                            "start and an end column) are one step, with a processing time; events: every event "
                            "is a step.")] = LifecycleMode.INSTANCES,
    case: Annotated[Optional[str], typer.Option("--case", help="Column holding the case id.")] = None,
    activity: Annotated[Optional[str], typer.Option("--activity", help="Column holding the activity.")] = None,
    timestamp: Annotated[Optional[str], typer.Option("--timestamp", help="Column holding the time.")] = None,
    start_timestamp: Annotated[Optional[str], typer.Option(
        "--start-timestamp", help="Column holding each row's start, beside --timestamp (its end): each row is "
                                  "then one step with a processing time.")] = None,
    resource: Annotated[Optional[str], typer.Option("--resource", help="Column holding who did the step.")] = None,
    role: Annotated[Optional[str], typer.Option("--role", help="Column holding the role or team.")] = None,
    system: Annotated[Optional[str], typer.Option("--system", help="Column holding the system used.")] = None,
    reason: Annotated[Optional[str], typer.Option("--reason", help="Column holding exception reasons.")] = None,
    group: Annotated[Optional[str], typer.Option("--group", help="Column holding the group or department.")] = None,
    lifecycle_column: Annotated[Optional[str], typer.Option(
        "--lifecycle-column", help="Column holding lifecycle words (start, complete...).")] = None,
    log_format: Annotated[Optional[str], typer.Option("--format", help="csv, xes, parquet or ocel.")] = None,
    timezone: Annotated[str, typer.Option(help="Zone of timestamps without an offset.")] = "UTC",
    timestamp_format: Annotated[Optional[str], typer.Option("--timestamp-format",
                                                            help="strptime format, e.g. '%d-%m-%Y %H:%M'.")] = None,
    encoding: Annotated[Optional[str], typer.Option(help="Text encoding of a CSV file.")] = None,
    delimiter: Annotated[Optional[str], typer.Option(help="Field separator of a CSV file.")] = None,
    on_bad_rows: Annotated[OnBadRows, typer.Option("--on-bad-rows", help="fail, or skip and count.")] = OnBadRows.FAIL,
    object_type: Annotated[Optional[str], typer.Option("--object-type", help="OCEL: object type to map.")] = None,
    synonyms: Annotated[Optional[Path], typer.Option(help="YAML: canonical activity -> list of labels.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No tables in the terminal.")] = False,
) -> None:
    """Map how work really moves in an event log: paths, variants, waits, handoffs, rework, SLA."""
    if (log_path is None) == (db is None):
        raise BadOption("LOG", str(log_path) if log_path else "(none)",
                        "either a log file or --db DATABASE, and not both")
    if db is not None:
        # The engine writes events in the schema the map reads: live work maps like evidence.
        from backoffice.store.event_log import read_engine_log
        log = read_engine_log(db, workflow=workflow)
    else:
        rough = rough_event_count(log_path, log_format)
        if rough is not None:
            hold_blocks_for(rough)
        log = _read_file(log_path, format=log_format, case=case, activity=activity, timestamp=timestamp,
                         resource=resource, role=role, system=system, reason=reason, group=group,
                         lifecycle=lifecycle_column, start_timestamp=start_timestamp,
                         timezone=timezone, timestamp_format=timestamp_format, encoding=encoding,
                         delimiter=delimiter, on_bad_rows=on_bad_rows, object_type=object_type,
                         # The map reads no attribute but a deadline: leaving the rest unread saves memory.
                         synonyms=synonyms, attributes=[sla_from] if sla_from else False,
                         # Nor a lane column but the one it draws.
                         lane_columns=lane_columns_for(lanes))
    # Only the columns the map reads stay referenced, so the others are freed before its peak.
    log = narrowed_for_map(log, lanes=lanes)
    hold_blocks_for(len(log))
    if not len(log):
        raise BadOption("--db", db, "a database whose engine has written events (deploy and start a case first)")
    process_map = analyze(log, lanes=lanes, sla_target=sla, sla_from=sla_from,
                          since=parse_moment(since, "--since", timezone),
                          until=parse_moment(until, "--until", timezone),
                          min_path_count=min_path_count, variant_coverage=variant_coverage, step_kinds=step_kinds,
                          max_activities=max_activities, max_paths=max_paths, top_variants=top, lifecycle=lifecycle)
    from backoffice.cli.outputs import write_all
    write_all(render_outputs(process_map, json_path=json_path, html_path=html_path,
                             mermaid_path=mermaid_path, bpmn_path=bpmn_path))
    if not quiet:
        from backoffice.cli.terminal import show_map
        show_map(console.rich, process_map, top=top)
    if log.skipped_rows:
        errors.print(f"skipped {log.skipped_rows:,} unreadable rows (--on-bad-rows skip)")
    for label, path in (("JSON", json_path), ("HTML report", html_path), ("Mermaid", mermaid_path),
                        ("BPMN", bpmn_path)):
        if path:
            # Plain text: a path is no rich markup ("[1].json"), and it must not wrap at 80 columns.
            typer.echo(f"{label}: {path}")
    # The command line may end the process without the interpreter's teardown (see _leave_now).
    _state["map_written"] = db is None


@_commands.command()
def demo(map_only: Annotated[bool, typer.Option("--map-only", help="Only map a bundled real log (BPI Challenge "
                                                "2020 travel declarations) into an HTML report.")] = False,
         folder: Annotated[Path, typer.Option("--dir", help="Folder of the demo workspace.")] = Path("backoffice-demo"),
         host: Annotated[str, typer.Option("--host", help="Address to serve on.")] = "127.0.0.1",
         port: Annotated[Optional[int], typer.Option("--port", min=1, max=65535,
                                                     help="TCP port (default: a free one).")] = None,
         no_serve: Annotated[bool, typer.Option("--no-serve", help="Build and print the sign-ins, "
                                                "without serving.")] = False,
         seed: Annotated[int, typer.Option("--seed", help="Seed of the simulation (same seed, same work).")] = 2026,
         weeks: Annotated[int, typer.Option("--weeks", help="Weeks of simulated arrivals.")] = 4,
         cases: Annotated[int, typer.Option("--cases", help="Cases arriving over those weeks.")] = 300,
         rebuild: Annotated[bool, typer.Option("--rebuild", help="Build the workspace afresh.")] = False,
         out: Annotated[Path, typer.Option(help="With --map-only: folder for the report.")] = Path("backoffice-report"),
         quiet: Annotated[bool, typer.Option("--quiet", "-q", help="With --map-only: no tables in the "
                                             "terminal.")] = False) -> None:
    """The tour: a demo workspace of simulated work, served with its sign-ins; --map-only maps a real log."""
    if not map_only:
        from backoffice.cli.demo_command import run_tour
        run_tour(console.rich, errors.rich, folder=folder, host=host, port=port, serve=not no_serve, seed=seed,
                 weeks=weeks, cases=cases, rebuild=rebuild)
        return
    from importlib import resources

    sample = resources.files("backoffice") / "samples" / DEMO_LOG
    with resources.as_file(sample) as path:
        console.print(f"Mapping {DEMO_LOG}: {DEMO_TITLE}")
        out.mkdir(parents=True, exist_ok=True)
        map_command(path, json_path=out / "map.json", html_path=out / "map.html", mermaid_path=out / "map.mmd",
                    bpmn_path=out / "map.bpmn", lanes=None, sla="14d", quiet=quiet,
                    **_MAP_DEFAULTS)
    console.print(f"[bold green]Open the map:[/bold green] {(out / 'map.html').resolve()}")


# The defaults of map's remaining options, for calling it as a function from other commands.
_MAP_DEFAULTS = dict(db=None, workflow=None, sla_from=None, since=None, until=None, min_path_count=1,
                     variant_coverage=None,
                     step_kinds=None, top=10, max_activities=DEFAULT_MAX_ACTIVITIES, max_paths=DEFAULT_MAX_PATHS,
                     case=None, activity=None, timestamp=None, resource=None, role=None, system=None, reason=None,
                     group=None, lifecycle=LifecycleMode.INSTANCES, lifecycle_column=None, start_timestamp=None,
                     log_format=None, timezone="UTC", timestamp_format=None, encoding=None,
                     delimiter=None, on_bad_rows=OnBadRows.FAIL, object_type=None, synonyms=None)


@_commands.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of `map --json` output."""
    import json
    console.print_json(json.dumps(ProcessMap.model_json_schema()))


def _full_app() -> typer.Typer:
    """Every command: the ones of this module, then the others, imported here.

    The other commands' modules import the engine, the definitions, CEL and JSON Schema:
    about 0.3 s of CPU that `map`, which needs none of them, does not pay.
    """
    if _full["app"] is not None:
        return _full["app"]
    from backoffice.cli.audit_commands import audit_app
    from backoffice.cli.bpmn_commands import bpmn_app
    from backoffice.cli.contract_commands import contract_app
    from backoffice.cli.definition_commands import check_command
    from backoffice.cli.directory_commands import directory_app
    from backoffice.cli.engine_commands import (approve_command, case_app, deploy_command, dlq_app, exception_app,
                                                task_app, worker_command)
    from backoffice.cli.evidence_commands import conform_command, docs_command, draft_command
    from backoffice.cli.example_commands import examples_command
    from backoffice.cli.readiness_commands import prioritize_command, readiness_command
    from backoffice.cli.serve_command import serve_command
    from backoffice.cli.step_commands import step_app
    from backoffice.cli.template_commands import new_command, templates_command
    from backoffice.cli.workflow_commands import workflow_app

    app = _commands
    app.add_typer(contract_app, name="contract")
    app.command("check")(check_command)
    app.command("deploy")(deploy_command)
    app.add_typer(case_app, name="case")
    app.add_typer(audit_app, name="audit")
    app.add_typer(task_app, name="task")
    app.command("approve")(approve_command)
    app.add_typer(exception_app, name="exception")
    app.command("worker")(worker_command)
    app.add_typer(dlq_app, name="dlq")
    app.add_typer(step_app, name="step")
    app.add_typer(workflow_app, name="workflow")
    app.add_typer(directory_app, name="directory")
    app.command("readiness")(readiness_command)
    app.command("prioritize")(prioritize_command)
    app.command("templates")(templates_command)
    app.command("new")(new_command)
    app.command("draft")(draft_command)
    app.command("conform")(conform_command)
    app.command("docs")(docs_command)
    app.add_typer(bpmn_app, name="bpmn")
    app.command("examples")(examples_command)
    app.command("serve")(serve_command)
    _full["app"] = app
    return app


_full: dict[str, typer.Typer | None] = {"app": None}


def __getattr__(name: str) -> typer.Typer:
    # `from backoffice.cli.app import app` builds the whole tree (PEP 562).
    if name == "app":
        return _full_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# Typer builds the parameters of every command from its signature before it runs any: about
# 80 ms for the whole tree, a tenth of what mapping a million-event CSV takes in all. `map`,
# the command that is timed against other tools, runs through an app that holds only it,
# with the same options, help and global --debug.
map_app = typer.Typer(help=_commands.info.help, no_args_is_help=True, pretty_exceptions_enable=False,
                      add_completion=False, cls=PlainParamsGroup)
map_app.callback()(_options)
map_app.command("map", cls=PlainParamsCommand)(map_command)


def _app_for(arguments: list[str]) -> typer.Typer:
    """The app to run these arguments with: the one holding only `map` when that is the command."""
    words = [argument for argument in arguments if not argument.startswith("-")]
    return map_app if words[:1] == ["map"] else _full_app()


def _refuse_unreadable_arguments(arguments: list[str]) -> None:
    """Refuse an argument with bytes that are not UTF-8 (they arrive as lone surrogates) or a NUL, before any command."""
    from backoffice.limits import check_text
    for position, argument in enumerate(arguments, start=1):
        check_text(argument, f"argument {position} ({argument.encode('utf-8', 'replace').decode()[:40]!r})")


def main(argv: list[str] | None = None) -> None:
    """Run the command line; a user's mistake prints one line and exits with status 2."""
    # Arrow's default allocator (mimalloc) keeps what it frees for reuse; a command that reads
    # a large log once then works in numpy would carry that cache to its peak (4.2 GiB instead
    # of 3.0 GiB on a 15M-event log). The system allocator hands memory back.
    import pyarrow

    from backoffice.cli.allocator import return_large_blocks

    pyarrow.set_memory_pool(pyarrow.system_memory_pool())
    return_large_blocks()
    arguments = sys.argv[1:] if argv is None else argv
    if argv is None:
        # Run as the program: what is alive now was made by imports (pydantic schemas, numpy
        # and Arrow modules) and lives until the process ends. Frozen, it is left out of the
        # collector's passes, above all the full one the interpreter makes at exit, which
        # took 45 ms of a one-second `map`. Modules imported later (DuckDB's, whose bindings
        # check at exit that everything was freed) are collected as usual.
        gc.freeze()
    try:
        _refuse_unreadable_arguments(arguments)
        _app_for(arguments)(args=arguments, standalone_mode=True)
    except (UserError, DefinitionAltered) as exc:
        if _state["debug"]:
            traceback.print_exc()
        errors.print(f"[bold red]error:[/bold red] {exc.message}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except SystemExit as finished:
        if argv is None and finished.code in (0, None) and _state.get("map_written"):
            _leave_now()
        raise


def _leave_now() -> None:
    """End the process at once after a `map` of a file: its reports are written and closed.

    The interpreter's orderly exit would free, one by one, every module and object the
    process made (numpy's, Arrow's, Typer's), which the system does at once when the process
    ends: some 20 million instructions, 2 % of a small log's map. Nothing is left to do at
    exit: no database is open (`map --db` exits as usual), the reports are renamed into
    place, and a stream that cannot be flushed takes the usual exit, which reports it.
    """
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return  # a closed or broken stream: the usual exit reports it
    os._exit(0)


if __name__ == "__main__":
    main()
