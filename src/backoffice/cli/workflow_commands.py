"""Workflow commands: `workflow list|manual|automatic|migrate|calendar`, and `case timers ID`.

What an operations lead does to a deployed workflow rather than to one case: see its versions,
send its automated steps to people while a system is down (the fallback) and back, and move
running cases to a newer version.
"""

from __future__ import annotations

import json
from pathlib import Path
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
    """Send the workflow's automated steps to people (its fallback queue) instead of the worker (operators only)."""
    engine = _engine(db)
    engine.set_mode(workflow, manual=True, now=_now(), actor=_actor(engine, actor, role))
    console.print(f"{workflow}: automated steps now go to people (manual mode); "
                  f"`backoffice workflow automatic {workflow}` hands them back to the worker")


@workflow_app.command("automatic")
def workflow_automatic(workflow: Workflow, db: Db = "backoffice.db", actor: As = None, role: Role = None) -> None:
    """Hand the workflow's automated steps back to the worker (operators only)."""
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
    """Move open cases of older versions to a newer one, where their state exists with the same kind (operators)."""
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


Hash = Annotated[str, typer.Option("--hash", help="The full content hash of the version you reviewed "
                                                 "(backoffice workflow changes).")]
Note = Annotated[Optional[str], typer.Option("--note", help="Why.")]


@workflow_app.command("calendar")
def workflow_calendar(
    workflow: Workflow,
    file: Annotated[Optional[Path], typer.Option("--file", metavar="CALENDAR.yaml",
                                                 help="The calendar as a definition's `calendar:` says it.")] = None,
    name: Annotated[Optional[str], typer.Option("--name", help="The calendar's name, such as head-office.")] = None,
    timezone: Annotated[Optional[str], typer.Option("--timezone", help="An IANA zone, such as Europe/Amsterdam.")
                        ] = None,
    hours: Annotated[Optional[str], typer.Option("--hours", help="Working hours, such as 08:30-12:00,13:00-17:30.")
                     ] = None,
    days: Annotated[Optional[str], typer.Option("--days", help="Working days, such as mon,tue,wed,thu.")] = None,
    country: Annotated[Optional[str], typer.Option("--country", help="Public holidays of, such as NL.")] = None,
    subdivision: Annotated[Optional[str], typer.Option("--subdivision", help="And of the region, such as BY.")
                           ] = None,
    closed: Annotated[Optional[list[str]], typer.Option("--closed", metavar="DATE",
                                                        help="An extra closure date (repeat for more).")] = None,
    db: Db = "backoffice.db",
    role: Role = None,
) -> None:
    """Deploy the next version of WORKFLOW with this business calendar (administrators only).

    Running cases keep the calendar of the version they started on; new cases count on this one. A
    workflow whose change rules ask for a second person waits for one (`workflow changes`).
    """
    from backoffice.cli.calendar_input import CalendarInputError, calendar_from_file, calendar_from_options
    options = (name, timezone, hours, days, country, subdivision, closed)
    if file is not None and any(options):
        raise CalendarInputError("--file and the calendar options were both given; expected one or the other")
    calendar = calendar_from_file(file) if file is not None else calendar_from_options(
        name=name, timezone=timezone, hours=hours, days=days, country=country, subdivision=subdivision,
        closed=list(closed or []))
    engine = _engine(db)
    # Administrator acts are one's own (no --as); the engine refuses anyone else (NotAdministrator).
    deployed = engine.change_calendar(workflow, calendar, actor=_actor(engine, None, role), now=_now())
    if deployed.pending:
        console.print(f"{workflow} version {deployed.version} with the new calendar waits for a second person "
                      f"(content {deployed.content_hash}); see `backoffice workflow changes {workflow}`")
    else:
        console.print(f"{workflow} version {deployed.version} is deployed with calendar {calendar.name} "
                      f"({calendar.timezone}); running cases keep the calendar they started on")


@workflow_app.command("changes")
def workflow_changes(
    workflow: Annotated[Optional[str], typer.Argument(metavar="[WORKFLOW]", help="Only this workflow.")] = None,
    show_all: Annotated[bool, typer.Option("--all", help="Decided changes too.")] = False,
    db: Db = "backoffice.db",
    as_json: AsJson = False,
) -> None:
    """List the versions waiting for a second person, with their content hash and control diff."""
    changes = _engine(db).changes(workflow, status=None if show_all else "pending")
    if as_json:
        console.print_json(json.dumps([{"workflow": c.candidate.workflow, "version": c.candidate.version,
                                        "content_hash": c.candidate.content_hash, "status": c.status,
                                        "requested_by": c.requested_by, "requested_at": c.requested_at.isoformat(),
                                        "decided_by": c.decided_by, "reasons": dict(c.reasons)} for c in changes]))
        return
    if not changes:
        console.print("no change waits for a second person")
        return
    for change in changes:
        version = change.candidate
        decided = f", {change.status} by {change.decided_by}" if change.decided_by else ""
        console.print(f"{version.workflow} version {version.version}: {change.status}, deployed by "
                      f"{change.requested_by} at {_when(change.requested_at)} UTC{decided}")
        console.print(f"  content {version.content_hash}")
        diff = change.reasons.get("control_diff", {})
        for item in diff.get("changes", []):
            verdict = "weakens" if item["weakens"] else "tightens"
            console.print(f"  {verdict}: {item['kind']} at {item['where']}: {item['old'] or '-'} -> "
                          f"{item['new'] or '-'} ({item['reason']})")
        if change.reasons.get("second_approver_required"):
            console.print("  the change rules ask for a second approver")


@workflow_app.command("approve-change")
def workflow_approve_change(
    workflow: Workflow,
    version: Annotated[int, typer.Argument(metavar="VERSION")],
    content_hash: Hash,
    note: Note = None,
    db: Db = "backoffice.db",
    actor: As = None,
    role: Role = None,
) -> None:
    """Approve a pending version by its content hash: it becomes the deployed version (change-approvers only)."""
    engine = _engine(db)
    who = engine.identify(_actor(engine, actor, role), workflow=workflow, now=_now())
    deployed = engine.approve_change(workflow, version, content_hash=content_hash, actor=who, now=_now(), note=note)
    console.print(f"approved: {deployed.workflow} version {deployed.version} is deployed "
                  f"(content {deployed.content_hash[:12]}, deployed by {deployed.deployed_by}, approved by {who})")


@workflow_app.command("reject-change")
def workflow_reject_change(
    workflow: Workflow,
    version: Annotated[int, typer.Argument(metavar="VERSION")],
    content_hash: Hash,
    note: Note = None,
    db: Db = "backoffice.db",
    actor: As = None,
    role: Role = None,
) -> None:
    """Reject a pending version (change-approvers), or withdraw your own: it is never deployed."""
    engine = _engine(db)
    change = engine.reject_change(workflow, version, content_hash=content_hash, actor=_actor(engine, actor, role),
                                  now=_now(), note=note)
    console.print(f"rejected: {workflow} version {version} (content {change.candidate.content_hash[:12]}) "
                  f"will not be deployed")


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
