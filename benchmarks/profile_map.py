"""Where `backoffice map` spends its time and memory, stage by stage and SQL by SQL.

    python benchmarks/profile_map.py benchmarks/data/p2p-1500000-seed7.csv
    python benchmarks/profile_map.py LOG.parquet --sql --cprofile 30

Stages: imports, read_log, analyze, JSON. For each: wall time, the resident memory after
it, and the peak during it (Linux: the peak counter is reset between stages through
/proc/self/clear_refs). --sql times every DuckDB statement (execution and fetching) and
names the Python function that sent it; --cprofile N prints the N costliest functions by
cumulative time.
"""

from __future__ import annotations

import argparse
import cProfile
import inspect
import pstats
import sys
import time
from collections import defaultdict
from pathlib import Path

began = time.perf_counter()


def memory() -> tuple[int, int]:
    """(current RSS, peak RSS since the last reset) in MiB, from /proc/self/status."""
    values = {}
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(("VmRSS", "VmHWM")):
                name, amount, _ = line.split()
                values[name.rstrip(":")] = int(amount) // 1024
    return values.get("VmRSS", 0), values.get("VmHWM", 0)


def reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        pass


class SqlLog:
    """Time spent in each DuckDB statement, by the first words of the SQL and its caller."""

    def __init__(self) -> None:
        self.seconds: dict[tuple[str, str], float] = defaultdict(float)
        self.calls: dict[tuple[str, str], int] = defaultdict(int)

    def add(self, key: tuple[str, str], seconds: float, *, statement: bool) -> None:
        self.seconds[key] += seconds
        self.calls[key] += statement

    def print(self, top: int) -> None:
        total = sum(self.seconds.values())
        print(f"\nDuckDB statements: {total:.2f} s in all (execution + fetching), costliest first")
        for (caller, sql), seconds in sorted(self.seconds.items(), key=lambda item: -item[1])[:top]:
            print(f"  {seconds:7.2f} s  x{self.calls[(caller, sql)]:<3} {caller:<40} {sql}")


class Timed:
    """A transparent stand-in for a DuckDB connection or relation that times what it runs."""

    RUNS = {"execute", "sql", "query", "fetchall", "fetchone", "fetchmany", "fetchnumpy", "fetchdf", "df",
            "arrow", "to_arrow_table", "fetch_arrow_table", "pl", "to_df", "create", "create_view"}

    def __init__(self, target, log: SqlLog, key: tuple[str, str] | None = None) -> None:
        self._target = target
        self._log = log
        self._key = key

    def __getattr__(self, name: str):
        value = getattr(self._target, name)
        if name not in self.RUNS or not callable(value):
            return value

        def timed(*args, **kwargs):
            key = self._key
            statement = name in ("execute", "sql", "query") and bool(args)
            if statement:
                caller = inspect.stack()[1]
                where = f"{Path(caller.filename).stem}.{caller.function}:{caller.lineno}"
                key = (where, " ".join(str(args[0]).split())[:90])
            start = time.perf_counter()
            result = value(*args, **kwargs)
            if key is not None:
                self._log.add(key, time.perf_counter() - start, statement=statement)
            if type(result).__name__ in ("DuckDBPyConnection", "DuckDBPyRelation"):
                return Timed(result, self._log, key)
            return result

        return timed

    def __iter__(self):
        return iter(self._target)


def install_sql_log(log: SqlLog) -> None:
    """Make duckdb.connect hand out timed connections (for code that calls duckdb.connect())."""
    import duckdb
    connect = duckdb.connect

    def timed_connect(*args, **kwargs):
        return Timed(connect(*args, **kwargs), log)

    duckdb.connect = timed_connect


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("log", type=Path)
    parser.add_argument("--sql", action="store_true", help="time each DuckDB statement")
    parser.add_argument("--cprofile", type=int, default=0, metavar="N", help="print the N costliest functions")
    parser.add_argument("--json", type=Path, help="write the map here (default: render it and drop it)")
    args = parser.parse_args(argv)

    rows: list[tuple[str, float, int, int]] = []
    sql_log = SqlLog()
    profiler = cProfile.Profile() if args.cprofile else None

    reset_peak()
    start = time.perf_counter()
    import duckdb  # noqa: F401
    if args.sql:
        install_sql_log(sql_log)
    from backoffice.events.reader import read_log
    from backoffice.mapping.analyze import analyze
    rows.append(("imports", time.perf_counter() - start, *memory()))

    if profiler:
        profiler.enable()
    reset_peak()
    start = time.perf_counter()
    log = read_log(args.log)
    rows.append(("read_log", time.perf_counter() - start, *memory()))

    reset_peak()
    start = time.perf_counter()
    process_map = analyze(log)
    rows.append(("analyze", time.perf_counter() - start, *memory()))

    reset_peak()
    start = time.perf_counter()
    document = process_map.model_dump_json(indent=2)
    if args.json:
        args.json.write_text(document, encoding="utf-8")
    rows.append(("JSON", time.perf_counter() - start, *memory()))
    if profiler:
        profiler.disable()

    print(f"{args.log}: {len(log):,} events; interpreter start to here {time.perf_counter() - began:.2f} s")
    print(f"{'stage':<10} {'wall s':>8} {'RSS after MiB':>14} {'peak in stage MiB':>18}")
    for stage, seconds, rss, peak in rows:
        print(f"{stage:<10} {seconds:8.2f} {rss:14,} {peak:18,}")
    if args.sql:
        sql_log.print(top=25)
    if profiler:
        print()
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.sort_stats("cumulative").print_stats(r"backoffice|duckdb|pyarrow", args.cprofile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
