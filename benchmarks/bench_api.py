"""Client-side latency of the HTTP API under concurrent clients, over a large PostgreSQL workspace (a benchmark).

    python benchmarks/bench_api.py                                        # 100,000 cases, 50 clients
    python benchmarks/bench_api.py --cases 2000 --clients 10 --requests 200 --json api.json

The workspace is built by copied_workspace (beside this file): a seed of real work played
through the engine by the demo's simulation, its rows copied in SQL until there are --cases
cases and the cases' histories lengthened until there are --events events (the issue's 100,000
and 1,000,000 by default), in a fresh PostgreSQL schema dropped at the end. The server is a real `backoffice serve`
(Uvicorn, backoffice.server), started as a subprocess on a free loopback port with --workers
server processes, over that schema. API tokens are made for the people who act through the
engine's directory operations (Engine.create_token, by the administrator), one per client and
person, as an integrator would be given them.

Then --clients clients, each a thread with its own HTTP/1.1 connection (kept alive, `http.client`), run rounds of four
operations until each has sent --requests measured requests or --duration seconds have passed:

    list a queue   GET  /v1/tasks?queue=Q&status=open&limit=50, as a person who works Q, following
                   next_cursor through the queue and starting again at its end
    show a case    GET  /v1/cases/{id}, as the auditor (who reads every case), through the
                   client's own share of the cases (id modulo the number of clients) that the
                   seed played through the engine: the engine refuses a copy (no audit record
                   wrote its row), so neither showing nor moving uses copies
    claim next     POST /v1/tasks/next {"queues": [Q]}, as that worker; the task claimed is
                   released again at once (POST /v1/tasks/{id}/release, timed as "release",
                   without a target), so the queue keeps its work for the next round
    transition     POST /v1/cases/{id}/transitions with If-Match, as the person the workflow
                   lets move it, on the client's own share of the cases that sit in one state of
                   a pair the same person may move both ways (TOGGLES): each case goes back and
                   forth, and the ETag of each answer is the If-Match of the next move

Latency is taken at the client, from sending a request to reading its whole answer (it includes
the client's own share of the two cores). Each client's first round is a warm-up, not counted.
Throughput is each operation's count over the wall time of the measured run (all operations
interleaved). The target (issue 9) is a p95 under 100 ms for each of the four operations.
A report, not a test: prints the table and writes --json, and exits 0 whatever the verdicts;
when no PostgreSQL server answers it says so and skips (exit 0); when the server does not start,
exit 2.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from copied_workspace import copy_until, play_seed, workspace_counts  # noqa: E402
from engine_databases import DEFAULT_POSTGRES_URL, fresh_postgres_schema, postgres_unavailable  # noqa: E402
from latency_figures import latency_ms  # noqa: E402
from run_info import source_state  # noqa: E402

TARGET_P95_MS = 100.0
OPERATIONS = ("list a queue", "show a case", "claim next", "transition")
"""The operations with the issue's target, in the order each round runs them."""

READER = "audrey"
"""Who shows cases: the demo's auditor, who reads every case and moves none."""

TOGGLES = (
    # (workflow, one state, the other, who moves it both ways): pairs of the library's workflows
    # whose transitions go both ways for one role, with no guard or required field in the way.
    ("service-request", "in-progress", "blocked", "raj"),
    ("service-request", "triage", "waiting-on-requester", "dora"),
)


@dataclass
class Workload:
    """What the clients act on, read from the workspace once it is built."""

    queue: str
    worker: str
    toggles: list[tuple[int, str, str, int]]
    """The cases to move: (id, workflow, state, version)."""
    movers: dict[tuple[str, str], tuple[str, str]]
    """(workflow, state) -> (the state to move to, who moves it)."""
    case_ids: list[int]


