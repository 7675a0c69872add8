"""Speed and memory of `backoffice map` against pm4py 2.7: a report, not a test.

Each measurement runs in its own fresh process. Wall time is taken around the whole
process (interpreter start, imports, reading, analysis, writing), for both tools alike;
peak memory is that process's maximum resident set size, from os.wait4's rusage.

    python benchmarks/bench_map.py                 # all four measurements
    python benchmarks/bench_map.py --skip-big --skip-xes --repeat 3

Measurements:
  a. backoffice map LOG.csv --json OUT --quiet on the synthetic invoice log (--events, 1.5M).
  b. pm4py on the same CSV: pandas.read_csv, pm4py.format_dataframe, discover_dfg,
     discover_performance_dfg, get_variants (benchmarks/pm4py_workload.py).
  c. backoffice map LOG.parquet --json OUT --quiet on a --big-events (15M) Parquet log.
  d. backoffice map bpic2012.xes.gz --json OUT --quiet against pm4py.read_xes alone, and the same map
     with --lifecycle events: reading activity instances (the default) may cost at most 20% more.

Generated logs are cached in benchmarks/data/ (git-ignored). The script always exits 0:
targets are reported as PASS or FAIL.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table

from run_info import source_state

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
SHARED_LOGS = Path(os.environ.get("BACKOFFICE_SHARED_LOGS")
                   or Path(__file__).resolve().parents[1].parent / "shared" / "data" / "logs")
BPIC2012 = "bpic2012.xes.gz"
PM4PY_WORKLOAD = HERE / "pm4py_workload.py"
SYNTHETIC = HERE / "synthetic_log.py"

DUCKDB_READ = ("import sys, duckdb; "
               "duckdb.read_csv(sys.argv[1], header=True).to_arrow_table()")

console = Console(width=None if sys.stdout.isatty() else 130)


@dataclass
class Run:
    """One process: how long it took from start to exit, and its peak memory."""

    wall: float
    cpu: float           # user + system seconds, all threads
    peak_rss: int        # bytes
    returncode: int
    stderr_tail: str = ""


@dataclass
class Measurement:
    """The runs of one command (--repeat times); each figure is their median, or their lowest with pick="best"."""

    label: str
    command: list[str]
    runs: list[Run] = field(default_factory=list)
    note: str = ""
    pick: str = "median"

    @property
    def ok(self) -> bool:
        return bool(self.runs) and all(run.returncode == 0 for run in self.runs)

    def _pick(self, values: list[float]) -> float:
        return min(values) if self.pick == "best" else statistics.median(values)

    @property
    def wall(self) -> float:
        return self._pick([run.wall for run in self.runs])

    @property
    def cpu(self) -> float:
        return self._pick([run.cpu for run in self.runs])

    @property
    def peak_rss(self) -> int:
        return int(self._pick([run.peak_rss for run in self.runs]))


def run_process(command: list[str], *, cwd: Path | None = None) -> Run:
    """Run a command to its end; time it and read its peak RSS from the kernel."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        began = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=cwd)
        # wait4 rather than Popen.wait: it gives the rusage of this child alone, whereas
        # getrusage(RUSAGE_CHILDREN) keeps the maximum over every child reaped so far.
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - began
        process.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        tail = err.read().decode("utf-8", "replace").strip().splitlines()[-5:]
    # ru_maxrss is in kilobytes on Linux (bytes on macOS).
    peak = usage.ru_maxrss if sys.platform == "darwin" else usage.ru_maxrss * 1024
    return Run(wall=wall, cpu=usage.ru_utime + usage.ru_stime, peak_rss=peak, returncode=process.returncode,
               stderr_tail="\n".join(tail))


def measure(label: str, command: list[str], *, repeat: int, pick: str, note: str = "") -> Measurement:
    measurement = Measurement(label=label, command=command, note=note, pick=pick)
    for attempt in range(repeat):
        console.print(f"[dim]{label} ({attempt + 1}/{repeat}): {' '.join(map(str, command))}[/dim]")
        run = run_process(command)
        measurement.runs.append(run)
        status = "ok" if run.returncode == 0 else f"[red]exit {run.returncode}[/red]"
        console.print(f"  {run.wall:7.2f} s wall  {run.cpu:7.2f} s CPU  {mib(run.peak_rss):8,.0f} MiB  {status}")
        if run.returncode != 0:
            console.print(f"[red]{run.stderr_tail}[/red]")
            break
    return measurement


def mib(size: int) -> float:
    return size / (1 << 20)


