"""Engine commands: `deploy FILE`, `case start|show|list|transition`, `worker`, `dlq list|replay`.

Every command takes `--db` (or BACKOFFICE_DB): a SQLite file, `backoffice.db` in the current
folder by default, or a PostgreSQL URL. Who acts is established, not asserted (see
`backoffice.cli.identity`): the token in BACKOFFICE_TOKEN, else the directory person mapped to
the operating-system user. `--as` acts on behalf of someone (an administrator's or a
delegate's right, checked by the engine); the time is the machine's clock, in UTC.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from backoffice.errors import BadOption, PayloadFileError

if TYPE_CHECKING:
    from backoffice.engine import Case, Engine

# Wide and unwrapped when piped, so scripts and logs get whole lines and untruncated tables.
console = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 200)

Db = Annotated[str, typer.Option("--db", envvar="BACKOFFICE_DB", help="SQLite file or PostgreSQL URL.")]
As = Annotated[Optional[str], typer.Option(
    "--as", metavar="PERSON", help="Act on behalf of PERSON (needs the administrator role or their delegation); "
                                   "you are who BACKOFFICE_TOKEN or your OS account says.")]
Role = Annotated[Optional[str], typer.Option("--role", envvar="BACKOFFICE_ROLE",
                                             help="The role you act in, among those the directory grants you.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]

case_app = typer.Typer(help="Start, show, list and move cases.", no_args_is_help=True)


def _engine(db: str) -> Engine:
    # Imported here: SQLAlchemy and the engine cost start-up time that `map` and `check` need not pay.
    from backoffice.engine import Engine
    from backoffice.store import SqlStore
    return Engine(SqlStore.open(db))


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _payload(text: str, option: str) -> dict[str, Any]:
    """Read a JSON object given inline or as @file.json."""
    from backoffice.limits import MAX_PAYLOAD_BYTES, check_file_size, parse_json
    where: str | Path = option
    if text.startswith("@"):
        path = Path(text[1:])
        check_file_size(path, "the payload file", limit=MAX_PAYLOAD_BYTES)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8"
            raise PayloadFileError(path, f"cannot read the file ({reason})", expected="a JSON object") from exc
        where = path
    try:
        value = parse_json(text, what=str(where))
    except json.JSONDecodeError as exc:
        if isinstance(where, Path):
            raise PayloadFileError(where, f"not JSON: {exc.msg}", line=exc.lineno, column=exc.colno,
                                   expected="a JSON object") from exc
        raise BadOption(option, text, f"a JSON object such as '{{\"amount\": 120}}' or @file.json "
                                      f"(column {exc.colno}: {exc.msg})") from exc
    if not isinstance(value, dict):
        raise BadOption(option, text if not isinstance(where, Path) else f"@{where}",
                        "a JSON object (fields in braces), not a list or a single value")
    return value


def deploy_command(
    path: Annotated[Path, typer.Argument(metavar="FILE", help="A workflow definition YAML file.")],
    db: Db = "backoffice.db",
    actor: As = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the control diff and what would happen; "
                                                            "change nothing.")] = False,
) -> None:
    """Deploy a workflow definition as an immutable version; new cases start on it.

    A version that weakens a control of the deployed one waits for a second person
    (`backoffice workflow approve-change`); the control diff is printed either way.
    """
    engine = _engine(db)
    if dry_run:
        plan = engine.plan_deploy(path, actor=_actor(engine, actor, None), now=_now())
        for line in plan.lines():
            console.print(line)
        version = plan.candidate
        if plan.existing is not None:
            console.print(f"dry run: {version.workflow} version {version.version} is already deployed with this "
                          f"content; nothing would change")
        elif plan.waits:
            console.print(f"dry run: {version.workflow} version {version.version} would wait for a second person "
                          f"(content {version.content_hash})")
        else:
            console.print(f"dry run: {version.workflow} version {version.version} would be deployed "
                          f"(content {version.content_hash[:12]})")
        return
    deployed = engine.deploy(path, actor=_actor(engine, actor, None), now=_now())
    for line in deployed.lines:
        console.print(line)
    if deployed.pending:
        console.print(f"{deployed.workflow} version {deployed.version} waits for a second person: it is not "
                      f"deployed; new cases keep starting on the deployed version")
        console.print(f"  content {deployed.content_hash}")
        console.print(f"  a change-approver other than {deployed.deployed_by} runs: backoffice workflow "
                      f"approve-change {deployed.workflow} {deployed.version} --hash {deployed.content_hash}")
    elif deployed.created:
        console.print(f"deployed {deployed.workflow} version {deployed.version} "
                      f"(content {deployed.content_hash[:12]})")
    else:
        console.print(f"{deployed.workflow} version {deployed.version} is already deployed with this content "
                      f"(content {deployed.content_hash[:12]}); nothing changed")


@case_app.command("start")
def case_start(
    workflow: Annotated[str, typer.Argument(help="The deployed workflow, such as service-request.")],
    data: Annotated[str, typer.Option("--data", help="The payload: a JSON object, or @file.json.")],
    key: Annotated[Optional[str], typer.Option("--key", help="Idempotency key: a retry returns the same case.")]
    = None,
    db: Db = "backoffice.db",
    actor: As = None,
    role: Role = None,
    as_json: AsJson = False,
) -> None:
    """Start a case through the front door: the payload must pass the workflow's inputs."""
    payload = _payload(data, "--data")
    engine = _engine(db)
    case = engine.start_case(workflow, payload, actor=_actor(engine, actor, role), now=_now(),
                             idempotency_key=key)
    if as_json:
        console.print_json(json.dumps(case.as_json()))
        return
    console.print(f"case {case.id} started: {case.workflow} v{case.definition_version}, state {case.state}, "
                  f"{_routing(case)}, version {case.version}")