@dataclass
class Measured:
    """One client's measurements: per operation, latencies in seconds and the statuses answered."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[str, dict[int, int]] = field(default_factory=dict)
    empty_claims: int = 0
    failure: str = ""

    def note(self, operation: str, seconds: float, status: int) -> None:
        self.latencies.setdefault(operation, []).append(seconds)
        by_status = self.statuses.setdefault(operation, {})
        by_status[status] = by_status.get(status, 0) + 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000, help="cases in the workspace (default 100,000)")
    parser.add_argument("--seed-cases", type=int, default=400, help="cases played through the engine before copying")
    parser.add_argument("--events", type=int, default=1_000_000, help="events the workspace holds at least (default "
                        "1,000,000, the issue's: the cases' histories lengthened, see copied_workspace; 0: as copied)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (default 50)")
    parser.add_argument("--requests", type=int, default=400, help="measured requests per client, releases included (a last round "
                        "may pass it by up to four)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds the measured run may last, at most")
    parser.add_argument("--workers", type=int, default=2, help="server processes (`backoffice serve --workers`)")
    parser.add_argument("--postgres-url", default=os.environ.get("BACKOFFICE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    parser.add_argument("--workspace", metavar="URL", help="measure over this workspace, built before (by copied_workspace: "
                        "`python benchmarks/copied_workspace.py URL --cases N`), instead of building one in a fresh schema")
    parser.add_argument("--server-src", type=Path, default=ROOT / "src", metavar="DIR",
                        help="the source the server runs (default: this checkout's src; another checkout's to compare)")
    parser.add_argument("--json", type=Path, default=DATA / "bench-api.json",
                        help="where to write the figures (default benchmarks/data/bench-api.json)")
    args = parser.parse_args(argv)
    for name in ("cases", "seed_cases", "clients", "requests", "workers"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be a whole number from 1, not {getattr(args, name)}")
    why = postgres_unavailable(args.postgres_url)
    if why:
        print(f"bench_api: skipped: {why}", file=sys.stderr)
        return 0
    # The engine seals each act's audit record with this key; the server's processes must find the same one.
    # Both in the git-ignored data folder, not wherever the benchmark is started from.
    DATA.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("BACKOFFICE_AUDIT_KEY", str(DATA / "bench-api-audit.key"))
    os.environ.setdefault("BACKOFFICE_CHECKPOINTS", str(DATA / "bench-api-checkpoints"))
    with _workspace(args) as (url, counts, seed_cases, built):
        workload = read_workload(url)
        print(f"queue: {workload.queue} (worked by {workload.worker}); {len(workload.case_ids):,} cases to show, "
              f"{len(workload.toggles):,} to move "
              f"back and forth; {args.clients} clients, {args.workers} server process(es)")
        tokens = make_tokens(url, workload, clients=args.clients)
        server = ServerProcess(url, workers=args.workers, source=args.server_src)
        with server as base:
            wall, measured, cpu = run_clients(base, workload, tokens, clients=args.clients, requests=args.requests,
                                              duration=args.duration, server_pid=server.process.pid)
    figures = summarize(measured, wall)
    answered = sum(figure.get("count", 0) for figure in figures.values())
    cpu_figures = cpu.per_request(answered)
    report = {"command": " ".join(["python", "benchmarks/bench_api.py", *(sys.argv[1:] if argv is None else argv)]),
              "backoffice_at": source_state(ROOT / "src"), "cases": counts["cases"], "events": counts["events"], "tasks": counts["tasks"],
              "seed_cases": seed_cases, "build_seconds": round(built, 1), "clients": args.clients,
              "server_workers": args.workers, "requests_per_client": args.requests,
              "duration_limit_s": args.duration, "measured_seconds": round(wall, 2), "queue": workload.queue,
              "target_p95_ms": TARGET_P95_MS, "load_average": os.getloadavg(),
              "server_source": args.server_src.name if args.server_src != ROOT / "src" else "src",
              "server_at": source_state(args.server_src),
              "cpu": cpu_figures, "operations": figures}
    args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print_table(figures, wall)
    print(f"CPU per request answered ({answered:,}): server {cpu_figures['server_ms_per_request']} ms, "
          f"clients {cpu_figures['clients_ms_per_request']} ms, PostgreSQL {cpu_figures['database_ms_per_request']} ms, "
          f"whole machine {cpu_figures['machine_ms_per_request']} ms "
          f"(server {cpu_figures['server_cpu_s']} s, clients {cpu_figures['clients_cpu_s']} s, machine busy "
          f"{cpu_figures['machine_busy_s']} s of {cpu_figures['machine_capacity_s']} s)")
    print(f"figures: {args.json}")
    return 0


@contextmanager
def _workspace(args: argparse.Namespace) -> Iterator[tuple[str, dict[str, int], int, float]]:
    """Yield the workspace to measure: (its URL, row counts, seed cases, seconds to build); built here unless given."""
    if args.workspace:
        counts = workspace_counts(args.workspace)
        print(f"workspace (built before): {counts['cases']:,} cases, {counts['events']:,} events "
              f"({counts['events'] / max(counts['cases'], 1):.1f} a case), {counts['tasks']:,} tasks")
        yield args.workspace, counts, 0, 0.0
        return
    with fresh_postgres_schema(args.postgres_url, "api") as url:
        began = time.perf_counter()
        seed_ids = play_seed(url, cases=min(args.seed_cases, args.cases))
        seeded = time.perf_counter() - began
        counts = copy_until(url, cases=args.cases, events=args.events)
        built = time.perf_counter() - began
        print(f"workspace: {counts['cases']:,} cases, {counts['events']:,} events "
              f"({counts['events'] / max(counts['cases'], 1):.1f} a case), {counts['tasks']:,} tasks "
              f"(seed of {len(seed_ids)} played in {seeded:.0f} s; built in {built:.0f} s)")
        yield url, counts, len(seed_ids), built


# --- what the clients act on ---

def read_workload(url: str) -> Workload:
    """Choose the queue to list and claim from, and the cases to move, from the workspace's rows."""
    from backoffice.tour.cast import CAST

    engine = sa.create_engine(url)
    with engine.connect() as connection:
        # The queue with the most open work tasks that a person of the cast works (by the task's role).
        queues = connection.execute(sa.text(
            "SELECT queue, role, COUNT(*) FROM tasks WHERE status = 'open' AND kind = 'work' AND queue IS NOT NULL "
            "GROUP BY queue, role ORDER BY COUNT(*) DESC, queue")).all()
        # Only cases the engine started can be shown or moved: each case row is held to the audit record
        # that wrote it, and a copy (copied_workspace) has none, so the engine refuses it (409, "added to
        # the database outside the engine"). Showing and moving copies measured that refusal instead.
        played = ("id IN (SELECT case_id FROM audit_records WHERE action = 'case.started' "
                  "AND case_id IS NOT NULL)")
        toggles = []
        movers = {}
        for workflow, one, other, who in TOGGLES:
            movers[(workflow, one)] = (other, who)
            movers[(workflow, other)] = (one, who)
            rows = connection.execute(sa.text(
                "SELECT id, state, version FROM cases WHERE workflow = :workflow AND state IN (:one, :other) "
                f"AND {played} ORDER BY id"), {"workflow": workflow, "one": one, "other": other}).all()
            toggles += [(row.id, workflow, row.state, row.version) for row in rows]
        case_ids = [row[0] for row in connection.execute(sa.text(f"SELECT id FROM cases WHERE {played} ORDER BY id"))]
    engine.dispose()
    for queue, role, _ in queues:
        workers = [someone.id for someone in CAST if role in someone.roles]
        if workers:
            return Workload(queue=queue, worker=workers[0], toggles=toggles, movers=movers, case_ids=case_ids)
    raise SystemExit("bench_api: no open work task in a queue that a person of the cast works")


