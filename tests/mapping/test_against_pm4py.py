"""The map of the real logs counts what pm4py counts, and every real log maps without error."""

from __future__ import annotations

import warnings

import pytest

from backoffice import read_log
from backoffice.mapping import analyze

SMALL_LOGS = ["running-example.xes", "08_receipt.xes.gz", "helpdesk.xes.gz", "DomesticDeclarations.xes.gz"]
ALL_LOGS = SMALL_LOGS + ["bpic2012.xes.gz"]


def pm4py_counts(path) -> dict[str, int]:
    pm4py = pytest.importorskip("pm4py", reason="pm4py is a test-only dependency: pip install -e '.[test]'")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = pm4py.read_xes(str(path), show_progress_bar=False) if "show_progress_bar" in \
            pm4py.read_xes.__code__.co_varnames else pm4py.read_xes(str(path))
        dfg, _, _ = pm4py.discover_dfg(frame)
        variants = pm4py.get_variants(frame)
    return {"cases": frame["case:concept:name"].nunique(), "events": len(frame), "paths": len(dfg),
            "path_count": sum(dfg.values()), "variants": len(variants)}


@pytest.mark.parametrize("name", SMALL_LOGS)
def test_counts_equal_pm4py_on_real_logs(shared_logs, name):
    expected = pm4py_counts(shared_logs / name)
    process_map = analyze(read_log(shared_logs / name), max_activities=10_000, max_paths=100_000)
    actual = {"cases": process_map.summary.cases, "events": process_map.summary.events,
              "paths": len(process_map.edges), "path_count": sum(edge.count for edge in process_map.edges),
              "variants": process_map.summary.variants}
    assert actual == expected


@pytest.mark.parametrize("name", ALL_LOGS)
def test_every_real_log_maps_with_lanes_and_waits(shared_logs, name):
    process_map = analyze(read_log(shared_logs / name))
    assert process_map.summary.cases > 0 and process_map.edges
    assert process_map.cycle_time.stats.max > 0