def warm(path: Path) -> None:
    """Read a file once so both tools find it in the page cache (neither pays the disk)."""
    with open(path, "rb") as handle:
        while handle.read(1 << 24):
            pass


def backoffice_command() -> list[str]:
    script = Path(sys.executable).parent / "backoffice"
    return [str(script)] if script.exists() else [sys.executable, "-m", "backoffice.cli.app"]


def ensure_log(path: Path, *, events: int, seed: int, kind: str) -> float | None:
    """Generate a synthetic log unless it is cached; return the seconds generation took."""
    if path.exists():
        console.print(f"[dim]using cached {path}[/dim]")
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    console.print(f"generating {events:,} events into {path} ...")
    began = time.perf_counter()
    subprocess.run([sys.executable, str(SYNTHETIC), "--events", str(events), "--seed", str(seed),
                    f"--{kind}", str(path), "--quiet"], check=True)
    took = time.perf_counter() - began
    console.print(f"  generated in {took:.1f} s")
    return took


def summary_of_map(path: Path) -> dict:
    document = json.loads(path.read_text(encoding="utf-8"))
    summary = document["summary"]
    return {"events": summary["events"], "cases": summary["cases"], "variants": summary["variants"],
            "paths": len(document["edges"]), "path_count": sum(edge["count"] for edge in document["edges"])}


def compare(ours: dict, theirs: dict) -> str:
    keys = [key for key in ours if key in theirs]
    differ = [f"{key} {ours[key]:,} vs {theirs[key]:,}" for key in keys if ours[key] != theirs[key]]
    if differ:
        return "answers differ: " + "; ".join(differ)
    return "same answers (" + ", ".join(f"{key} {ours[key]:,}" for key in keys) + ")"


@dataclass
class Target:
    name: str
    figure: float
    unit: str
    op: str           # ">=" or "<=" or "<"
    threshold: float
    skipped: str = ""

    @property
    def passed(self) -> bool:
        return {">=": self.figure >= self.threshold, "<=": self.figure <= self.threshold,
                "<": self.figure < self.threshold}[self.op]

    def line(self) -> str:
        if self.skipped:
            return f"{self.name}: skipped ({self.skipped})"
        verdict = "PASS" if self.passed else "FAIL"
        figure = f"{self.figure:.2f}{self.unit}" if self.unit != "x" else \
            (f"{self.figure:.1f}x" if self.figure >= 1 else f"{self.figure:.2f}x")
        threshold = f"{self.threshold:g}{self.unit}"
        return f"{self.name} {figure} (target {self.op} {threshold}) {verdict}"


def compile_bytecode(package: Path) -> None:
    """Compile the measured package's modules, as a first run or `pip install` would have.

    pm4py and pandas come with their bytecode compiled at install; an editable install of
    backoffice does not, and with PYTHONDONTWRITEBYTECODE set every run would compile its
    modules again (about 60 ms), a cost no user pays twice.
    """
    import compileall

    compileall.compile_dir(str(package), quiet=1)


def machine() -> dict:
    import duckdb
    import pyarrow
    import backoffice
    info = {"date": date.today().isoformat(), "python": platform.python_version(),
            "backoffice_from": str(Path(backoffice.__file__).parent),
            "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "platform": platform.platform(), "duckdb": duckdb.__version__, "pyarrow": pyarrow.__version__}
    try:
        info["memory_gib"] = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / (1 << 30), 1)
    except (ValueError, OSError, AttributeError):
        pass
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info["source"] = source_state(Path(backoffice.__file__).parent)
    from importlib.metadata import PackageNotFoundError, version
    for package in ("pm4py", "pandas", "backoffice"):
        try:
            info[package] = version(package)
        except PackageNotFoundError:
            info[package] = "not installed"
    return info