def make_tokens(url: str, workload: Workload, *, clients: int) -> list[dict[str, str]]:
    """Return, for each client, an API token of each person it acts as, made by the administrator."""
    from backoffice.engine import Engine
    from backoffice.store import SqlStore
    from backoffice.tour.cast import ADMIN

    people = {workload.worker, READER} | {who for _, _, _, who in TOGGLES}
    now = datetime.now(timezone.utc)
    with SqlStore.open(url) as store:
        engine = Engine(store)
        return [{who: engine.create_token(who, actor=ADMIN, now=now, valid_for=timedelta(hours=2),
                                          label=f"bench-api client {index}").secret for who in sorted(people)}
                for index in range(clients)]


# --- the server ---

class ServerProcess:
    """`backoffice serve` as a subprocess on a free loopback port over `url`; yields its base URL; stopped after."""

    def __init__(self, url: str, *, workers: int, source: Path = ROOT / "src") -> None:
        self.url = url
        self.workers = workers
        self.source = source

    def __enter__(self) -> str:
        import httpx

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        environment = dict(os.environ, PYTHONPATH=str(self.source), BACKOFFICE_ACCESS_LOG="false",
                           BACKOFFICE_LOG_LEVEL="warning")
        command = [sys.executable, "-c", "import sys; from backoffice.cli.app import main; sys.exit(main())",
                   "serve", "--db", self.url, "--host", "127.0.0.1", "--port", str(port),
                   "--workers", str(self.workers)]
        self.process = subprocess.Popen(command, env=environment)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            # Waiting for a real server to listen (and its database to answer), not for simulated time.
            if self.process.poll() is not None:
                raise SystemExit(f"bench_api: `backoffice serve` stopped with status {self.process.returncode}")
            try:
                if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                    return base
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.__exit__()
                raise SystemExit("bench_api: `backoffice serve` was not ready within 60 s")
            time.sleep(0.2)

    def __exit__(self, *exc_info: object) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# --- the clients ---

