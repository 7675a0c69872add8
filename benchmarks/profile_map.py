"""Where `backoffice map` spends its time and memory, stage by stage and step by step.

    python benchmarks/profile_map.py benchmarks/data/p2p-1500000-seed7.csv
    python benchmarks/profile_map.py LOG.parquet --steps --cprofile 30

Stages: imports, read_log, analyze, JSON, run as the command runs them (Arrow's system
allocator, glibc's thresholds and arenas chosen by the log's size, no attribute columns). For each: wall time, CPU
time (all threads), page faults, the resident memory after it, and the peak during it (Linux:
the peak counter is reset between stages through /proc/self/clear_refs). --steps times each step of reading and each section of the
map (wall time, CPU time of all threads and page faults, summed over calls; sections that run
beside each other overlap). --cprofile N prints the N costliest functions, by cumulative
time or by --sort tottime.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import pstats
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path

began = time.perf_counter()

# (module, function) pairs timed by --steps, in the order they run.
STEPS = [
    ("backoffice.events.csv_reader", "read_csv"), ("backoffice.events.parquet_reader", "read_parquet"),
    ("backoffice.events.xes_reader", "read_xes"), ("backoffice.events.reader", "parse_timestamps"),
    ("backoffice.events.reader", "_text"), ("backoffice.events.reader", "normalize_activities"),
    ("backoffice.events.schema", "_case_time_sort"),
    ("backoffice.events.schema", "EventLog.from_columns"), ("backoffice.events.schema", "conform"),
    ("backoffice.mapping.analyze", "open_workspace"), ("backoffice.mapping.workspace", "Workspace.prepare"),
    ("backoffice.mapping.paths", "edges_and_waits"), ("backoffice.mapping.paths", "activity_facts"),
    ("backoffice.mapping.paths", "service_shares"), ("backoffice.mapping.variants", "variants"),
    ("backoffice.mapping.variants", "cycle_time"), ("backoffice.mapping.handoffs", "handoffs"),
    ("backoffice.mapping.rework", "rework"), ("backoffice.mapping.exceptions", "exceptions"),
    ("backoffice.mapping.analyze", "_step_kind_shares"),
]


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


def page_faults() -> int:
    """Minor page faults of this process so far: each fresh page touched costs one (system time)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def time_steps(seconds: dict[str, list[float]]) -> None:
    """Wrap each function of STEPS so that its wall time, CPU time (all threads) and page faults add up."""
    for module_name, qualified in STEPS:
        module = importlib.import_module(module_name)
        owner, _, name = qualified.rpartition(".")
        holder = getattr(module, owner) if owner else module
        function = getattr(holder, name)

        def timed(*args, _function=function, _label=f"{module_name.rsplit('.', 1)[1]}.{qualified}", **kwargs):
            start, cpu, faults = time.perf_counter(), time.process_time(), page_faults()
            try:
                return _function(*args, **kwargs)
            finally:
                seconds[_label][0] += time.perf_counter() - start
                seconds[_label][1] += time.process_time() - cpu
                seconds[_label][2] += page_faults() - faults

        setattr(holder, name, timed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("log", type=Path)
    parser.add_argument("--steps", action="store_true", help="time each step of reading and section of the map")
    parser.add_argument("--cprofile", type=int, default=0, metavar="N", help="print the N costliest functions")
    parser.add_argument("--json", type=Path, help="write the map here (default: render it and drop it)")
    parser.add_argument("--sort", default="cumulative", help="cProfile order: cumulative or tottime")
    args = parser.parse_args(argv)

    rows: list[tuple[str, float, float, int, int, int]] = []
    steps: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0])
    profiler = cProfile.Profile() if args.cprofile else None

    reset_peak()
    start, cpu, faults = time.perf_counter(), time.process_time(), page_faults()
    import pyarrow

    # As the command does: the system allocator hands freed memory back, and large blocks
    # go back to the system as soon as they are freed.
    pyarrow.set_memory_pool(pyarrow.system_memory_pool())
    from backoffice.cli.allocator import return_large_blocks
    return_large_blocks()
    from backoffice.bulk import hold_blocks_for
    from backoffice.events.reader import read_log, rough_event_count
    from backoffice.mapping.analyze import analyze, lane_columns_for, narrowed_for_map
    if args.steps:
        time_steps(steps)
    rows.append(("imports", time.perf_counter() - start, time.process_time() - cpu, page_faults() - faults, *memory()))

    if profiler:
        profiler.enable()
    reset_peak()
    start, cpu, faults = time.perf_counter(), time.process_time(), page_faults()
    # As the command: the lane columns it will not draw left unread, the log narrowed to
    # what the map reads, the rest let go.
    # and what it keeps of freed memory chosen by the log's guessed size, then its size read.
    rough = rough_event_count(args.log)
    if rough is not None:
        hold_blocks_for(rough)
    log = narrowed_for_map(read_log(args.log, attributes=False, lane_columns=lane_columns_for(None)))
    hold_blocks_for(len(log))
    rows.append(("read_log", time.perf_counter() - start, time.process_time() - cpu, page_faults() - faults, *memory()))

    reset_peak()
    start, cpu, faults = time.perf_counter(), time.process_time(), page_faults()
    process_map = analyze(log)
    rows.append(("analyze", time.perf_counter() - start, time.process_time() - cpu, page_faults() - faults, *memory()))

    reset_peak()
    start, cpu, faults = time.perf_counter(), time.process_time(), page_faults()
    document = process_map.model_dump_json(indent=2)
    if args.json:
        args.json.write_text(document, encoding="utf-8")
    rows.append(("JSON", time.perf_counter() - start, time.process_time() - cpu, page_faults() - faults, *memory()))
    if profiler:
        profiler.disable()

    print(f"{args.log}: {len(log):,} events; interpreter start to here {time.perf_counter() - began:.2f} s")
    print(f"{'stage':<10} {'wall s':>8} {'CPU s':>8} {'faults':>8} {'RSS after MiB':>14} {'peak in stage MiB':>18}")
    for stage, seconds, cpu_seconds, faults, rss, peak in rows:
        print(f"{stage:<10} {seconds:8.2f} {cpu_seconds:8.2f} {faults:8,} {rss:14,} {peak:18,}")
    if args.steps:
        print("\nsteps, summed over calls (nested steps count in their callers too; sections on two threads overlap)")
        print(f"  {'wall s':>7} {'CPU s':>7} {'faults':>8}")
        for label, (seconds, cpu_seconds, faults) in steps.items():
            print(f"  {seconds:7.3f} {cpu_seconds:7.3f} {faults:8,}  {label}")
    if profiler:
        print()
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.sort_stats(args.sort).print_stats(args.cprofile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
