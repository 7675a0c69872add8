"""Server-side p95 of the web app's busiest pages over a large PostgreSQL workspace (a benchmark, not a test).

    python benchmarks/bench_web.py                         # 100,000 cases
    python benchmarks/bench_web.py --cases 170000          # and a million events
    python benchmarks/bench_web.py --cases 2000 --requests 30 --json web.json

How the workspace is made: by copied_workspace (beside this file), a seed of real work played
through the engine by the demo's simulation, its rows then copied in SQL until the workspace has
the cases asked for, in a schema of its own, dropped at the end (--keep keeps it). The events per
case are the simulation's (some six on average), so 100,000 cases hold some 600,000 events: ask
for more cases (--cases 170000) to pass a million; the figures name the counts.

How it measures. The server is the one `backoffice serve` runs (backoffice.server), served by
Uvicorn on a loopback port in this process, wrapped so the time from a request's arrival to its
response's last byte is taken on the server's side. A bounded number of requests per page are
sent one after another by people of the cast, signed in through the sign-in page with their
demo passwords. A page that is not there (404 on its route) is skipped and named as absent.
Prints a table and writes the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import sqlalchemy as sa  # noqa: E402

from copied_workspace import copy_until, play_seed, workspace_counts  # noqa: E402
from engine_databases import DEFAULT_POSTGRES_URL, fresh_postgres_schema, postgres_unavailable  # noqa: E402
from latency_figures import latency_ms  # noqa: E402

PAGES = (
    # (label, who asks, path; {case} is replaced by a case id, cycling through the seed's cases)
    ("my work", "bea", "/work"),
    ("my work list", "bea", "/work/list"),
    ("case page", "admin", "/cases/{case}"),
    ("dashboards", "olga", "/dashboards"),
    ("approvals", "ivan", "/approvals"),
    ("board", "olga", "/board/purchase-request"),
)

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000, help="cases in the workspace (default 100,000)")
    parser.add_argument("--seed-cases", type=int, default=400, help="cases played through the engine before copying")
    parser.add_argument("--requests", type=int, default=50, help="requests per page")
    parser.add_argument("--postgres", default=os.environ.get("BACKOFFICE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    parser.add_argument("--json", type=Path, default=Path("bench-web.json"), help="where to write the figures")
    parser.add_argument("--keep", action="store_true", help="keep the schema (its URL is printed)")
    parser.add_argument("--workspace", metavar="URL", help="measure over this workspace, built before by copied_workspace "
                        "(its first --seed-cases cases are the seed's), instead of building one")
    args = parser.parse_args(argv)
    why = postgres_unavailable(args.postgres)
    if why:
        print(f"bench_web: {why}", file=sys.stderr)
        return 2
    os.environ.setdefault("BACKOFFICE_AUDIT_KEY", str(Path.cwd() / ".bench-web-audit.key"))
    os.environ.setdefault("BACKOFFICE_CHECKPOINTS", str(Path.cwd() / ".bench-web-checkpoints"))
    if args.workspace:
        counts = workspace_counts(args.workspace)
        built = 0.0
        engine = sa.create_engine(args.workspace)
        with engine.connect() as connection:
            seed_ids = [row[0] for row in connection.execute(sa.text("SELECT id FROM cases ORDER BY id LIMIT :n"),
                                                             {"n": args.seed_cases})]
        engine.dispose()
        print(f"workspace (built before): {counts['cases']:,} cases, {counts['events']:,} events, "
              f"{counts['tasks']:,} tasks")
        figures = measure(args.workspace, seed_ids, requests=args.requests)
    else:
        with fresh_postgres_schema(args.postgres, "web") as url:
            began = time.perf_counter()
            seed_ids = play_seed(url, cases=min(args.seed_cases, args.cases))
            seeded = time.perf_counter() - began
            counts = copy_until(url, cases=args.cases)
            built = time.perf_counter() - began
            print(f"workspace: {counts['cases']:,} cases, {counts['events']:,} events, {counts['tasks']:,} tasks "
                  f"(seed of {len(seed_ids)} played in {seeded:.0f} s; built in {built:.0f} s)")
            figures = measure(url, seed_ids, requests=args.requests)
            if args.keep:
                print(f"kept: {url}")
                input("press Enter to drop the schema")
    report = {"cases": counts["cases"], "events": counts["events"], "tasks": counts["tasks"],
              "seed_cases": len(seed_ids), "requests_per_page": args.requests, "build_seconds": round(built, 1),
              "load_average": os.getloadavg(), "pages": figures}
    args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print_table(figures)
    print(f"figures: {args.json}")
    return 0


# --- the measurement ---

class Timed:
    """An ASGI wrapper that keeps, per request, the time from its arrival to its response's last byte."""

    def __init__(self, app) -> None:
        self.app = app
        self.durations: list[tuple[str, float]] = []

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()

        async def timed_send(message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                self.durations.append((scope["path"], time.perf_counter() - began))

        await self.app(scope, receive, timed_send)


def measure(url: str, case_ids: list[int], *, requests: int) -> dict[str, dict[str, object]]:
    """Serve the workspace on loopback and time `requests` requests to each page; return the figures per page."""
    import httpx
    import uvicorn

    from backoffice.tour.cast import person

    os.environ["BACKOFFICE_DATABASE"] = url
    from backoffice.server import server_from_environment

    timed = Timed(server_from_environment())
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(timed, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)  # Waiting for a real server to listen, not for simulated time.
    figures: dict[str, dict[str, object]] = {}
    clients: dict[str, httpx.Client] = {}
    try:
        for label, who, path in PAGES:
            if who not in clients:
                clients[who] = signed_in(base, who, person(who).password)
            client = clients[who]
            first = client.get(path.replace("{case}", str(case_ids[0])))
            # Every case is visible to whoever asks for it here, so a 404 means the page is not there.
            if first.status_code == 404:
                figures[label] = {"path": path, "absent": True, "status": 404}
                print(f"{label}: {path} is absent here (404): skipped")
                continue
            timed.durations.clear()
            statuses: dict[int, int] = {}
            for index in range(requests):
                answer = client.get(path.replace("{case}", str(case_ids[index % len(case_ids)])))
                statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
            asked = re.compile(re.escape(path).replace(re.escape("{case}"), "[0-9]+") + "$")
            # The last `requests` of them: the server may note the first probe's end after the list was cleared.
            served = [duration for path_served, duration in timed.durations if asked.match(path_served)]
            seconds = served[-requests:]
            figures[label] = {"path": path, "as": who, "requests": len(seconds), "statuses": statuses,
                              **latency_ms(seconds)}
    finally:
        for client in clients.values():
            client.close()
        server.should_exit = True
        thread.join(timeout=10)
    return figures


def signed_in(base: str, who: str, password: str):
    """Return an HTTP client signed in as `who` through the sign-in page (its CSRF token and cookies)."""
    import httpx

    client = httpx.Client(base_url=base, follow_redirects=False, timeout=60)
    page = client.get("/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    answer = client.post("/sign-in", data={"person": who, "password": password, "next": "/",
                                           "csrf_token": token.group(1) if token else ""})
    if answer.status_code not in (302, 303):
        raise SystemExit(f"bench_web: {who} could not sign in ({answer.status_code})")
    return client


def print_table(figures: dict[str, dict[str, object]]) -> None:
    print(f"{'page':<14} {'path':<26} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for label, figure in figures.items():
        if figure.get("absent"):
            print(f"{label:<14} {figure['path']:<26} {'absent':>8}")
            continue
        print(f"{label:<14} {figure['path']:<26} {figure['requests']:>8} {figure['p50_ms']:>8} "
              f"{figure['p95_ms']:>8} {figure['max_ms']:>8}")


if __name__ == "__main__":
    sys.exit(main())
