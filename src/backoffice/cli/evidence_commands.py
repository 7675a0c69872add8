"""From evidence to definition and back: `backoffice draft`, `backoffice conform` and `backoffice docs`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console

from backoffice.errors import BadOption, ConfigFileError, DefinitionError, OutputFileError, UserError

if TYPE_CHECKING:
    from backoffice.definitions.conformance import ConformanceReport
    from backoffice.definitions.model import Definition
    from backoffice.events.schema import EventLog

console = Console()
errors = Console(stderr=True)

# The definitions and the map import CEL, holidays and duckdb: commands import them when they
# run, so that other commands do not pay for them at start-up.

_Log = Annotated[Path, typer.Argument(metavar="LOG", help="CSV, XES, XES.gz, Parquet or OCEL 2.0 JSON file.")]
_Format = Annotated[Optional[str], typer.Option("--format", help="csv, xes, parquet or ocel.")]
_Case = Annotated[Optional[str], typer.Option("--case", help="Column holding the case id.")]
_Activity = Annotated[Optional[str], typer.Option("--activity", help="Column holding the activity.")]
_Timestamp = Annotated[Optional[str], typer.Option("--timestamp", help="Column holding the time.")]
_Resource = Annotated[Optional[str], typer.Option("--resource", help="Column holding who did it.")]
_Role = Annotated[Optional[str], typer.Option("--role", help="Column holding the role (the lane).")]
_System = Annotated[Optional[str], typer.Option("--system", help="Column holding the system.")]
_Reason = Annotated[Optional[str], typer.Option("--reason", help="Column holding exception reasons.")]
_Timezone = Annotated[str, typer.Option("--timezone", help="Zone of timestamps without an offset.")]
_TimestampFormat = Annotated[Optional[str], typer.Option("--timestamp-format",
                                                         help="strptime format, e.g. '%d-%m-%Y %H:%M'.")]


def _read(path: Path, *, attributes: bool, **columns: str | None) -> EventLog:
    from backoffice.events.reader import read_log
    return read_log(path, attributes=attributes, **columns)


def _load(path: Path) -> Definition:
    from backoffice.definitions import load_definition
    try:
        return load_definition(path)
    except DefinitionError as exc:
        raise _one_line(exc) from exc


def _one_line(exc: DefinitionError) -> UserError:
    """Say a broken definition in one line: its first problem, and how to see them all."""
    more = len(exc.problems) - 1
    return UserError(str(exc.problems[0]) + (f" (and {more} more problem{'' if more == 1 else 's'}; see them all "
                                              f"with: backoffice check {exc.path})" if more else ""))


def _say(text: str, *, to: Console = console) -> None:
    to.print(text, markup=False, highlight=False, soft_wrap=True)


def draft_command(
    log_path: _Log,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write the draft here (default: print it).")]
    = None,
    coverage: Annotated[float, typer.Option("--coverage", help="Draft from the most frequent variants covering this "
                                                               "share of cases.")] = 0.95,
    workflow_id: Annotated[Optional[str], typer.Option("--id", help="The draft's id (default: from the log's name).")]
    = None,
    title: Annotated[Optional[str], typer.Option("--title", help="The draft's title.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the output file if it exists.")] = False,
    log_format: _Format = None, case: _Case = None, activity: _Activity = None, timestamp: _Timestamp = None,
    resource: _Resource = None, role: _Role = None, system: _System = None, reason: _Reason = None,
    timezone: _Timezone = "UTC", timestamp_format: _TimestampFormat = None,
) -> None:
    """Draft a workflow definition from an event log: states, roles, transitions and exception reasons.

    The draft passes `backoffice check` once its owner and trigger are filled in.
    """
    from backoffice.cli.outputs import write_all
    from backoffice.definitions.draft import draft_definition
    if out is not None and out.exists() and not force:
        raise OutputFileError(out, "it exists; use --force to replace it")
    log = _read(log_path, attributes=True, format=log_format, case=case, activity=activity, timestamp=timestamp,
                resource=resource, role=role, system=system, reason=reason, timezone=timezone,
                timestamp_format=timestamp_format)
    draft = draft_definition(log, coverage=coverage, workflow_id=workflow_id, title=title)
    summary = [f"drafted {draft.workflow_id}: {draft.states} states, {draft.transitions} transitions, "
               f"{draft.roles} roles, {draft.exception_reasons} exception reasons",
               f"from the {draft.variants} most frequent variants, covering {draft.coverage:.1%} of "
               f"{draft.cases:,} cases" + (f"; left out {len(draft.left_out)} activit"
                                           f"{'y' if len(draft.left_out) == 1 else 'ies'} seen only outside them"
                                           if draft.left_out else "")]
    if out is None:
        typer.echo(draft.text, nl=False)
        for line in summary:
            _say(line, to=errors)
        return
    write_all({out: draft.text})
    for line in summary:
        _say(line)
    _say(f"wrote {out}; next: fill in the owner and the trigger, settle each TODO, then: backoffice check {out}")


def conform_command(
    log_path: _Log,
    definition_path: Annotated[Path, typer.Argument(metavar="FILE", help="The workflow definition (YAML).")],
    json_path: Annotated[Optional[Path], typer.Option("--json", help="Write the whole report, every case, as JSON.")]
    = None,
    activities: Annotated[Optional[Path], typer.Option(
        "--activities", help="YAML: log activity -> state id, for activities named unlike their states.")] = None,
    shared_resources: Annotated[Optional[list[str]], typer.Option(
        "--shared-resource", help="A resource name many people share (repeatable): separation of duties is not "
                                  "judged on it.")] = None,
    no_detect_shared: Annotated[bool, typer.Option(
        "--no-detect-shared", help="Judge every resource name as one person's, even one acting in many roles.")]
    = False,
    strict: Annotated[bool, typer.Option("--strict", help="Exit with status 1 when any case does not conform.")]
    = False,
    top: Annotated[int, typer.Option(help="Example cases shown per deviation.")] = 3,
    log_format: _Format = None, case: _Case = None, activity: _Activity = None, timestamp: _Timestamp = None,
    resource: _Resource = None, role: _Role = None, system: _System = None, reason: _Reason = None,
    timezone: _Timezone = "UTC", timestamp_format: _TimestampFormat = None,
) -> None:
    """Replay a log against a definition: which cases conform, and every deviation with its cases.

    Deviations: transitions the definition does not allow, skipped approvals, separation-of-duties
    breaches, SLA breaches in business time, and activities that are no state.
    """
    from backoffice.cli.outputs import write_all
    from backoffice.definitions.conformance import conform
    if top < 0:
        raise BadOption("--top", top, "a whole number of 0 or more")
    definition = _load(definition_path)
    mapping = _activity_map(activities) if activities else None
    log = _read(log_path, attributes=False, format=log_format, case=case, activity=activity, timestamp=timestamp,
                resource=resource, role=role, system=system, reason=reason, timezone=timezone,
                timestamp_format=timestamp_format)
    report = conform(log, definition, activities=mapping, shared_resources=shared_resources or (),
                     detect_shared=not no_detect_shared)
    if json_path:
        write_all({json_path: report.model_dump_json(indent=2)})
    _show(report, log_path, definition_path, top=top)
    if json_path:
        _say(f"JSON: {json_path}")
    if strict and report.non_conforming:
        raise typer.Exit(code=1)


def docs_command(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="A folder of workflow definitions (*.yaml).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the pages.")] = Path("workflow-docs"),
) -> None:
    """Write a page per workflow (HTML and Markdown, with its state diagram) and an index."""
    from backoffice.cli.outputs import write_all
    from backoffice.definitions.docs import document_folder
    try:
        pages = document_folder(folder)
    except DefinitionError as exc:
        raise _one_line(exc) from exc
    if out.exists() and not out.is_dir():
        raise OutputFileError(out, "it is a file, not a folder for the pages")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputFileError(out, exc.strerror or str(exc)) from exc
    write_all({out / name: text for name, text in pages.items()})
    workflows = sum(name.endswith(".svg") for name in pages)
    _say(f"wrote {workflows} workflow{'' if workflows == 1 else 's'} to {out}: index.html, index.md, and per "
         f"workflow a .html page, a .md page and its .svg diagram")
    _say(f"open: {(out / 'index.html').resolve()}")


def _activity_map(path: Path) -> dict[str, str]:
    """Read a YAML mapping of log activity -> state id."""
    import yaml
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigFileError(path, f"cannot read the file ({exc})", expected="a UTF-8 YAML file") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigFileError(path, f"not valid YAML ({getattr(exc, 'problem', exc)})",
                              line=mark.line + 1 if mark else None, column=mark.column + 1 if mark else None,
                              expected="log activity: state id") from exc
    if not isinstance(document, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                  for k, v in document.items()):
        raise ConfigFileError(path, "not a mapping of activity names to state ids", expected="log activity: state id")
    return document


def _cases(count: int) -> str:
    return f"{count:,} case{'' if count == 1 else 's'}"


def _show(report: ConformanceReport, log_path: Path, definition_path: Path, *, top: int) -> None:
    share = report.conforming / report.cases if report.cases else 0.0
    _say(f"{log_path.name} against {report.workflow} version {report.version} ({definition_path})")
    _say(f"{report.cases:,} cases: {report.conforming:,} conform ({share:.1%}), {report.non_conforming:,} do not"
         + (f"; {report.open_cases:,} still open at the end of the log" if report.open_cases else ""))
    activities = len(report.activity_states) + len(report.unmapped_activities)
    unmapped_events = sum(report.unmapped_activities.values())
    _say(f"{activities} activities: {len(report.activity_states)} matched to states"
         + (f", {len(report.unmapped_activities)} of no state ({unmapped_events:,} events)"
            if report.unmapped_activities else ""))
    if not report.deviations:
        _say("no deviations")
    # One line per deviation, grouped by kind: an auditor greps and pastes these.
    for kind in dict.fromkeys(d.kind for d in report.deviations):
        rows = [d for d in report.deviations if d.kind is kind]
        _say(f"{kind.label}: {_cases(report.count(kind))}")
        width = max(len(f"{d.cases:,}") for d in rows)
        for d in rows:
            examples = ", ".join(d.case_ids[:top]) + (" ..." if d.cases > top else "")
            times = f" ({d.occurrences:,} times)" if d.occurrences != d.cases else ""
            _say(f"  {d.cases:>{width},} {'case ' if d.cases == 1 else 'cases'}  {d.detail}{times}"
                 + (f"; e.g. {examples}" if examples else ""))
    for shared in report.shared_resources:
        why = "named with --shared-resource" if shared.given else \
            f"acts as {', '.join(shared.roles)} in {shared.cases:,} cases"
        _say(f"separation of duties is not judged on {shared.name!r}, a name many people share ({why})")
    if report.approvals_unjudged:
        _say(f"{report.approvals_unjudged:,} approvals could not be judged for separation of duties "
             f"(no resource, or a shared name)")
    for note in report.notes:
        _say(f"note: {note}")