def measure_csv(args, run, backoffice: list[str], out: Path) -> tuple[list[Measurement], list[Target], list[str]]:
    """a and b: the synthetic CSV log, both tools (and the fixed costs beside them)."""
    csv_path = args.data / f"p2p-{args.events}-seed{args.seed}.csv"
    ensure_log(csv_path, events=args.events, seed=args.seed, kind="csv")
    warm(csv_path)
    measurements = []
    if not args.skip_baselines:
        # Fixed costs, for reading the ratios: what a run pays before it reads a row, and the
        # least a DuckDB-based reader pays to turn this CSV into Arrow.
        measurements.append(run("baseline: backoffice --help", [*backoffice, "--help"],
                                note="interpreter + CLI imports only"))
        measurements.append(run("baseline: import pandas, pm4py", [sys.executable, "-c", "import pandas, pm4py"],
                                note="interpreter + imports only"))
        measurements.append(run("baseline: duckdb read_csv -> Arrow",
                                [sys.executable, "-c", DUCKDB_READ, str(csv_path)],
                                note="import duckdb, read the CSV into an Arrow table, nothing else"))
    ours = run("a. backoffice map (CSV)", [*backoffice, "map", str(csv_path), "--json", str(out / "a.json"), "--quiet"],
               note=f"{csv_path.stat().st_size / 1e6:,.0f} MB CSV; read + whole map + JSON")
    theirs = run("b. pm4py (CSV)", [sys.executable, str(PM4PY_WORKLOAD), "csv", str(csv_path), str(out / "b.json")],
                 note="read_csv + format_dataframe + discover_dfg + discover_performance_dfg + get_variants")
    measurements += [ours, theirs]
    wall = Target("ratio: pm4py/backoffice wall", 0, "x", ">=", 10)
    memory = Target("ratio: backoffice/pm4py peak RSS", 0, "x", "<=", 0.5)
    checks = []
    if ours.ok and theirs.ok:
        checks.append("CSV log: " + compare(summary_of_map(out / "a.json"), json.loads((out / "b.json").read_text())))
        wall.figure = theirs.wall / ours.wall
        memory.figure = ours.peak_rss / theirs.peak_rss
    else:
        wall.skipped = memory.skipped = "a run failed"
    return measurements, [wall, memory], checks


def measure_big(args, run, backoffice: list[str], out: Path) -> tuple[list[Measurement], list[Target], list[str]]:
    """c: the big synthetic Parquet log, backoffice alone."""
    wall = Target("big Parquet wall", 0, " s", "<", 30)
    memory = Target("big Parquet peak RSS", 0, " GiB", "<", 4)
    if args.skip_big:
        wall.skipped = memory.skipped = "--skip-big"
        return [], [wall, memory], []
    parquet_path = args.data / f"p2p-{args.big_events}-seed{args.seed}.parquet"
    ensure_log(parquet_path, events=args.big_events, seed=args.seed, kind="parquet")
    warm(parquet_path)
    big = run(f"c. backoffice map (Parquet, {args.big_events / 1e6:g}M events)",
              [*backoffice, "map", str(parquet_path), "--json", str(out / "c.json"), "--quiet"],
              note=f"{parquet_path.stat().st_size / 1e6:,.0f} MB Parquet; read + whole map + JSON")
    checks = []
    if big.ok:
        checks.append("Parquet log: " + ", ".join(f"{key} {value:,}" for key, value in
                                                  summary_of_map(out / "c.json").items()))
        wall.figure = big.wall
        memory.figure = big.peak_rss / (1 << 30)
    else:
        wall.skipped = memory.skipped = "the run failed"
    return [big], [wall, memory], checks


def measure_xes(args, run, backoffice: list[str], out: Path) -> tuple[list[Measurement], list[Target], list[str]]:
    """d: bpic2012, backoffice's whole map against pm4py's reading alone, and instances against events."""
    target = Target("ratio: pm4py read_xes/backoffice map wall", 0, "x", ">=", 5)
    instances_target = Target("ratio: map wall, activity instances/one step per event (bpic2012)", 0, "x", "<=", 1.2)
    instances_cpu = Target("ratio: map CPU, activity instances/one step per event (bpic2012)", 0, "x", "<=", 1.2)
    xes = SHARED_LOGS / BPIC2012
    if args.skip_xes:
        target.skipped = "--skip-xes"
    elif not xes.exists():
        target.skipped = f"{xes} is absent"
    elif importlib.util.find_spec("backoffice.events.xes_reader") is None:
        target.skipped = "backoffice.events.xes_reader is not there yet"
    if target.skipped:
        console.print(f"[yellow]skipping bpic2012: {target.skipped}[/yellow]")
        instances_target.skipped = instances_cpu.skipped = target.skipped
        return [], [target, instances_target, instances_cpu], []
    warm(xes)
    ours = run("d. backoffice map (bpic2012.xes.gz)",
               [*backoffice, "map", str(xes), "--json", str(out / "d.json"), "--quiet"],
               note="read + whole map + JSON")
    as_events = run("d. backoffice map --lifecycle events (bpic2012.xes.gz)",
                    [*backoffice, "map", str(xes), "--json", str(out / "d-events.json"), "--quiet",
                     "--lifecycle", "events"],
                    note="the same map, one step per event instead of per activity instance")
    theirs = run("d. pm4py.read_xes (bpic2012.xes.gz)",
                 [sys.executable, str(PM4PY_WORKLOAD), "xes", str(xes), str(out / "d-pm4py.json")],
                 note="pm4py.read_xes(path) with its defaults, nothing else")
    checks = []
    if ours.ok and theirs.ok:
        mine = summary_of_map(out / "d.json")
        checks.append("bpic2012: " + compare({key: mine[key] for key in ("events", "cases")},
                                             json.loads((out / "d-pm4py.json").read_text())))
        target.figure = theirs.wall / ours.wall
    else:
        target.skipped = "a run failed"
    if ours.ok and as_events.ok:
        instances_target.figure = ours.wall / as_events.wall
        instances_cpu.figure = ours.cpu / as_events.cpu
    else:
        instances_target.skipped = instances_cpu.skipped = "a run failed"
    return [ours, as_events, theirs], [target, instances_target, instances_cpu], checks