@case_app.command("show")
def case_show(
    case_id: Annotated[int, typer.Argument(metavar="ID", help="The case id.")],
    db: Db = "backoffice.db",
    as_json: AsJson = False,
) -> None:
    """Show a case: where it stands, its data, and its history."""
    engine = _engine(db)
    case = engine.case(case_id)
    history = engine.history(case_id)
    branches = engine.branches(case_id)
    if as_json:
        events = [{"activity": e.activity, "timestamp": e.timestamp.isoformat(), "resource": e.resource,
                   "role": e.role, "branch": e.branch, "attributes": dict(e.attributes)} for e in history]
        console.print_json(json.dumps({**case.as_json(), "branches": [row.as_json() for row in branches],
                                       "history": events}))
        return
    was = f" (was {case.previous_state})" if case.previous_state else ""
    console.print(f"[bold]case {case.id}[/bold]  {case.workflow} v{case.definition_version}  "
                  f"state [bold]{case.state}[/bold]{was}  version {case.version}")
    console.print(f"{_routing(case)}, requester {case.requester}"
                  + (f", key {case.idempotency_key}" if case.idempotency_key else ""))
    console.print(f"started {_when(case.created_at)}, updated {_when(case.updated_at)}")
    if case.parent_id is not None:
        part = f"branch {case.branch!r}" if case.branch else "sub-case"
        console.print(f"{part} of case {case.parent_id} (opened in {case.parent_state!r})")
    if branches:
        # What the case waits for (or waited for): its branches and sub-cases, each a case of its own.
        rows = Table("branch", "case", "state", "status", "outcome", "due (UTC)", "reason", title="branches",
                     title_justify="left", show_edge=False)
        for row in branches:
            child = engine.case(row.child_id)
            rows.add_row(row.branch, str(row.child_id), child.state, str(row.status), row.outcome or "",
                         _when(row.due_at) if row.due_at else "", row.reason or "")
        console.print(rows)
    data = Table("field", "value", title="data", title_justify="left", show_edge=False)
    for name, value in case.data.items():
        data.add_row(name, value if isinstance(value, str) else json.dumps(value))
    console.print(data)
    steps = Table("when (UTC)", "activity", "to state", "who", "role", title="history", title_justify="left",
                  show_edge=False)
    for event in history:
        behalf = event.attributes.get("on_behalf_of")
        steps.add_row(_when(event.timestamp), event.activity, str(event.attributes.get("to_state", "")),
                      f"{event.resource} on behalf of {behalf}" if behalf else event.resource or "", event.role or "")
    console.print(steps)


