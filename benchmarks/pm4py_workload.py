"""The pm4py side of the benchmark, run as its own process by bench_map.py.

    python benchmarks/pm4py_workload.py csv LOG.csv SUMMARY.json
        pandas.read_csv, pm4py.format_dataframe, discover_dfg, discover_performance_dfg,
        get_variants: the pm4py equivalent of the frequency/performance map and variants.
    python benchmarks/pm4py_workload.py xes LOG.xes.gz SUMMARY.json
        pm4py.read_xes with its defaults, nothing else.

Writes a small JSON summary (events, cases, variants, paths) so the benchmark can check
that both tools saw the same log. Imports are inside the timed process on purpose: the
benchmark times whole processes for both tools.
"""

from __future__ import annotations

import json
import sys
import warnings


def map_csv(path: str) -> dict:
    import pandas as pd
    import pm4py

    frame = pd.read_csv(path)
    frame = pm4py.format_dataframe(frame, case_id="case_id", activity_key="activity", timestamp_key="timestamp")
    dfg, starts, ends = pm4py.discover_dfg(frame)
    performance, _, _ = pm4py.discover_performance_dfg(frame)
    variants = pm4py.get_variants(frame)
    return {"events": len(frame), "cases": int(frame["case:concept:name"].nunique()),
            "variants": len(variants), "paths": len(dfg), "path_count": int(sum(dfg.values())),
            "performance_paths": len(performance),
            "top_variant_cases": int(max(variants.values())) if variants else 0}


def read_xes(path: str) -> dict:
    import pm4py

    log = pm4py.read_xes(path)
    return {"events": len(log), "cases": int(log["case:concept:name"].nunique())}


def main(argv: list[str]) -> int:
    mode, path, summary = argv
    warnings.simplefilter("ignore")
    result = map_csv(path) if mode == "csv" else read_xes(path)
    with open(summary, "w", encoding="utf-8") as out:
        json.dump(result, out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
