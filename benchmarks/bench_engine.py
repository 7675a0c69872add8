"""Speed of the Backoffice engine against SpiffWorkflow 3, and its transitions under load: a report, not a test.

    python benchmarks/bench_engine.py                       # both parts, 2,000 cases
    python benchmarks/bench_engine.py --cases 5000 --repeat 3 --pick best --skip-workers
    python benchmarks/bench_engine.py --skip-compare --workers 1,4,16 --worker-cases 1000

Part 1, compare: the same approval process (start -> review task -> decision -> end) in both
engines, N cases run to completion one after another, each step a committed write to a SQLite
file in WAL mode with synchronous=FULL. Variants (each run in a fresh process, on a fresh file):

  spiff                   SpiffWorkflow, the workflow kept in memory between steps; 3 commits a case
  spiff-reload            the same, reading the workflow back from SQLite before the review step
  backoffice-queue        start_case, accept, next_task (claim), complete; 4 commits a case
  backoffice-transitions  start_case, accept, a transition to the decided end; 3 commits a case
  backoffice-grouped      the queue-style steps sent by 16 concurrent clients through a group
                          committer (backoffice.store.group_commit): the steps waiting at one
                          moment share a commit; each step is durable before its client goes on

What each side does per step: SpiffWorkflow runs its task and serializes the whole workflow
to JSON into one row (spiff-reload also reads it back and deserializes it before the review,
as a server that keeps no workflow in memory between requests must). Backoffice checks the
actor against the directory, the definition's guards (CEL) and contract (JSON Schema), writes
the case, its event, its tasks and a sealed audit record bound to those rows, and reads the
case back before each step.

It prints completed cases per second and the ratios against the targets, each measured against
spiff-reload, the fair baseline (the in-memory spiff for context):

  ratio_commit_per_step   backoffice-queue / spiff-reload          target >= 2x
  ratio_group_commit      backoffice-grouped / spiff-reload        target >= 8x
  cpu_ms_per_case         backoffice-queue's CPU a case            target <= 1.5 ms and <= spiff's

Part 2, workers: transitions per second and the latency of one `Engine.transition` (p50, p95,
p99, max) with 1, 4 and 16 workers, on SQLite (threads by default) and on PostgreSQL (spawned
processes by default; a fresh schema, dropped after; skipped, with the reason, when no server
answers). Targets on PostgreSQL: at least 1,000 transitions/s with 4 workers, no lower with
16, p99 at most 50 ms with 16.

`--json FILE` writes the figures, with the keys spiff_cases_per_s, backoffice_cases_per_s,
ratio_commit_per_step, ratio_group_commit, cpu_ms_per_case, postgres_transitions_per_s and
postgres_p99_ms (the last two keyed by the number of workers) at the top level.

The script always exits 0: each target is reported as PASS or FAIL.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from datetime import date
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from rich.console import Console
from rich.table import Table

import backoffice_workload
import spiff_workload
from engine_databases import DEFAULT_POSTGRES_URL, fresh_postgres_schema, fresh_sqlite, postgres_unavailable
from engine_results import CaseRun, TransitionRun, approves
from run_info import source_state
from transition_workers import run_workers

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "engine"
SPAWN = multiprocessing.get_context("spawn")
MAIN_VARIANT, GROUPED_VARIANT, BASELINE_VARIANT = "backoffice-queue", "backoffice-grouped", "spiff-reload"
TARGET_COMMIT_PER_STEP, TARGET_GROUP_COMMIT, TARGET_CPU_MS = 2.0, 8.0, 1.5
TARGET_POSTGRES_PER_S, TARGET_POSTGRES_P99_MS = 1000.0, 50.0
# Interleaved, so that a burst of other work on the machine hits both engines alike.
VARIANTS = ("spiff", "backoffice-queue", "spiff-reload", "backoffice-transitions", "backoffice-grouped")
WORKER_KINDS = ("thread", "process")

console = Console(width=None if sys.stdout.isatty() else 130)


def run_variant(variant: str, database: Path, cases: int) -> CaseRun:
    """Run one variant in a fresh spawned process, so that no run inherits another's heap or caches."""
    with ProcessPoolExecutor(max_workers=1, mp_context=SPAWN) as pool:
        if variant.startswith("spiff"):
            future = pool.submit(spiff_workload.run_cases, database, cases, reload=variant == "spiff-reload")
        elif variant == GROUPED_VARIANT:
            future = pool.submit(backoffice_workload.run_cases_grouped, str(database), cases)
        else:
            future = pool.submit(backoffice_workload.run_cases, str(database), cases,
                                 queue=variant == "backoffice-queue")
        return future.result()