@case_app.command("list")
def case_list(
    workflow: Annotated[Optional[str], typer.Option("--workflow", help="Only this workflow.")] = None,
    state: Annotated[Optional[str], typer.Option("--state", help="Only cases in this state.")] = None,
    queue: Annotated[Optional[str], typer.Option("--queue", help="Only cases in this queue.")] = None,
    after: Annotated[int, typer.Option("--after", help="Cases after this id (the next page).")] = 0,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000, help="At most this many cases.")] = 50,
    db: Db = "backoffice.db",
    as_json: AsJson = False,
) -> None:
    """List cases by id, filtered by workflow, state or queue."""
    cases = _engine(db).cases(workflow=workflow, state=state, queue=queue, after_id=after, limit=limit)
    if as_json:
        console.print_json(json.dumps([case.as_json() for case in cases]))
        return
    if not cases:
        console.print("no cases")
        return
    table = Table("id", "workflow", "state", "priority", "queue", "requester", "updated (UTC)", "version",
                  show_edge=False)
    for case in cases:
        table.add_row(str(case.id), f"{case.workflow} v{case.definition_version}", case.state, str(case.priority),
                      case.queue or "-", case.requester, _when(case.updated_at), str(case.version))
    console.print(table)


@case_app.command("transition")
def case_transition(
    case_id: Annotated[int, typer.Argument(metavar="ID", help="The case id.")],
    to: Annotated[str, typer.Argument(metavar="TO", help="The state to move to.")],
    expected_version: Annotated[int, typer.Option("--expected-version", help="The case version you read "
                                                  "(case show); a stale one is refused.")],
    data: Annotated[Optional[str], typer.Option("--data", help="Fields to set: a JSON object, or @file.json.")]
    = None,
    db: Db = "backoffice.db",
    actor: As = None,
    role: Role = None,
    as_json: AsJson = False,
) -> None:
    """Move a case to another state, by the rules of the definition version it started on."""
    changes = _payload(data, "--data") if data is not None else None
    engine = _engine(db)
    before = engine.case(case_id)
    case = engine.transition(case_id, to, actor=_actor(engine, actor, role), expected_version=expected_version,
                             now=_now(), data=changes)
    if as_json:
        console.print_json(json.dumps(case.as_json()))
        return
    console.print(f"case {case.id}: {before.state} -> {case.state}, {_routing(case)}, version {case.version}")


def _routing(case: Case) -> str:
    owner = f", owner {case.owner}" if case.owner else ""
    return f"queue {case.queue or '-'}, priority {case.priority}{owner}"


