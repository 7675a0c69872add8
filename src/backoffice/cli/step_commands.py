"""Step commands: `step in-doubt` lists automated steps whose outcome is unknown; `step confirm` settles one.

A step is in doubt when its call may have reached the other system but nobody knows (the
worker died or timed out mid-call, or its attempts ran out after a possible delivery). A
person checks the other system, then:

    backoffice step confirm 12 --happened --result '{"po_number": "PO-881"}'
    backoffice step confirm 12 --not-happened --retry       # or --manual for the manual twin
"""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer
from rich.table import Table

from backoffice.cli.engine_commands import As, AsJson, Db, Role, _actor, _engine, _now, _payload, console
from backoffice.errors import BadOption

step_app = typer.Typer(help="Automated steps in doubt: confirm what happened in the other system.",
                       no_args_is_help=True)


@step_app.command("in-doubt")
def step_in_doubt(db: Db = "backoffice.db", as_json: AsJson = False) -> None:
    """List the steps in doubt, oldest first: nothing is done on them until a person confirms."""
    entries = _engine(db).steps_in_doubt(limit=1000)
    if as_json:
        console.print_json(json.dumps([entry.as_json() for entry in entries]))
        return
    if not entries:
        console.print("no step is in doubt")
        return
    table = Table("id", "case", "state", "action", "attempt", "idempotency key", "why")
    for entry in entries:
        table.add_row(str(entry.id), str(entry.case_id), entry.state, entry.action, str(entry.attempts),
                      entry.idempotency_key, entry.last_error or "")
    console.print(table)


@step_app.command("confirm")
def step_confirm(
    entry_id: Annotated[int, typer.Argument(metavar="ID", help="The outbox entry in doubt (see step in-doubt).")],
    happened: Annotated[Optional[bool], typer.Option(
        "--happened/--not-happened", help="What you found in the other system.")] = None,
    result: Annotated[Optional[str], typer.Option(
        "--result", help="What the other system shows (JSON object or @file.json), with --happened.")] = None,
    retry: Annotated[bool, typer.Option("--retry", help="With --not-happened: run the step again.")] = False,
    manual: Annotated[bool, typer.Option("--manual", help="With --not-happened: hand it to its manual twin.")]
    = False,
    db: Db = "backoffice.db", actor: As = None, role: Role = None,
) -> None:
    """Settle a step in doubt as you found it in the other system."""
    from backoffice.engine.in_doubt import NotHappened
    if happened is None:
        raise BadOption("--happened", "(missing)", "--happened (with --result) or --not-happened (with --retry or "
                                                  "--manual), as you found it in the other system")
    if not happened and retry == manual:
        raise BadOption("--not-happened", "--retry and --manual" if retry else "neither --retry nor --manual",
                        "one of --retry (run the step again) or --manual (hand it to its manual twin)")
    if happened and (retry or manual):
        raise BadOption("--happened", "--retry" if retry else "--manual", "--retry and --manual only with "
                                                                          "--not-happened")
    given = _payload(result, "--result") if result is not None else None
    engine = _engine(db)
    case = engine.confirm_step(entry_id, happened=happened, result=given, actor=_actor(engine, actor, role),
                               now=_now(), then=NotHappened.MANUAL if manual else NotHappened.RETRY)
    what = "done" if happened else ("not done, to run again" if retry else "not done, handed to people")
    console.print(f"outbox entry {entry_id} confirmed {what}: case {case.id} is in {case.state}")
