"""Workflow commands: `workflow list|manual|automatic|migrate`, and `case timers ID`.

What an operations lead does to a deployed workflow rather than to one case: see its versions,
send its automated steps to people while a system is down (the fallback) and back, and move
running cases to a newer version.
"""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer
from rich.table import Table

from backoffice.cli.engine_commands import As, AsJson, Db, Role, _actor, _engine, _now, _when, case_app, console

workflow_app = typer.Typer(help="Deployed workflows: versions, manual mode, moving cases to a new version.",
                           no_args_is_help=True)
Workflow = Annotated[str, typer.Argument(metavar="WORKFLOW", help="The workflow id, such as service-request.")]


@workflow_app.command("list")
def workflow_list(db: Db = "backoffice.db", as_json: AsJson = False) -> None:
    """List the deployed versions, with their status, open cases and mode."""
    engine = _engine(db)
    versions = engine.versions()
    rows = [{"workflow": v.workflow, "version": v.version, "status": v.status, "deployed_at": v.deployed_at.isoformat(),
             "deployed_by": v.deployed_by, "manual": engine.manual_mode(v.workflow)} for v in versions]
    if as_json:
        console.print_json(json.dumps(rows))
        return
    if not rows:
        console.print("nothing is deployed; deploy a definition with `backoffice deploy FILE`")
        return
    table = Table("workflow", "version", "status", "deployed (UTC)", "by", "automated steps", show_edge=False)
    for version, row in zip(versions, rows):
        table.add_row(version.workflow, str(version.version), version.status, _when(version.deployed_at),
                      version.deployed_by, "to people (manual)" if row["manual"] else "worker")
    console.print(table)


@workflow_app.command("manual")
def workflow_manual(workflow: Workflow, db: Db = "backoffice.db", actor: As = None, role: Role = None) -> None:
    """Send the workflow's automated steps to people (its fallback queue) instead of the worker."""
    engine = _engine(db)
    engine.set_mode(workflow, manual=True, now=_now(), actor=_actor(engine, actor, role))
    console.print(f"{workflow}: automated steps now go to people (manual mode); "
                  f"`backoffice workflow automatic {workflow}` hands them back to the worker")


@workflow_app.command("automatic")
def workflow_automatic(workflow: Workflow, db: Db = "backoffice.db", actor: As = None, role: Role = None) -> None:
    """Hand the workflow's automated steps back to the worker."""
    engine = _engine(db)
    engine.set_mode(workflow, manual=False, now=_now(), actor=_actor(engine, actor, role))
    console.print(f"{workflow}: automated steps run on the worker again")


@workflow_app.command("migrate")
def workflow_migrate(
    workflow: Workflow,
    to_version: Annotated[Optional[int], typer.Option("--to", help="The version to move to (default: latest).")]
    = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would move; change nothing.")] = False,
    db: Db = "backoffice.db",
    actor: As = None,
    role: Role = None,
    as_json: AsJson = False,
) -> None:
    """Move open cases of older versions to a newer one, where their state exists with the same kind."""
    engine = _engine(db)
    migration = engine.migrate_cases(workflow, actor=_actor(engine, actor, role), now=_now(), to_version=to_version,
                                     dry_run=dry_run)
    if as_json:
        console.print_json(json.dumps({
            "workflow": workflow, "to_version": migration.to_version, "dry_run": dry_run,
            "moved": [case.id for case in migration.moved],
            "left": [{"case": left.case.id, "version": left.case.definition_version, "state": left.case.state,
                      "reason": left.reason} for left in migration.left]}))
        return
    verb = "would move" if dry_run else "moved"
    console.print(f"{workflow}: {verb} {len(migration.moved)} open case(s) to version {migration.to_version}; "
                  f"{len(migration.left)} stay on their version")
    if migration.left:
        table = Table("case", "version", "state", "why it stays", show_edge=False)
        for left in migration.left:
            table.add_row(str(left.case.id), str(left.case.definition_version), left.case.state, left.reason)
        console.print(table)


@case_app.command("timers")
def case_timers(case_id: Annotated[int, typer.Argument(metavar="ID", help="The case id.")],
                db: Db = "backoffice.db", as_json: AsJson = False) -> None:
    """Show a case's reminders and escalations: when each falls due, and whether it fired."""
    timers = _engine(db).timers(case_id)
    if as_json:
        console.print_json(json.dumps([{"id": t.id, "name": t.name, "kind": str(t.kind), "clock": str(t.clock),
                                         "state": t.state, "status": str(t.status),
                                         "due_at": t.due_at.isoformat() if t.due_at else None,
                                         "settled_at": t.settled_at.isoformat() if t.settled_at else None}
                                        for t in timers]))
        return
    if not timers:
        console.print(f"case {case_id} has no timers")
        return
    table = Table("timer", "kind", "counts", "due (UTC)", "status", show_edge=False)
    for timer in timers:
        counts = f"time in {timer.state}" if timer.state else f"{timer.clock} SLA"
        due = _when(timer.due_at) if timer.due_at else "paused"
        table.add_row(timer.name, str(timer.kind), counts, due, str(timer.status))
    console.print(table)