def _when(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")



task_app = typer.Typer(help="Work queues: list, take, release and complete tasks.", no_args_is_help=True)
exception_app = typer.Typer(help="Raise and resolve exceptions by reason code.", no_args_is_help=True)
Lease = Annotated[int, typer.Option("--lease", min=1, help="Minutes the claim lasts unless renewed.")]


def _actor(engine: Engine, on_behalf_of: str | None, role: str | None):
    """Who this command acts as (see `backoffice.cli.identity`), for whom, in which role."""
    from backoffice.cli.identity import acting
    from backoffice.limits import check_actor_id
    # Only an absent --as means "myself": a blank one is a mistake, refused as such (not read as "me").
    if on_behalf_of is not None:
        check_actor_id(on_behalf_of)
    return acting(engine, on_behalf_of=on_behalf_of, role=role)


def _task_line(task) -> str:
    held = f", claimed by {task.claimed_by}" if task.claimed_by else ""
    due = f", due {_when(task.due_at)}" if task.due_at else ""
    who = task.assignee or task.role or "anyone"
    return (f"task {task.id}: case {task.case_id} {task.state} ({task.kind}), queue {task.queue or '-'}, "
            f"for {who}, priority {task.priority}{due}{held}")


@task_app.command("list")
def task_list(
    queue: Annotated[Optional[str], typer.Option("--queue", help="Only this queue.")] = None,
    case_id: Annotated[Optional[int], typer.Option("--case", help="Only this case.")] = None,
    db: Db = "backoffice.db",
    as_json: AsJson = False,
) -> None:
    """List open tasks by id."""
    tasks = _engine(db).tasks(queue=queue, case_id=case_id, limit=1000)
    if as_json:
        console.print_json(json.dumps([task.as_json() for task in tasks]))
        return
    if not tasks:
        console.print("no open tasks")
        return
    table = Table("id", "case", "state", "kind", "queue", "for", "priority", "due (UTC)", "claimed by",
                  show_edge=False)
    for task in tasks:
        table.add_row(str(task.id), str(task.case_id), task.state, str(task.kind), task.queue or "-",
                      task.assignee or task.role or "anyone", str(task.priority),
                      _when(task.due_at) if task.due_at else "-", task.claimed_by or "-")
    console.print(table)


@task_app.command("next")
def task_next(
    queue: Annotated[list[str], typer.Option("--queue", help="A queue to take from (repeat for several).")],
    db: Db = "backoffice.db", actor: As = None, role: Role = None, lease: Lease = 30,
) -> None:
    """Claim the most urgent task you may take: priority, then SLA due time, then age."""
    from datetime import timedelta
    engine = _engine(db)
    task = engine.next_task(queue, actor=_actor(engine, actor, role), now=_now(), lease=timedelta(minutes=lease))
    console.print(_task_line(task) if task else f"no task to take in {', '.join(queue)}")


@task_app.command("claim")
def task_claim(task_id: Annotated[int, typer.Argument(metavar="ID")], db: Db = "backoffice.db", actor: As = None,
               role: Role = None, lease: Lease = 30) -> None:
    """Claim a task (one claimant at a time; the claim lapses after --lease minutes)."""
    from datetime import timedelta
    engine = _engine(db)
    task = engine.claim(task_id, actor=_actor(engine, actor, role), now=_now(), lease=timedelta(minutes=lease))
    console.print(_task_line(task))


@task_app.command("release")
def task_release(task_id: Annotated[int, typer.Argument(metavar="ID")], db: Db = "backoffice.db",
                 actor: As = None, role: Role = None) -> None:
    """Give a claimed task back to its queue."""
    engine = _engine(db)
    console.print(_task_line(engine.release(task_id, actor=_actor(engine, actor, role), now=_now())))


@task_app.command("complete")
def task_complete(
    task_id: Annotated[int, typer.Argument(metavar="ID")],
    to: Annotated[str, typer.Option("--to", help="The state the case moves to.")],
    data: Annotated[Optional[str], typer.Option("--data", help="Fields to set: a JSON object, or @file.json.")]
    = None,
    db: Db = "backoffice.db", actor: As = None, role: Role = None,
) -> None:
    """Complete a task you hold by moving its case on, in one transaction."""
    changes = _payload(data, "--data") if data is not None else None
    engine = _engine(db)
    task = engine.complete(task_id, actor=_actor(engine, actor, role), now=_now(), to=to, data=changes)
    case = engine.case(task.case_id)
    console.print(f"task {task.id} completed: case {case.id} {task.state} -> {case.state}, {_routing(case)}")


def approve_command(
    case_id: Annotated[int, typer.Argument(metavar="CASE", help="The case id.")],
    reject: Annotated[bool, typer.Option("--reject", help="Vote against.")] = False,
    evidence: Annotated[Optional[list[str]], typer.Option("--evidence", help="Attach a named document first "
                                                          "(NAME or NAME=REFERENCE; repeat).")] = None,
    note: Annotated[Optional[str], typer.Option("--note", help="Why.")] = None,
    db: Db = "backoffice.db", actor: As = None, role: Role = None,
) -> None:
    """Vote on a case's approval; the case moves on when the quorum is reached or on a rejection."""
    engine = _engine(db)
    who = _actor(engine, actor, role)
    for item in evidence or []:
        name, _, reference = item.partition("=")
        engine.attach_evidence(case_id, name, actor=who, now=_now(), reference=reference or None)
    case = engine.approve(case_id, actor=who, now=_now(), reject=reject, note=note)
    verb = "rejected" if reject else "approved"
    console.print(f"case {case.id}: {who} {verb}; state {case.state}")


@exception_app.command("raise")
def exception_raise(
    case_id: Annotated[int, typer.Argument(metavar="CASE")],
    reason: Annotated[str, typer.Argument(metavar="REASON", help="A reason code of the definition.")],
    note: Annotated[Optional[str], typer.Option("--note", help="What is wrong.")] = None,
    db: Db = "backoffice.db", actor: As = None, role: Role = None,
) -> None:
    """Raise an exception: the case goes to the reason's state and a task to its resolver."""
    engine = _engine(db)
    case = engine.raise_exception(case_id, reason, actor=_actor(engine, actor, role), now=_now(), note=note)
    routed = ", ".join(_task_line(t) for t in engine.tasks(case_id=case.id))
    console.print(f"case {case.id}: exception {reason} raised, state {case.state}; {routed or 'no task'}")


@exception_app.command("resolve")
def exception_resolve(
    case_id: Annotated[int, typer.Argument(metavar="CASE")],
    note: Annotated[Optional[str], typer.Option("--note", help="How it was resolved.")] = None,
    db: Db = "backoffice.db", actor: As = None, role: Role = None,
) -> None:
    """Resolve the case's open exception: back where the taxonomy says, or to its end."""
    engine = _engine(db)
    case = engine.resolve_exception(case_id, actor=_actor(engine, actor, role), now=_now(), note=note)
    console.print(f"case {case.id}: exception resolved, state {case.state}")


# --- the worker and the dead-letter queue ---

dlq_app = typer.Typer(help="The dead-letter queue: automated steps whose attempts ran out.", no_args_is_help=True)


def _registry(modules: list[str], webhooks: list[str]):
    """Build the worker's actions: registries named as module:attribute or file.py:attribute, and NAME=URL webhooks."""
    from backoffice.engine.actions import ActionRegistry
    from backoffice.engine.webhook import webhook_action
    registry = ActionRegistry()
    for spec in modules:
        module_name, _, attribute = spec.partition(":")
        module = _actions_module(module_name, spec)
        found = getattr(module, attribute or "registry", None)
        if not isinstance(found, ActionRegistry):
            held = "nothing" if found is None else f"a {type(found).__name__}"
            raise BadOption("--actions", spec, f"module:attribute or file.py:attribute naming an ActionRegistry "
                                               f"({attribute or 'registry'} holds {held} there)")
        for name in found:
            registry.register(name, found.get(name))
    for spec in webhooks:
        name, _, url = spec.partition("=")
        if not name or not url.startswith(("http://", "https://")):
            raise BadOption("--webhook", spec, "NAME=URL, such as notify_erp=https://erp.internal/hooks")
        registry.register(name, webhook_action(url))
    return registry


def _actions_module(name: str, spec: str):
    """Import a module by name, or load a Python file by path (a team's actions need not be a package).

    Nothing of a file runs before it is checked: it must exist, be a .py file within the size
    limit, and compile; then it runs, and whatever it raises is reported as the option's error.
    """
    import importlib
    import importlib.util

    from backoffice.limits import check_file_size

    def refuse(problem: str, exc: BaseException | None = None) -> BadOption:
        return BadOption("--actions", spec, f"module:attribute or file.py:attribute naming an ActionRegistry "
                                            f"({problem})")

    try:
        if not name.endswith(".py"):
            if not name or importlib.util.find_spec(name) is None:
                raise refuse(f"no module {name!r} can be imported")
            return importlib.import_module(name)
        path = Path(name)
        if not path.is_file():
            raise refuse(f"no Python file at {name}")
        check_file_size(path, "the actions file")
        source = path.read_bytes()
        compile(source, str(path), "exec")  # a syntax error is reported before any of its code runs
        module_spec = importlib.util.spec_from_file_location(f"backoffice_actions_{path.stem}", path)
        if module_spec is None or module_spec.loader is None:
            raise refuse(f"{name} cannot be loaded as a module")
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        return module
    except BadOption:
        raise
    except SyntaxError as exc:
        raise refuse(f"{exc.filename or name}, line {exc.lineno}: syntax error: {exc.msg}") from None
    except (Exception, SystemExit) as exc:  # the file's own code failed: its error is the user's to fix
        raise refuse(f"importing it raised {type(exc).__name__}: {str(exc)[:300]}") from None


def worker_command(
    db: Db = "backoffice.db",
    once: Annotated[bool, typer.Option("--once", help="Run the due steps once, then stop.")] = False,
    poll: Annotated[float, typer.Option("--poll", min=0.05, help="Seconds between polls when idle.")] = 1.0,
    actions: Annotated[Optional[list[str]], typer.Option(
        "--actions", help="module:attribute or file.py:attribute of an ActionRegistry to run (repeatable).")]
    = None,
    webhooks: Annotated[Optional[list[str]], typer.Option(
        "--webhook", help="NAME=URL: run action NAME as a CloudEvents webhook (repeatable).")] = None,
    notify: Annotated[Optional[str], typer.Option(
        "--notify", help="URL that receives notifications (reminders, escalations) as CloudEvents.")] = None,
    checkpoint_every: Annotated[float, typer.Option(
        "--checkpoint-every", min=0, help="Minutes between signed checkpoints of the audit trail (0: none).")] = 5.0,
    lease: Annotated[float, typer.Option(
        "--lease", help="Seconds a claim on a step lasts (1 to 86400); renewed while its action runs.")] = 300.0,
) -> None:
    """Fire due reminders and escalations; run automated steps and notifications from the outbox."""
    import time

    from datetime import timedelta

    from backoffice.engine.worker import Worker
    from backoffice.limits import check_lease
    registry = _registry(actions or [], [*(webhooks or []), *([f"notify={notify}"] if notify else [])])
    leased_for = check_lease(timedelta(seconds=lease), "--lease")
    engine = _engine(db)
    # The worker is who BACKOFFICE_TOKEN (a service account's token, as a rule) or the OS user says;
    # it must hold the worker role, asked again at every poll.
    worker = Worker(engine, registry, account=_actor(engine, None, None).id, lease=leased_for,
                    checkpoint_every=timedelta(minutes=checkpoint_every) if checkpoint_every else None)
    said: dict[str, int] = {}
    try:
        while True:
            # The clock is read here, in the command line, and passed in: the engine never reads it.
            report = worker.run_once(_now())
            if report.timers or report.escalated_approvals:
                console.print(f"{report.timers} reminder(s) and escalation(s) fired, "
                              f"{report.escalated_approvals} approval(s) handed to the secondary approver")
            if report.claimed or report.in_doubt:
                console.print(f"{report.claimed} outbox entr{'y' if report.claimed == 1 else 'ies'}: "
                              f"{report.done} done, {report.retried} to retry, {report.dead} dead, "
                              f"{report.manual} to people, {report.in_doubt} in doubt"
                              + (f" ({report.timed_out} past their timeout)" if report.timed_out else ""))
            if report.checkpoint_refused:
                Console(stderr=True, highlight=False, soft_wrap=True).print(
                    f"[bold red]{report.checkpoint_refused}[/bold red]")
            for why in report.timers_refused:
                Console(stderr=True, highlight=False, soft_wrap=True).print(f"a timer was not fired: {why}",
                                                                            markup=False)
            if report.in_doubt:
                console.print("steps in doubt wait for a person to confirm them: backoffice step in-doubt")
            if report.elsewhere and (once or report.elsewhere != said):
                # Said once per change in a loop, so a worker for other actions does not flood its log.
                have = ", ".join(registry) or "none (see --actions and --webhook)"
                console.print("left for a worker with their action: " + ", ".join(
                    f"{count} step{'s' if count != 1 else ''} of {action}" for action, count in
                    sorted(report.elsewhere.items())) + f"; this worker has: {have}")
                said = dict(report.elsewhere)
            if once:
                return
            if report.claimed < worker.batch:
                time.sleep(poll)
    except KeyboardInterrupt:
        console.print("worker stopped")


@dlq_app.command("list")
def dlq_list(db: Db = "backoffice.db", as_json: AsJson = False) -> None:
    """List the dead letters, oldest first."""
    entries = _engine(db).dead_letters(limit=1000)
    if as_json:
        console.print_json(json.dumps([entry.as_json() for entry in entries]))
        return
    if not entries:
        console.print("the dead-letter queue is empty")
        return
    table = Table("id", "case", "state", "action", "attempts", "failed at", "last error")
    for entry in entries:
        table.add_row(str(entry.id), str(entry.case_id), entry.state, entry.action, str(entry.attempts),
                      _when(entry.finished_at) if entry.finished_at else "-", entry.last_error or "")
    console.print(table)


@dlq_app.command("replay")
def dlq_replay(entry_id: Annotated[int, typer.Argument(metavar="ID")], db: Db = "backoffice.db",
               actor: As = None, role: Role = None) -> None:
    """Put a dead letter back in the outbox with fresh attempts and the same idempotency key (operators only)."""
    engine = _engine(db)
    entry = engine.replay(entry_id, actor=_actor(engine, actor, role), now=_now())
    console.print(f"outbox entry {entry.id} ({entry.action}, case {entry.case_id}) is {entry.status} again, "
                  f"key {entry.idempotency_key}")
