"""Forks `backoffice serve` processes for the tests, from a process that imported the platform once.

Run by server_process.py. It reads one JSON request a line on stdin and answers one JSON line:

    {"database": ..., "cwd": ..., "env": {...}, "clock": path, "log": path}  ->  {"pid": ..., "port": ...}
    {"poll": pid}                                                             ->  {"status": null | exit status}
    {"stop": pid}                                                             ->  {"status": exit status}

A child runs the command line's `main(["serve", "--db", database, "--port", port])` as the
`backoffice` program does; the only difference is its clock: the server factory is handed one
that reads the time the test wrote to `clock`. The launcher holds no thread, no database
connection and no socket when it forks, so the child inherits nothing but imported modules.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import time
from datetime import datetime
from pathlib import Path

STOP_SECONDS = 30


class FileClock:
    """The time the test last wrote to a file (the test moves it; it never follows the machine's)."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)

    def __call__(self) -> datetime:
        return datetime.fromisoformat(self.path.read_text(encoding="utf-8"))


def import_the_platform() -> None:
    import backoffice.cli.app  # noqa: F401  (the command line, `serve` among its commands)
    import backoffice.server  # noqa: F401  (the factory Uvicorn is handed)
    import uvicorn  # noqa: F401
    # What Uvicorn and the store import only when they start.
    for name in ("uvicorn.loops.auto", "uvicorn.protocols.http.auto", "uvicorn.protocols.websockets.auto",
                 "uvicorn.lifespan.on", "sqlite3", "psycopg", "sqlalchemy.dialects.postgresql.psycopg",
                 "sqlalchemy.dialects.sqlite.pysqlite"):
        try:
            __import__(name)
        except ImportError:
            pass
    # Typer builds the command line's Click commands from the functions' signatures on every
    # run (a third of a second); the launcher builds them once, and every server reuses them.
    import typer.main

    from backoffice.cli.app import app
    built = typer.main.get_command(app)
    build = typer.main.get_command
    typer.main.get_command = lambda typer_app: built if typer_app is app else build(typer_app)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_server(request: dict, port: int) -> None:
    """In the child: become `backoffice serve` over the request's database; never returns."""
    status = 1
    try:
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])

        import backoffice.server
        from backoffice.cli.app import main
        create_server = backoffice.server.create_server
        clock = FileClock(request["clock"])
        backoffice.server.create_server = lambda settings=None, **options: create_server(
            settings, **{**options, "clock": clock})
        try:
            main(["serve", "--db", request["database"], "--port", str(port)])
            status = 0
        except SystemExit as exit_:
            status = exit_.code if isinstance(exit_.code, int) else 1
    except BaseException:  # noqa: BLE001  (the child reports any failure in its log and its status)
        import traceback
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def stop(pid: int) -> int:
    """Send Ctrl-C's signal, as an operator would, and wait for the end; kill after STOP_SECONDS."""
    try:
        os.kill(pid, signal.SIGINT)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + STOP_SECONDS
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)   # waiting for the process to end, not for the clock
    os.kill(pid, signal.SIGKILL)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def poll(pid: int) -> int | None:
    """The child's exit status if it ended, else None; it is left to `stop` to reap."""
    ended = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    if ended is None:
        return None
    return ended.si_status if ended.si_code == os.CLD_EXITED else -ended.si_status


def main() -> None:
    import_the_platform()
    print("ready", flush=True)
    running: set[int] = set()
    try:
        for line in sys.stdin:
            request = json.loads(line)
            if "stop" in request:
                answer = {"status": stop(request["stop"])}
                running.discard(request["stop"])
            elif "poll" in request:
                answer = {"status": poll(request["poll"])}
            else:
                port = free_port()
                sys.stdout.flush()
                pid = os.fork()
                if pid == 0:
                    run_server(request, port)
                running.add(pid)
                answer = {"pid": pid, "port": port}
            print(json.dumps(answer), flush=True)
    finally:
        # The test session ended (or died) with servers still up: none outlives it.
        for pid in running:
            stop(pid)


if __name__ == "__main__":
    main()
