"""From evidence to definition and back: `backoffice draft`, `backoffice conform` and `backoffice docs`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone as dt_timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console

from backoffice.cli.moments import parse_moment
from backoffice.errors import BadOption, ConfigFileError, DefinitionError, OutputFileError, UserError
from backoffice.wording import plural

if TYPE_CHECKING:
    from backoffice.definitions.conformance import ConformanceReport, VersionsReport
    from backoffice.definitions.model import Definition
    from backoffice.events.schema import EventLog
    from backoffice.store.event_log import LiveWork
    from backoffice.store.sql_store import SqlStore

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
_ObjectType = Annotated[Optional[str], typer.Option("--object-type",
                                                   help="OCEL: the object type whose objects are the cases.")]


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
    timezone: _Timezone = "UTC", timestamp_format: _TimestampFormat = None, object_type: _ObjectType = None,
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
                timestamp_format=timestamp_format, object_type=object_type)
    draft = draft_definition(log, coverage=coverage, workflow_id=workflow_id, title=title)
    summary = [f"drafted {draft.workflow_id}: {plural(draft.states, 'state')}, "
               f"{plural(draft.transitions, 'transition')}, {plural(draft.roles, 'role')}, "
               f"{plural(draft.exception_reasons, 'exception reason')}",
               (f"from the {draft.variants} most frequent variants" if draft.variants != 1 else
                "from the most frequent variant") + f", covering {draft.coverage:.1%} of {plural(draft.cases, 'case')}"
               + (f"; left out {plural(len(draft.left_out), 'activity')} seen only outside them"
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
    log_path: Annotated[Optional[Path], typer.Argument(
        metavar="[LOG]", help="CSV, XES, XES.gz, Parquet or OCEL 2.0 JSON file; left out with --db.")] = None,
    definition_path: Annotated[Optional[Path], typer.Argument(
        metavar="[FILE]", help="The workflow definition (YAML). With --db it may be left out (each case is "
                               "checked against the deployed version it runs on) or name a draft to "
                               "check live work against instead.")] = None,
    db: Annotated[Optional[str], typer.Option(
        "--db", help="Check the engine's live work in this database (file or URL) instead of a log file.")] = None,
    workflow: Annotated[Optional[str], typer.Option(
        "--workflow", help="With --db: the workflow (default: FILE's id, or the only one deployed).")] = None,
    version: Annotated[Optional[int], typer.Option(
        "--version", help="With --db: only the cases on this deployed version.")] = None,
    as_of: Annotated[Optional[str], typer.Option(
        "--as-of", help="With --db: the moment open cases are judged at, their SLA clocks still running "
                        "(default: now).")] = None,
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
    timezone: _Timezone = "UTC", timestamp_format: _TimestampFormat = None, object_type: _ObjectType = None,
) -> None:
    """Replay a log, or the engine's live work (--db), against a definition: which cases conform, and every deviation.

    Deviations: transitions the definition does not allow, skipped approvals, separation-of-duties
    breaches, SLA breaches in business time, and activities (or states) the definition lacks.
    With --db the engine's events name their states exactly, each case is checked against the
    deployed version it runs on, and open cases already past an SLA are named.
    """
    from backoffice.cli.outputs import write_all
    from backoffice.definitions.conformance import conform
    if top < 0:
        raise BadOption("--top", top, "a whole number of 0 or more")
    if db is not None:
        _conform_live(db, [path for path in (log_path, definition_path) if path is not None], workflow=workflow,
                      version=version, as_of=parse_moment(as_of, "--as-of", timezone), json_path=json_path,
                      activities=activities, shared_resources=shared_resources or (),
                      detect_shared=not no_detect_shared, strict=strict, top=top)
        return
    for option, value in (("--workflow", workflow), ("--version", version), ("--as-of", as_of)):
        if value is not None:
            raise BadOption(option, value, "--db DATABASE with it: it picks the live work in a database")
    if log_path is None or definition_path is None:
        raise BadOption("LOG FILE", " ".join(str(p) for p in (log_path, definition_path) if p) or "(none)",
                        "a log file and a definition file, or --db DATABASE [FILE]")
    definition = _load(definition_path)
    mapping = _activity_map(activities) if activities else None
    log = _read(log_path, attributes=False, format=log_format, case=case, activity=activity, timestamp=timestamp,
                resource=resource, role=role, system=system, reason=reason, timezone=timezone,
                timestamp_format=timestamp_format, object_type=object_type)
    report = conform(log, definition, activities=mapping, shared_resources=shared_resources or (),
                     detect_shared=not no_detect_shared)
    if json_path:
        write_all({json_path: report.model_dump_json(indent=2)})
    _show(report, f"{log_path.name} against {report.workflow} version {report.version} ({definition_path})",
          top=top)
    if json_path:
        _say(f"JSON: {json_path}")
    if strict and report.non_conforming:
        raise typer.Exit(code=1)


def _conform_live(db: str, files: list[Path], *, workflow: str | None, version: int | None,
                  as_of: datetime | None, json_path: Path | None, activities: Path | None,
                  shared_resources: Sequence[str], detect_shared: bool, strict: bool,
                  top: int) -> None:
    """Check the engine's live work in a database: each case against its version, or all against a draft.

    Raises:
        BadOption: a log file, --activities, or nothing to check (no engine tables, nothing deployed,
            no case on the workflow or version asked for).
        DatabaseUnavailable: the database does not exist or cannot be read.
        UnknownWorkflow: the workflow, or the version, is not deployed (the message lists what is).
        UserError: the draft definition is broken (its first problem).
    """
    from backoffice.cli.outputs import write_all
    from backoffice.definitions.conformance import conform_versions
    from backoffice.store.event_log import ENGINE_STATES, open_existing, read_live_work
    if len(files) > 1:
        raise BadOption("FILE", " ".join(map(str, files)), "at most one file with --db: a definition (a draft) to "
                                                           "check live work against; the log is the database")
    if activities is not None:
        raise BadOption("--activities", str(activities), "no mapping with --db: the engine's events name their "
                                                         "states exactly")
    draft = _load(files[0]) if files else None
    moment = as_of or datetime.now(dt_timezone.utc)  # the command line is where the clock is read
    store = open_existing(db)
    if store is None or not store.versions():
        if store is not None:
            store.close()
        raise BadOption("--db", db, "a database the engine runs on; it holds no deployed workflow (deploy one "
                                    "with: backoffice deploy FILE --db DATABASE)")
    try:
        name = workflow or (draft.id if draft is not None else None) or _only_workflow(store)
        live = read_live_work(store, name, version=version)
    finally:
        store.close()
    if not live.logs:
        raise _no_live_work(live, version)
    options = {"workflow": live.workflow, "source": live.source, "as_of": moment, "states": ENGINE_STATES,
               "shared_resources": shared_resources, "detect_shared": detect_shared}
    if draft is not None:
        report = conform_versions({draft.version: live.log()}, {draft.version: draft}, **options)
    else:
        report = conform_versions(live.logs, live.definitions, **options)
    if json_path:
        write_all({json_path: report.model_dump_json(indent=2)})
    _show_live(report, live, draft_path=files[0] if files else None, top=top)
    if json_path:
        _say(f"JSON: {json_path}")
    if strict and report.non_conforming:
        raise typer.Exit(code=1)


def _only_workflow(store: SqlStore) -> str:
    names = sorted({stored.workflow for stored in store.versions()})
    if len(names) > 1:
        raise BadOption("--workflow", "(none)", f"one of the deployed workflows: {', '.join(names)}")
    return names[0]


def _no_live_work(live: LiveWork, version: int | None) -> BadOption:
    """Say why there is nothing to check: no case on the version asked for, or no case at all."""
    if version is not None and live.on_version:
        versions = ", ".join(map(str, live.on_version))
        return BadOption("--version", version, f"a version of {live.workflow} that cases run on: {versions}")
    deployed = ", ".join(map(str, live.deployed))
    several = len(live.deployed) > 1
    return BadOption("--workflow", live.workflow,
                     f"a workflow with live work; version{'s' if several else ''} {deployed} "
                     f"{'are' if several else 'is'} deployed but no case has started (start one with: "
                     f"backoffice case start {live.workflow})")


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
        from backoffice.limits import check_file_size, check_yaml
        check_file_size(path)
        text = path.read_text(encoding="utf-8")
        check_yaml(text, str(path))
        document = yaml.safe_load(text)
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
    return plural(count, "case")


def _show_live(report: VersionsReport, live: LiveWork, *, draft_path: Path | None, top: int) -> None:
    as_of = f"{report.as_of:%Y-%m-%d %H:%M} UTC" if report.as_of else "now"
    against = (f"against {draft_path} ({report.reports[0].workflow} version {report.reports[0].version})"
               if draft_path is not None else "each against the deployed version it runs on")
    versions = ", ".join(str(number) for number in live.logs)
    _say(f"live work of {report.workflow} as of {as_of} ({report.source}): {_cases(report.cases)} on "
         f"version{'s' if len(live.logs) > 1 else ''} {versions}, {against}")
    for one in report.reports:
        heading = f"version {one.version}, " + (f"as drafted in {draft_path}" if draft_path is not None
                                                 else "as deployed")
        _show(one, heading, top=top)
    if live.migrated_cases:
        _say(f"note: {_cases(live.migrated_cases)} migrated from an earlier version while running: each is judged, "
             f"moves before the migration too, against the version it runs on now")


def _show(report: ConformanceReport, heading: str, *, top: int) -> None:
    share = report.conforming / report.cases if report.cases else 0.0
    _say(heading)
    if report.as_of is None:
        still_open = f"; {report.open_cases:,} still open at the end of the log"
    else:
        where = ", ".join(f"{count:,} in {state}" for state, count in report.open_states.items())
        still_open = f"; {report.open_cases:,} still open ({where})"
    _say(f"{_cases(report.cases)}: {report.conforming:,} conform ({share:.1%}), {report.non_conforming:,} do not"
         + (still_open if report.open_cases else ""))
    if report.states_from is not None:
        # The engine's events name their states: nothing was matched by name, so say so rather than count matches.
        unknown_events = sum(report.unknown_states.values())
        _say(f"states named exactly by the events ({report.states_from})"
             + (f", {len(report.unknown_states)} not in the definition ({unknown_events:,} "
                f"event{'' if unknown_events == 1 else 's'})"
                if report.unknown_states else "")
             + (f"; never reached: {', '.join(report.unseen_states)}" if report.unseen_states else ""))
    else:
        activities = len(report.activity_states) + len(report.unmapped_activities)
        unmapped_events = sum(report.unmapped_activities.values())
        _say(f"{plural(activities, 'activity')}: {len(report.activity_states)} matched to states"
             + (f", {len(report.unmapped_activities)} of no state ({plural(unmapped_events, 'event')})"
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
            f"acts as {', '.join(shared.roles)} in {plural(shared.cases, 'case')}"
        _say(f"separation of duties is not judged on {shared.name!r}, a name many people share ({why})")
    if report.approvals_unjudged:
        _say(f"{plural(report.approvals_unjudged, 'approval')} could not be judged for separation of duties "
             f"(no resource, or a shared name)")
    for note in report.notes:
        _say(f"note: {note}")
