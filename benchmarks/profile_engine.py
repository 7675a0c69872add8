"""Where a Backoffice approval case spends its time: by engine call, by SQL statement count, and with cProfile.

    python benchmarks/profile_engine.py --cases 500
    python benchmarks/profile_engine.py --cases 500 --cprofile 40 --spiff

First a plain run (no profiler) times each engine call of the `backoffice-queue` variant of
bench_engine.py and counts the SQL statements and commits each makes. Then, with --cprofile N,
a run under cProfile prints its time grouped by library (SQLAlchemy, the sqlite3 driver, the
engine, CEL...) and the N functions with the most time of their own. --spiff profiles the
SpiffWorkflow variant the same way, for comparison.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from sqlalchemy import event

import backoffice_workload as workload
import spiff_workload
from engine_databases import fresh_sqlite
from engine_results import Moments, approves, payload

DATA = Path(__file__).resolve().parent / "data" / "engine"
CALLS = ("start_case", "transition", "next_task", "complete")


class CallTimes:
    """Wall seconds, SQL statements and commits per engine call, summed over a run."""

    def __init__(self, engine) -> None:
        self.seconds: Counter[str] = Counter()
        self.cpu: Counter[str] = Counter()
        self.statements: Counter[str] = Counter()
        self.commits: Counter[str] = Counter()
        self.sql: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.current = ""
        event.listen(engine.store.engine, "before_cursor_execute", self._statement)
        event.listen(engine.store.engine, "commit", self._commit)

    def timed(self, name: str, call, *args, **kwargs):
        self.current = name
        started, cpu_started = time.perf_counter(), time.process_time()
        try:
            return call(*args, **kwargs)
        finally:
            self.seconds[name] += time.perf_counter() - started
            self.cpu[name] += time.process_time() - cpu_started
            self.current = ""

    def _statement(self, _connection, _cursor, statement: str, *_args) -> None:
        self.statements[self.current] += 1
        self.sql[self.current][" ".join(statement.split())[:110]] += 1

    def _commit(self, _connection) -> None:
        self.commits[self.current] += 1


MOMENT = Moments()
"""Each call at its own moment, as bench_engine.py gives them."""


def one_case(engine, number: int, times: CallTimes | None = None) -> None:
    """Run one case the way bench_engine's backoffice-queue variant does."""
    def call(name, function, *args, **kwargs):
        return times.timed(name, function, *args, **kwargs) if times else function(*args, **kwargs)
    case = call("start_case", engine.start_case, workload.WORKFLOW, payload(number), actor=workload.REQUESTER,
                now=MOMENT())
    case = call("transition", engine.transition, case.id, "review", actor=workload.REVIEWER,
                expected_version=case.version, now=MOMENT())
    task = call("next_task", engine.next_task, workload.QUEUE, actor=workload.REVIEWER, now=MOMENT(),
                lease=workload.LEASE)
    call("complete", engine.complete, task.id, actor=workload.REVIEWER, now=MOMENT(), to=workload.decided_state(number),
         data={"approved": approves(number)})


def by_call(cases: int, *, statements: bool) -> None:
    engine = workload.open_engine(str(fresh_sqlite(DATA, "profile-calls.db")), deploy=True)
    times = CallTimes(engine)
    for number in range(cases):
        one_case(engine, number, times)
    engine.store.close()
    total, cpu = sum(times.seconds.values()), sum(times.cpu.values())
    print(f"\nbackoffice-queue, {cases} cases without a profiler: {1000 * total / cases:.2f} ms a case "
          f"(CPU {1000 * cpu / cases:.2f} ms), {cases / total:.1f} cases/s")
    print(f"{'call':<12} {'ms/call':>8} {'CPU ms':>7} {'share':>6} {'SQL statements/call':>20} {'commits/call':>13}")
    for name in CALLS:
        print(f"{name:<12} {1000 * times.seconds[name] / cases:8.2f} {1000 * times.cpu[name] / cases:7.2f} "
              f"{times.seconds[name] / total:6.0%} {times.statements[name] / cases:20.1f} "
              f"{times.commits[name] / cases:13.1f}")
    print(f"{'a case':<12} {1000 * total / cases:8.2f} {1000 * cpu / cases:7.2f} {'100%':>6} "
          f"{sum(times.statements.values()) / cases:20.1f} {sum(times.commits.values()) / cases:13.1f}")
    if statements:
        for name in CALLS:
            print(f"\nthe SQL of one {name} (statements a call, the first 110 characters of each)")
            for text, count in times.sql[name].items():
                print(f"  {count / cases:4.1f}  {text}")


def area(filename: str, function: str) -> str:
    """Name the library a profiled function belongs to."""
    if filename == "~":
        if "sqlite3.Connection" in function and "commit" in function:
            return "sqlite3: COMMIT (waiting for the disk)"
        if "sqlite3" in function:
            return "sqlite3: statements"
        return "built-ins"
    found = re.search(r"site-packages/([^/]+)/", filename)
    if found:
        return found.group(1)
    found = re.search(r"backoffice/(\w+)/", filename)
    if found:
        return f"backoffice.{found.group(1)}"
    if "/lib/python3" in filename:
        return "standard library: " + Path(filename).stem
    return Path(filename).name


def profiled(run, top: int, title: str) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    run()
    profiler.disable()
    stats = pstats.Stats(profiler)
    areas: defaultdict[str, float] = defaultdict(float)
    for (filename, _line, function), (_cc, _nc, own, _cum, _callers) in stats.stats.items():
        areas[area(filename, function)] += own
    total = sum(areas.values())
    print(f"\n{title}: {total:.2f} s under cProfile, own time by library")
    for name, seconds in sorted(areas.items(), key=lambda item: -item[1])[:15]:
        print(f"  {seconds:7.2f} s {seconds / total:5.0%}  {name}")
    print(f"\nthe {top} functions with the most time of their own")
    stats.sort_stats("tottime").print_stats(top)
    print(f"\nthe {top} functions with the most time, callees included")
    stats.sort_stats("cumulative").print_stats(top)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--cprofile", type=int, default=0, metavar="N", help="also profile; print the top N functions")
    parser.add_argument("--spiff", action="store_true", help="profile the SpiffWorkflow variant too")
    parser.add_argument("--statements", action="store_true", help="list the SQL statements of each engine call")
    args = parser.parse_args(argv)
    by_call(args.cases, statements=args.statements)
    if args.cprofile:
        engine = workload.open_engine(str(fresh_sqlite(DATA, "profile-cprofile.db")), deploy=True)
        engine.running(workload.WORKFLOW, 1)
        profiled(lambda: [one_case(engine, number) for number in range(args.cases)], args.cprofile,
                 f"backoffice-queue, {args.cases} cases")
        engine.store.close()
        if args.spiff:
            database = fresh_sqlite(DATA, "profile-spiff.db")
            profiled(lambda: spiff_workload.run_cases(database, args.cases), args.cprofile,
                     f"spiff, {args.cases} cases")
    return 0


if __name__ == "__main__":
    sys.exit(main())