def pick(runs: list[CaseRun], how: str) -> CaseRun:
    """Return the fastest run ("best": the one least disturbed by other work) or the median one."""
    ordered = sorted(runs, key=lambda run: run.cases_per_second)
    return ordered[-1] if how == "best" else ordered[(len(ordered) - 1) // 2]


def compare(args) -> dict:
    """Part 1: run every variant --repeat times; print the figures, the checks and the verdict."""
    console.rule(f"compare: {args.cases:,} approval cases, one after another, SQLite (WAL, synchronous=FULL)")
    runs: dict[str, list[CaseRun]] = {variant: [] for variant in args.variants}
    for round_number in range(args.repeat):
        for variant in args.variants:
            database = fresh_sqlite(args.data, f"compare-{variant}.db")
            run = run_variant(variant, database, args.cases)
            runs[variant].append(run)
            console.print(f"  round {round_number + 1}/{args.repeat} {variant:<24} {run.cases_per_second:8.1f} "
                          f"cases/s  ({run.wall:.2f} s, CPU {run.cpu_ms_per_case:.2f} ms a case)", highlight=False)
    picked = {variant: pick(variant_runs, args.pick) for variant, variant_runs in runs.items()}

    table = Table(title=f"completed cases per second ({args.pick} of {args.repeat})")
    for column, justify in (("variant", "left"), ("commits/case", "right"), ("cases", "right"),
                            ("approved/rejected", "right"), ("wall s", "right"), ("cases/s", "right"),
                            ("CPU ms/case", "right"), ("COMMIT ms/case", "right"), ("setup s", "right")):
        table.add_column(column, justify=justify)
    for variant, run in picked.items():
        table.add_row(variant, f"{run.commits_per_case:.2f}", f"{run.cases:,}", f"{run.approved:,}/{run.rejected:,}",
                      f"{run.wall:.2f}", f"{run.cases_per_second:,.1f}", f"{run.cpu_ms_per_case:.2f}",
                      f"{run.commit_ms_per_case:.2f}", f"{run.setup:.2f}")
    console.print(table)

    expected_approved = sum(approves(number) for number in range(args.cases))
    answers = {(run.approved, run.rejected) for variant_runs in runs.values() for run in variant_runs}
    same = answers == {(expected_approved, args.cases - expected_approved)}
    console.print(f"same answers: {'yes' if same else 'NO'}: every run ended {expected_approved:,} cases approved "
                  f"and {args.cases - expected_approved:,} rejected, read back from its own store"
                  if same else f"same answers: NO: {sorted(answers)}", highlight=False)

    targets = _compare_targets(picked)
    for backoffice_variant in ("backoffice-queue", "backoffice-transitions", "backoffice-grouped"):
        if backoffice_variant in picked and "spiff" in picked:
            ratio = picked[backoffice_variant].cases_per_second / picked["spiff"].cases_per_second
            console.print(f"      context: {backoffice_variant} / spiff (workflow kept in memory): {ratio:.2f}x",
                          highlight=False)
    return {"cases": args.cases, "pick": args.pick, "repeat": args.repeat, "same_answers": same,
            "runs": {variant: [asdict(run) for run in variant_runs] for variant, variant_runs in runs.items()},
            "picked": {variant: {"cases_per_second": run.cases_per_second, "cpu_ms_per_case": run.cpu_ms_per_case,
                                 "commit_ms_per_case": run.commit_ms_per_case,
                                 "commits_per_case": run.commits_per_case}
                       for variant, run in picked.items()},
            "targets": targets}


def _compare_targets(picked: dict[str, CaseRun]) -> dict:
    """Print PASS or FAIL for each target of part 1 that the runs measured; return them."""
    targets: dict = {}

    def report(name: str, figure: float, passed: bool, said: str) -> None:
        targets[name] = {"figure": figure, "passed": passed}
        style = "green" if passed else "red"
        console.print(f"[{style}]{'PASS' if passed else 'FAIL'}  {said}[/{style}]", highlight=False)

    baseline = picked.get(BASELINE_VARIANT)
    if baseline is not None and MAIN_VARIANT in picked:
        ratio = picked[MAIN_VARIANT].cases_per_second / baseline.cases_per_second
        report("ratio_commit_per_step", ratio, ratio >= TARGET_COMMIT_PER_STEP,
               f"{MAIN_VARIANT} / {BASELINE_VARIANT}, a commit after every step: {ratio:.2f}x "
               f"(target >= {TARGET_COMMIT_PER_STEP:g}x)")
    if baseline is not None and GROUPED_VARIANT in picked:
        ratio = picked[GROUPED_VARIANT].cases_per_second / baseline.cases_per_second
        report("ratio_group_commit", ratio, ratio >= TARGET_GROUP_COMMIT,
               f"{GROUPED_VARIANT} / {BASELINE_VARIANT}, group commit, each step durable before it is "
               f"acknowledged: {ratio:.2f}x (target >= {TARGET_GROUP_COMMIT:g}x)")
    if MAIN_VARIANT in picked:
        cpu = picked[MAIN_VARIANT].cpu_ms_per_case
        spiff_cpu = min((picked[v].cpu_ms_per_case for v in ("spiff", "spiff-reload") if v in picked), default=cpu)
        report("cpu_ms_per_case", cpu, cpu <= TARGET_CPU_MS and cpu <= spiff_cpu,
               f"{MAIN_VARIANT} CPU a case: {cpu:.2f} ms (target <= {TARGET_CPU_MS:g} ms and <= SpiffWorkflow's "
               f"{spiff_cpu:.2f} ms)")
    return targets


def workers(args) -> dict:
    """Part 2: transitions per second and their latency, by worker count, on SQLite and PostgreSQL."""
    console.rule(f"workers: {args.worker_cases:,} cases, 2 transitions each, moved by 1..N workers")
    runs: list[TransitionRun] = []
    skipped: dict[str, str] = {}
    for database_kind in args.databases:
        kind = args.sqlite_workers if database_kind == "sqlite" else args.postgres_workers
        if database_kind == "postgresql":
            reason = postgres_unavailable(args.postgres_url)
            if reason is not None:
                skipped["postgresql"] = reason
                console.print(f"[yellow]SKIPPED PostgreSQL: {reason}. Start a server or pass --postgres-url; "
                              f"--databases sqlite leaves it out.[/yellow]", highlight=False)
                continue
        for count in args.workers:
            run = _workers_on(database_kind, args, count, kind)
            runs.append(run)
            console.print(f"  {database_kind:<10} {count:>2} {kind} workers: {run.per_second:8.1f} transitions/s, "
                          f"p99 {run.percentile_ms(99):.1f} ms", highlight=False)

    table = Table(title="Engine.transition under concurrent workers (each worker its own cases)")
    for column, justify in (("database", "left"), ("workers", "right"), ("as", "left"), ("transitions", "right"),
                            ("wall s", "right"), ("transitions/s", "right"), ("p50 ms", "right"),
                            ("p95 ms", "right"), ("p99 ms", "right"), ("max ms", "right")):
        table.add_column(column, justify=justify)
    for run in runs:
        table.add_row(run.database, str(run.workers), run.worker_kind, f"{run.transitions:,}", f"{run.wall:.2f}",
                      f"{run.per_second:,.1f}", f"{run.percentile_ms(50):.1f}", f"{run.percentile_ms(95):.1f}",
                      f"{run.percentile_ms(99):.1f}", f"{run.percentile_ms(100):.1f}")
    console.print(table)
    _postgres_targets({run.workers: run for run in runs if run.database == "postgresql"})
    return {"skipped": skipped, "runs": [
        {"database": run.database, "workers": run.workers, "as": run.worker_kind, "transitions": run.transitions,
         "wall_s": run.wall, "per_second": run.per_second,
         **{f"p{p}_ms": run.percentile_ms(p) for p in (50, 95, 99, 100)}} for run in runs]}


def _postgres_targets(by_workers: dict[int, TransitionRun]) -> None:
    """Print PASS or FAIL for the PostgreSQL targets that the worker counts run allow judging."""
    def say(passed: bool, text: str) -> None:
        style = "green" if passed else "red"
        console.print(f"[{style}]{'PASS' if passed else 'FAIL'}  {text}[/{style}]", highlight=False)

    if 4 in by_workers:
        rate = by_workers[4].per_second
        say(rate >= TARGET_POSTGRES_PER_S, f"PostgreSQL, 4 workers: {rate:,.0f} transitions/s "
                                           f"(target >= {TARGET_POSTGRES_PER_S:,.0f})")
    if 16 in by_workers:
        rate, p99 = by_workers[16].per_second, by_workers[16].percentile_ms(99)
        if 4 in by_workers:
            say(rate >= by_workers[4].per_second, f"PostgreSQL, 16 workers: {rate:,.0f} transitions/s "
                                                  f"(target: no lower than with 4)")
        say(p99 <= TARGET_POSTGRES_P99_MS, f"PostgreSQL, 16 workers: p99 {p99:.1f} ms "
                                           f"(target <= {TARGET_POSTGRES_P99_MS:g} ms)")


def headline(results: dict) -> dict:
    """The figures the issue names, flat at the top of the JSON (None where a part did not run)."""
    picked = results.get("compare", {}).get("picked", {})
    targets = results.get("compare", {}).get("targets", {})
    postgres = [run for run in results.get("workers", {}).get("runs", []) if run["database"] == "postgresql"]

    def rate(variant: str) -> float | None:
        return picked[variant]["cases_per_second"] if variant in picked else None

    return {"spiff_cases_per_s": rate(BASELINE_VARIANT), "spiff_in_memory_cases_per_s": rate("spiff"),
            "backoffice_cases_per_s": rate(MAIN_VARIANT), "backoffice_grouped_cases_per_s": rate(GROUPED_VARIANT),
            "ratio_commit_per_step": targets.get("ratio_commit_per_step", {}).get("figure"),
            "ratio_group_commit": targets.get("ratio_group_commit", {}).get("figure"),
            "cpu_ms_per_case": picked[MAIN_VARIANT]["cpu_ms_per_case"] if MAIN_VARIANT in picked else None,
            "postgres_transitions_per_s": {str(run["workers"]): run["per_second"] for run in postgres},
            "postgres_p99_ms": {str(run["workers"]): run["p99_ms"] for run in postgres}}


def _workers_on(database_kind: str, args, count: int, kind: str) -> TransitionRun:
    """Start the cases on a fresh database (not timed), move them with `count` workers, check they all ended."""
    if database_kind == "sqlite":
        database = str(fresh_sqlite(args.data, f"workers-{count}.db"))
        return _moved_and_checked(database_kind, database, args.worker_cases, count, kind)
    with fresh_postgres_schema(args.postgres_url, f"workers{count}") as database:
        return _moved_and_checked(database_kind, database, args.worker_cases, count, kind)


def _moved_and_checked(database_kind: str, database: str, cases: int, count: int, kind: str) -> TransitionRun:
    case_ids = backoffice_workload.start_cases(database, cases)
    run = run_workers(database_kind, database, list(zip(case_ids, range(cases))), workers=count, kind=kind)
    ended = backoffice_workload.count_ends(database)
    if sum(ended) != cases or run.transitions != 2 * cases:
        raise RuntimeError(f"{count} workers on {database_kind}: {run.transitions} transitions, "
                           f"{sum(ended)} of {cases} cases ended")
    return run


def machine() -> dict:
    import backoffice
    info = {"date": date.today().isoformat(), "python": platform.python_version(),
            "backoffice_from": str(Path(backoffice.__file__).parent),
            "source": source_state(Path(backoffice.__file__).parent),
            "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "platform": platform.platform()}
    for package in ("SpiffWorkflow", "SQLAlchemy", "psycopg"):
        try:
            info[package] = version(package)
        except PackageNotFoundError:
            info[package] = "not installed"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return info


def _names(text: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in allowed]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list of {', '.join(allowed)}; got {text!r}")
    return names


def _counts(text: str) -> tuple[int, ...]:
    try:
        counts = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        counts = ()
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"expected worker counts such as 1,4,16; got {text!r}")
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=2000, help="cases each variant runs to completion (compare)")
    parser.add_argument("--variants", type=lambda text: _names(text, VARIANTS), default=VARIANTS,
                        help=f"which variants to compare (default all: {','.join(VARIANTS)})")
    parser.add_argument("--repeat", type=int, default=1, help="run each variant K times")
    parser.add_argument("--pick", choices=("median", "best"), default="median",
                        help="report each variant's median run, or its fastest (the one least disturbed by "
                             "other work on the machine)")
    parser.add_argument("--skip-compare", action="store_true", help="leave out part 1, the comparison")
    parser.add_argument("--skip-workers", action="store_true", help="leave out part 2, the workers")
    parser.add_argument("--workers", type=_counts, default=(1, 4, 16), help="worker counts (default 1,4,16)")
    parser.add_argument("--worker-cases", type=int, default=1000,
                        help="cases moved in each workers run, two transitions each (default 1,000)")
    parser.add_argument("--databases", type=lambda text: _names(text, ("sqlite", "postgresql")),
                        default=("sqlite", "postgresql"), help="databases of part 2 (default sqlite,postgresql)")
    parser.add_argument("--sqlite-workers", choices=WORKER_KINDS, default="thread",
                        help="run SQLite workers as threads (default) or spawned processes")
    parser.add_argument("--postgres-workers", choices=WORKER_KINDS, default="process",
                        help="run PostgreSQL workers as spawned processes (default) or threads")
    parser.add_argument("--postgres-url", default=os.environ.get("BACKOFFICE_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
                        help="PostgreSQL server for part 2; each run gets a fresh schema, dropped after "
                             f"(default $BACKOFFICE_BENCH_POSTGRES_URL or {DEFAULT_POSTGRES_URL})")
    parser.add_argument("--data", type=Path, default=DATA, help="where the SQLite files go")
    parser.add_argument("--json", "--results", dest="results", type=Path,
                        help="also write the figures as JSON here (the headline keys at the top level)")
    parser.add_argument("--source-note", help="say where the measured code comes from, when it is not a checkout "
                                              "(such as: git archive a5e3601)")
    args = parser.parse_args(argv)
    args.repeat = max(args.repeat, 1)
    if args.cases < 1 or args.worker_cases < 1:
        parser.error("--cases and --worker-cases must be at least 1")

    info = machine()
    if args.source_note:
        info["source"] = args.source_note
    console.rule("Backoffice engine vs SpiffWorkflow")
    console.print(", ".join(f"{key} {value}" for key, value in info.items()), highlight=False)
    console.print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
                  "(other work on the machine skews wall times)", highlight=False)
    results: dict = {"machine": info}
    for name, part, skip in (("compare", compare, args.skip_compare), ("workers", workers, args.skip_workers)):
        if skip:
            continue
        try:
            results[name] = part(args)
        except Exception as exc:  # a report, not a test: say what broke and go on with the next part
            console.print(f"[red]FAILED  {name}: {type(exc).__name__}: {exc}[/red]", highlight=False)
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
    console.print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", highlight=False)
    results = {**headline(results), **results}
    if args.results:
        args.results.parent.mkdir(parents=True, exist_ok=True)
        args.results.write_text(json.dumps(results, indent=2), encoding="utf-8")
        console.print(f"results: {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