def run_clients(base: str, workload: Workload, tokens: list[dict[str, str]], *, clients: int, requests: int,
                duration: float, server_pid: int) -> tuple[float, list[Measured], "CpuUsed"]:
    """Run the clients at once (after one warm-up round each); return the measured wall time, their figures and the CPU used."""
    ready = threading.Barrier(clients + 1)
    measured = [Measured() for _ in range(clients)]
    stop_at: list[float] = []
    threads = [threading.Thread(target=client, args=(base, workload, tokens[index], index, clients, requests,
                                                     measured[index], ready, stop_at), daemon=True)
               for index in range(clients)]
    for thread in threads:
        thread.start()
    ready.wait()          # every client has warmed up
    began = time.perf_counter()
    cpu_before = CpuTimes.now(server_pid)
    stop_at.append(began + duration)
    ready.wait()          # and starts now
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    return wall, measured, CpuUsed(cpu_before, CpuTimes.now(server_pid), wall)


# --- the CPU the run used ---

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class CpuTimes:
    """CPU seconds so far: the server's processes (the one started and its children), this process, every
    PostgreSQL process running (the server's connections, and whatever else uses the database server),
    the machine's busy time."""

    server: float
    clients: float
    database: float
    machine_busy: float

    @classmethod
    def now(cls, server_pid: int) -> "CpuTimes":
        own = os.times()
        processes = _processes()
        return cls(server=_tree_cpu(processes, server_pid), clients=own.user + own.system,
                   database=sum(cpu for _, name, cpu in processes.values() if name.startswith("postgres")),
                   machine_busy=_machine_busy())


@dataclass(frozen=True)
class CpuUsed:
    before: CpuTimes
    after: CpuTimes
    wall: float

    def per_request(self, answered: int) -> dict[str, float]:
        server = self.after.server - self.before.server
        clients = self.after.clients - self.before.clients
        database = self.after.database - self.before.database
        busy = self.after.machine_busy - self.before.machine_busy
        per = (lambda seconds: round(1000 * seconds / answered, 2) if answered else 0.0)
        return {"server_cpu_s": round(server, 1), "clients_cpu_s": round(clients, 1),
                "database_cpu_s": round(database, 1), "machine_busy_s": round(busy, 1),
                "machine_capacity_s": round(self.wall * (os.cpu_count() or 1), 1),
                "server_ms_per_request": per(server), "clients_ms_per_request": per(clients),
                "database_ms_per_request": per(database),
                "machine_ms_per_request": per(busy)}


def _processes() -> dict[int, tuple[int, str, float]]:
    """Every process: pid -> (parent pid, name, user and system CPU seconds) (Linux /proc; empty elsewhere)."""
    found: dict[int, tuple[int, str, float]] = {}
    proc = Path("/proc")
    if not proc.is_dir():
        return found
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            line = (entry / "stat").read_text()
        except OSError:
            continue
        name = line[line.index("(") + 1:line.rindex(")")]
        fields = line.rsplit(")", 1)[1].split()
        # After the name: state, ppid, ... utime (the line's 14th field) and stime (its 15th).
        found[int(entry.name)] = (int(fields[1]), name, (int(fields[11]) + int(fields[12])) / _TICKS)
    return found


