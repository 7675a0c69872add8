"""`backoffice demo`: the tour of the platform. Build (or reuse) the demo workspace, print the sign-ins, serve it.

The workspace is built by `backoffice.tour` (the library deployed, the cast in the directory,
weeks of seeded simulated work); serving goes through `backoffice serve`'s own code path, so
the tour runs the same web app and API a team would. `--map-only` keeps the first demo: the
map of a bundled real log (see `app.demo`).
"""

from __future__ import annotations

import socket
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console
from rich.table import Table

from backoffice.errors import BadOption


def run_tour(console: Console, errors: Console, *, folder: Path, host: str, port: int | None, serve: bool,
             seed: int, weeks: int, cases: int, rebuild: bool) -> None:
    """Build or reuse the workspace in `folder`, print where it is and who signs in, then serve it unless told not to."""
    from backoffice.tour.cast import CAST, PUBLIC_FORMS
    from backoffice.tour.workspace import TourSettings, prepare_workspace

    if weeks < 1 or cases < 1:
        raise BadOption("--weeks" if weeks < 1 else "--cases", str(min(weeks, cases)), "a whole number from 1")
    settings = TourSettings(seed=seed, weeks=weeks, cases=cases)
    now = datetime.now(timezone.utc)
    with _progress(errors) as progress:
        task = progress.add_task("simulating", total=1.0)
        workspace = prepare_workspace(folder, settings=settings, now=now, rebuild=rebuild,
                                      progress=lambda fraction: progress.update(task, completed=fraction))
    if workspace.reused:
        console.print(f"Reusing the demo workspace in {folder} ({workspace.cases} cases up to "
                      f"{workspace.until:%Y-%m-%d %H:%M} UTC; --rebuild builds it afresh)")
    else:
        console.print(f"Built the demo workspace in {folder}: {workspace.cases} cases over {weeks} week{'s' if weeks != 1 else ''}, "
                      f"{workspace.acts} acts through the engine, in {workspace.seconds:.0f} s (seed {seed})")
    table = Table(title="Demo sign-ins", title_justify="left")
    for column in ("sign in as", "password", "name", "what they do"):
        table.add_column(column, overflow="fold")
    for person in CAST:
        table.add_row(person.id, person.password, person.name, person.title)
    console.print(table)
    if not serve:
        console.print(f"Serve it with: backoffice serve --db {workspace.database}")
        for workflow in PUBLIC_FORMS:
            console.print(f"Public form, for people with no account, at /public/{workflow} of the address it serves")
        return
    chosen = port or _free_port(host)
    shown = f"[{host}]" if ":" in host else host
    console.print(f"[bold green]Open the web app:[/bold green] http://{shown}:{chosen}/   "
                  f"(the API at http://{shown}:{chosen}/v1; stop with Ctrl-C)")
    for workflow in PUBLIC_FORMS:
        console.print(f"Public form, for people with no account: http://{shown}:{chosen}/public/{workflow}")
    from backoffice.cli.serve_command import serve_command
    serve_command(db=str(workspace.database.resolve()), host=host, port=chosen, settings=None, workers=1)


def _free_port(host: str) -> int:
    """Return a TCP port free on `host` now (the system picks one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind((host, 0))
            return probe.getsockname()[1]
    except OSError as exc:
        raise BadOption("--host", host, f"an address of this machine to listen on ({exc.strerror})") from exc


def _progress(errors: Console):
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("simulating weeks of work"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                    TimeElapsedColumn(), console=errors, transient=True, disable=not errors.is_terminal)