def report(measurements: list[Measurement], targets: list[Target], checks: list[str], *, pick: str,
           repeat: int) -> None:
    table = Table(title=f"Figures ({pick} of {repeat} run{'s' if repeat > 1 else ''}; whole processes)")
    for column, justify in (("measurement", "left"), ("wall s", "right"), ("CPU s", "right"),
                            ("peak RSS MiB", "right"), ("status", "left"), ("what", "left")):
        table.add_column(column, justify=justify)
    for item in measurements:
        table.add_row(item.label, f"{item.wall:.2f}", f"{item.cpu:.2f}", f"{mib(item.peak_rss):,.0f}",
                      "ok" if item.ok else "FAILED", item.note)
    console.print(table)
    for check in checks:
        console.print(check)
    for target in targets:
        style = "yellow" if target.skipped else ("green" if target.passed else "red")
        console.print(f"[{style}]{target.line()}[/{style}]", highlight=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_500_000, help="events in the CSV log (a, b)")
    parser.add_argument("--big-events", type=int, default=15_000_000, help="events in the Parquet log (c)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-big", action="store_true", help="leave out the Parquet measurement (c)")
    parser.add_argument("--skip-xes", action="store_true", help="leave out the bpic2012 measurement (d)")
    parser.add_argument("--skip-baselines", action="store_true", help="leave out the fixed-cost baselines")
    parser.add_argument("--repeat", type=int, default=1, help="run each measurement K times")
    parser.add_argument("--pick", choices=("median", "best"), default="median",
                        help="report each figure's median over the K runs, or its best (lowest) value, "
                             "the one least disturbed by other work on the machine")
    parser.add_argument("--data", type=Path, default=DATA, help="where generated logs are cached")
    parser.add_argument("--results", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    repeat = max(args.repeat, 1)

    info = machine()
    console.rule("backoffice map vs pm4py")
    console.print(", ".join(f"{key} {value}" for key, value in info.items()))
    console.print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
                  "(other work on the machine skews wall times)")
    console.print("Wall time: the whole process for both tools (Python start, imports, read, analysis, output). "
                  "CPU: user + system, all threads. Peak memory: the process's max RSS (wait4).")

    def run(label: str, command: list[str], *, note: str = "") -> Measurement:
        return measure(label, command, repeat=repeat, pick=args.pick, note=note)

    backoffice = backoffice_command()
    compile_bytecode(Path(info["backoffice_from"]))
    out = Path(tempfile.mkdtemp(prefix="bench-map-"))
    measurements: list[Measurement] = []
    targets: list[Target] = []
    checks: list[str] = []
    for part in (measure_csv, measure_big, measure_xes):
        more_measurements, more_targets, more_checks = part(args, run, backoffice, out)
        measurements += more_measurements
        targets += more_targets
        checks += more_checks

    report(measurements, targets, checks, pick=args.pick, repeat=repeat)
    console.print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.results:
        args.results.parent.mkdir(parents=True, exist_ok=True)
        args.results.write_text(json.dumps({
            "machine": info, "pick": args.pick, "repeat": repeat,
            "measurements": [{"label": m.label, "command": m.command, "note": m.note,
                              "wall_s": [r.wall for r in m.runs], "cpu_s": [r.cpu for r in m.runs],
                              "peak_rss_bytes": [r.peak_rss for r in m.runs], "ok": m.ok} for m in measurements],
            "checks": checks,
            "targets": [{"name": t.name, "figure": t.figure, "op": t.op, "threshold": t.threshold,
                         "passed": None if t.skipped else t.passed, "skipped": t.skipped} for t in targets],
        }, indent=2), encoding="utf-8")
        console.print(f"results: {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