def _tree_cpu(processes: dict[int, tuple[int, str, float]], pid: int) -> float:
    """User and system CPU seconds of a process and its descendants still running."""
    tree = {pid}
    grew = True
    while grew:
        grew = False
        for child, (parent, _, _) in processes.items():
            if parent in tree and child not in tree:
                tree.add(child)
                grew = True
    return sum(processes[member][2] for member in tree if member in processes)


def _machine_busy() -> float:
    """The machine's CPU seconds not idle nor waiting, over all cores (Linux /proc/stat; 0 elsewhere)."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except OSError:
        return 0.0
    ticks = [int(value) for value in first[1:]]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
    return (sum(ticks[:8]) - idle) / _TICKS


class Answer:
    """A response read whole: its status, headers and body (`json()` parses the body)."""

    def __init__(self, status_code: int, headers: "http.client.HTTPMessage", body: bytes) -> None:
        self.status_code = status_code
        self.headers = headers
        self.body = body

    def json(self) -> object:
        return json.loads(self.body)


class KeptAlive:
    """One HTTP/1.1 connection kept alive (the standard library's client): a lean load generator.

    httpx cost the clients some 1.1 ms of CPU a request, on the same two cores as the server;
    `http.client` speaks the same HTTP/1.1 with keep-alive for a fraction. Every answer is read
    whole, its status noted by the caller; a connection idle for two seconds is opened again
    before sending (as httpx does with one the server closed).
    """

    def __init__(self, base: str, timeout: float = 30) -> None:
        import http.client
        import urllib.parse

        parts = urllib.parse.urlsplit(base)
        self._connect = lambda: http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        self.connection = self._connect()
        self.used = time.monotonic()

    def __enter__(self) -> "KeptAlive":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.connection.close()

    def request(self, method: str, path: str, *, headers: dict[str, str], params: dict[str, object] | None = None,
                json: object = None) -> Answer:
        import json as json_module
        import urllib.parse

        if params:
            path = f"{path}?{urllib.parse.urlencode(params)}"
        body = None
        if json is not None:
            body = json_module.dumps(json).encode()
            headers = {**headers, "Content-Type": "application/json"}
        if time.monotonic() - self.used > IDLE_REOPEN_S:
            # The server closes a connection idle for 5 s (Uvicorn's keep-alive): open a new one first,
            # as httpx would, rather than send on one the server may be closing (as after the warm-up).
            self.connection.close()
            self.connection = self._connect()
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        self.used = time.monotonic()
        return Answer(response.status, response.msg, data)


IDLE_REOPEN_S = 2.0


def client(base: str, workload: Workload, tokens: dict[str, str], index: int, clients: int, requests: int,
           measured: Measured, ready: threading.Barrier, stop_at: list[float]) -> None:
    """One client: rounds of list, show, claim next (and release), transition, on its own share of the cases."""
    as_person = {who: {"Authorization": f"Bearer {secret}"} for who, secret in tokens.items()}
    shown = workload.case_ids[index::clients] or workload.case_ids
    moving = [list(toggle) for toggle in workload.toggles[index::clients]]
    state = {"cursor": None, "shown": 0, "moved": 0}
    with KeptAlive(base) as http:

        def timed(operation: str | None, method: str, path: str, who: str, **options) -> Answer:
            began = time.perf_counter()
            answer = http.request(method, path, headers={**as_person[who], **options.pop("headers", {})}, **options)
            seconds = time.perf_counter() - began
            if operation is not None:
                measured.note(operation, seconds, answer.status_code)
            return answer

        def one_round(counting: bool) -> int:
            sent = 0
            name = (lambda operation: operation) if counting else (lambda operation: None)
            query = {"queue": workload.queue, "status": "open", "limit": 50}
            if state["cursor"]:
                query["cursor"] = state["cursor"]
            listed = timed(name("list a queue"), "GET", "/v1/tasks", workload.worker, params=query)
            state["cursor"] = listed.json().get("next_cursor") if listed.status_code == 200 else None
            case_id = shown[state["shown"] % len(shown)]
            state["shown"] += 1
            timed(name("show a case"), "GET", f"/v1/cases/{case_id}", READER)
            claimed = timed(name("claim next"), "POST", "/v1/tasks/next", workload.worker,
                            json={"queues": [workload.queue]})
            sent += 3
            if claimed.status_code == 200:
                timed(name("release"), "POST", f"/v1/tasks/{claimed.json()['id']}/release", workload.worker)
                sent += 1
            elif claimed.status_code == 204 and counting:
                measured.empty_claims += 1
            if moving:
                toggle = moving[state["moved"] % len(moving)]
                state["moved"] += 1
                case_id, workflow, current, version = toggle
                to, who = workload.movers[(workflow, current)]
                moved = timed(name("transition"), "POST", f"/v1/cases/{case_id}/transitions", who,
                              json={"to": to}, headers={"If-Match": f'"{version}"'})
                sent += 1
                if moved.status_code == 200:
                    toggle[2], toggle[3] = to, int(moved.headers["ETag"].strip('"'))
            return sent

        try:
            one_round(counting=False)
        except Exception as error:  # noqa: BLE001 - named in the report; the other clients go on
            measured.failure = f"warm-up: {error!r}"
        ready.wait()          # whatever happened, the others must not wait for this client
        ready.wait()
        sent = 0
        try:
            while not measured.failure and sent < requests and time.perf_counter() < stop_at[0]:
                sent += one_round(counting=True)
        except Exception as error:  # noqa: BLE001
            measured.failure = repr(error)


# --- the report ---

def summarize(measured: list[Measured], wall: float) -> dict[str, dict[str, object]]:
    """Merge the clients' figures: per operation, count, statuses, throughput, p50/p95/p99/max, the verdict."""
    figures: dict[str, dict[str, object]] = {}
    for operation in (*OPERATIONS, "release"):
        seconds = sorted(s for m in measured for s in m.latencies.get(operation, ()))
        statuses: dict[str, int] = {}
        for m in measured:
            for status, count in m.statuses.get(operation, {}).items():
                statuses[str(status)] = statuses.get(str(status), 0) + count
        if not seconds:
            figures[operation] = {"count": 0, "statuses": statuses}
            continue
        figure: dict[str, object] = {"count": len(seconds), "statuses": statuses,
                                     "per_second": round(len(seconds) / wall, 1), **latency_ms(seconds)}
        if operation in OPERATIONS:
            figure["target"] = "PASS" if figure["p95_ms"] < TARGET_P95_MS else "FAIL"
        figures[operation] = figure
    figures["claim next"]["empty_claims"] = sum(m.empty_claims for m in measured)
    failures = [f"client {index}: {m.failure}" for index, m in enumerate(measured) if m.failure]
    if failures:
        figures["client failures"] = {"count": 0, "failures": failures}
    return figures


def print_table(figures: dict[str, dict[str, object]], wall: float) -> None:
    print(f"measured for {wall:.1f} s; load average {os.getloadavg()[0]:.1f}")
    print(f"{'operation':<13} {'count':>6} {'non-2xx':>7} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
          f"{'max ms':>8}  target (p95 < {TARGET_P95_MS:.0f} ms)")
    for operation, figure in figures.items():
        if "failures" in figure:
            print("\n".join(figure["failures"]))
            continue
        if not figure["count"]:
            print(f"{operation:<13} {0:>6}  (not run: nothing to act on)")
            continue
        failed = sum(count for status, count in figure["statuses"].items() if not status.startswith("2"))
        print(f"{operation:<13} {figure['count']:>6} {failed:>7} {figure['per_second']:>7} {figure['p50_ms']:>8} "
              f"{figure['p95_ms']:>8} {figure['p99_ms']:>8} {figure['max_ms']:>8}  {figure.get('target', '')}")
    empty = figures["claim next"].get("empty_claims", 0)
    if empty:
        print(f"claim next found the queue empty {empty} time(s) (204)")


if __name__ == "__main__":
    sys.exit(main())
