"""`backoffice serve` as a process of its own, started in a tenth of a second, for the tests that speak HTTP.

Each test gets a real server process: `backoffice serve --db ... --port ...` run through the
command line's `main`, which hands Uvicorn the server's factory and its production options, over
the test's own database. Python takes seconds to import the platform, too long to pay once per
test on both databases; so a launcher process imports it once (see launcher.py) and forks a
server per test from that state. What each server runs is the command's own code, with one
change: its clock reads the time the test sets in a file (`SharedClock`), because tests move time
instead of waiting for it.

The test process keeps its own engine over the same database to arrange what HTTP does not offer
(bootstrapping the directory, deploying the fixture workflow): the two processes share only the
database, the evidence folder, the audit key and the clock file, as two servers of one
deployment would (except the clock).
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx

SRC = Path(__file__).resolve().parents[2] / "src"
LAUNCHER = Path(__file__).with_name("launcher.py")
START_SECONDS = 60


class SharedClock:
    """The test's clock, written to a file that the server process reads each time it asks the time."""

    def __init__(self, path: Path, now: datetime) -> None:
        self.path = path
        self.now = now

    @property
    def now(self) -> datetime:
        return self._now

    @now.setter
    def now(self, value: datetime) -> None:
        self._now = value
        # Replaced whole, so the server never reads half a timestamp.
        partial = self.path.with_suffix(".partial")
        partial.write_text(value.isoformat(), encoding="utf-8")
        os.replace(partial, self.path)

    def __call__(self) -> datetime:
        return self._now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class Launcher:
    """The process that forks the servers; one for the test session, started on first use."""

    _running: Launcher | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        environment = {**os.environ, "PYTHONPATH": str(SRC)}
        self.process = subprocess.Popen([sys.executable, str(LAUNCHER)], env=environment, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, bufsize=1)
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the server launcher did not start (exit {self.process.poll()})")

    @classmethod
    def shared(cls) -> Launcher:
        with cls._lock:
            if cls._running is None or cls._running.process.poll() is not None:
                cls._running = cls()
                atexit.register(cls._running.close)
            return cls._running

    def ask(self, request: dict) -> dict:
        self.process.stdin.write(json.dumps(request) + "\n")
        answer = self.process.stdout.readline()
        if not answer:
            raise RuntimeError(f"the server launcher ended (exit {self.process.poll()})")
        return json.loads(answer)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=60)


class ServerProcess:
    """`backoffice serve` over `database` on a free loopback port, in a process of its own; stopped at the end.

    `settings` are BACKOFFICE_ settings (name without the prefix, value as the environment holds it).
    """

    def __init__(self, database: str, folder: Path, clock: SharedClock, settings: dict[str, str] | None = None) -> None:
        self.database = database
        self.folder = folder
        self.clock = clock
        self.settings = {"ACCESS_LOG": "false", "EVIDENCE_DIR": str(folder / "evidence"), **(settings or {})}
        self.log = folder / "server.log"
        self.pid = 0
        self.port = 0
        self.url = ""

    def __enter__(self) -> ServerProcess:
        environment = {name: value for name, value in os.environ.items()
                       if not name.startswith("BACKOFFICE_") or name in ("BACKOFFICE_AUDIT_KEY", "BACKOFFICE_CHECKPOINTS")}
        environment.update({f"BACKOFFICE_{name}": value for name, value in self.settings.items()})
        launched = Launcher.shared().ask({"database": self.database, "cwd": str(self.folder), "env": environment,
                                          "clock": str(self.clock.path), "log": str(self.log)})
        self.pid, self.port = launched["pid"], launched["port"]
        self.url = f"http://127.0.0.1:{self.port}"
        self._wait_until_listening()
        return self

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/health", timeout=5)
                return
            except httpx.TransportError:
                if Launcher.shared().ask({"poll": self.pid})["status"] is not None:
                    break
                time.sleep(0.02)   # waiting for the process to listen, not for the clock
        self._stop()
        raise RuntimeError(f"`backoffice serve` did not listen on {self.url}:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def _stop(self) -> int:
        return Launcher.shared().ask({"stop": self.pid})["status"]

    def __exit__(self, *exc_info: object) -> None:
        status = self._stop()
        # Ctrl-C's signal ends `backoffice serve` cleanly (status 0), its store closed at shutdown.
        assert status == 0, f"`backoffice serve` ended with status {status}:\n{self.output()}"

