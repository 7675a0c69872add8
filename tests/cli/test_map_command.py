"""The `backoffice` command as a user runs it: real processes, exit statuses, files written or not."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

INVOICES = """case_id,activity,timestamp,resource,role
1,Submit,2024-01-01T09:00:00Z,ann,clerk
1,Approve,2024-01-01T11:00:00Z,bob,manager
2,Submit,2024-01-01T09:00:00Z,ann,clerk
2,Approve,2024-01-02T10:00:00Z,bob,manager
"""


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "backoffice.cli.app", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def test_map_prints_a_summary_and_writes_json(write_csv, tmp_path):
    out = tmp_path / "map.json"
    result = run("map", str(write_csv(INVOICES)), "--json", str(out), "--sla", "1d")
    assert result.returncode == 0, result.stderr
    assert "cases" in result.stdout and "Submit → Approve" in result.stdout
    document = json.loads(out.read_text())
    assert (document["summary"]["cases"], document["summary"]["events"]) == (2, 4)
    assert document["summary"]["activities"] == 2 and document["summary"]["variants"] == 1
    (only_edge,) = document["edges"]
    assert (only_edge["source"], only_edge["target"], only_edge["count"]) == ("Submit", "Approve", 2)
    assert only_edge["wait"]["median"] == pytest.approx((2 * 3600 + 25 * 3600) / 2)
    assert document["variants"][0]["activities"] == ["Submit", "Approve"] and document["variants"][0]["cases"] == 2
    assert document["sla"]["within"] == 1


def test_a_user_error_is_one_line_and_status_2(tmp_path):
    result = run("map", str(tmp_path / "missing.csv"))
    assert result.returncode == 2
    assert "missing.csv" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_debug_shows_the_traceback(tmp_path):
    result = run("--debug", "map", str(tmp_path / "missing.csv"))
    assert result.returncode == 2 and "Traceback" in result.stderr


def test_a_bad_timestamp_names_row_and_value_on_the_command_line(write_csv):
    result = run("map", str(write_csv("case_id,activity,timestamp\nA,a,2024-01-01\nA,b,31/02/2024x\n")))
    assert result.returncode == 2
    assert "line 3" in result.stderr and "'31/02/2024x'" in result.stderr


def test_skipping_bad_rows_reports_the_count(write_csv):
    result = run("map", str(write_csv("case_id,activity,timestamp\nA,a,2024-01-01\nA,b,never\n")),
                 "--on-bad-rows", "skip", "--quiet")
    assert result.returncode == 0 and "skipped 1 unreadable rows" in result.stderr


def test_nothing_is_written_when_one_output_cannot_be(write_csv, tmp_path):
    json_out = tmp_path / "map.json"
    result = run("map", str(write_csv(INVOICES)), "--json", str(json_out),
                 "--mermaid", str(tmp_path / "no-such-folder" / "map.mmd"))
    assert result.returncode == 2 and "no-such-folder" in result.stderr
    assert not json_out.exists()
    assert not list(tmp_path.glob(".map.json.*"))


def test_an_unknown_option_value_is_status_2(write_csv):
    result = run("map", str(write_csv(INVOICES)), "--lanes", "floor")
    assert result.returncode == 2


def test_schema_prints_the_json_schema_of_the_map():
    result = run("schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert {"summary", "edges", "variants"} <= set(schema["properties"])


def test_map_of_the_engines_own_events_is_one_command_away(tmp_path):
    from datetime import datetime, timedelta, timezone

    from backoffice.definitions import LIBRARY
    from backoffice.engine import Actor, Engine
    from backoffice.store import SqlStore

    start = datetime(2024, 3, 4, 9, tzinfo=timezone.utc)
    database = tmp_path / "engine.db"
    from ..directory_fixtures import seed

    store = SqlStore.open(database)
    engine = seed(Engine(store))
    engine.deploy(LIBRARY / "service-request.yaml", actor="lead", now=start)
    for number in range(3):
        case = engine.start_case("service-request", {
            "summary": "Printer jammed", "description": "Eats paper", "category": "it", "urgency": "normal",
            "requester_email": "ann@example.com"}, actor=Actor("ann"), now=start + timedelta(hours=number))
        engine.transition(case.id, "triage", actor=Actor("bob", "service-desk"), expected_version=case.version,
                          now=start + timedelta(hours=number + 1))
    store.close()

    out = tmp_path / "live.json"
    result = run("map", "--db", str(database), "--json", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    document = json.loads(out.read_text())
    assert (document["summary"]["cases"], document["summary"]["events"]) == (3, 6)
    assert [(e["source"], e["target"], e["count"]) for e in document["edges"]] == [("new", "accept", 3)]
    assert document["edges"][0]["wait"]["median"] == 3600


def test_map_needs_a_log_or_a_database_not_both(write_csv, tmp_path):
    assert run("map").returncode == 2
    both = run("map", str(write_csv(INVOICES)), "--db", str(tmp_path / "x.db"))
    assert both.returncode == 2 and "not both" in both.stderr


@pytest.mark.skipif(importlib.util.find_spec("pandas") is None,
                    reason="pandas is not installed, so nothing could import it")
def test_mapping_a_csv_imports_neither_pandas_nor_duckdb_nor_pydantic_nor_rich(write_csv, tmp_path):
    # Each costs a few tenths of a second and tens of MiB at start: the map needs neither.
    # pydantic (about 0.07 s with the schemas built) would come with the map's models or with
    # Typer's conversion of the options (see cli/map_params.py); rich (some 15 ms) only with a
    # terminal summary, an error or a progress bar on a terminal.
    script = ("import sys\n"
              "from backoffice.cli.app import main\n"
              "try:\n"
              f"    main(['map', {str(write_csv(INVOICES))!r}, '--json', {str(tmp_path / 'map.json')!r}, '--quiet'])\n"
              "except SystemExit as exit:\n"
              "    assert not exit.code, exit.code\n"
              "print(sorted(name for name in ('pandas', 'duckdb', 'pydantic', 'rich') if name in sys.modules))\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
    assert json.loads((tmp_path / "map.json").read_text())["summary"]["events"] == 4


def test_mapping_a_csv_imports_no_other_command_nor_the_engine(write_csv, tmp_path):
    # The other commands bring the engine, the definitions, CEL and JSON Schema: about
    # 0.3 s of CPU at start that a map needs none of.
    script = ("import sys\n"
              "from backoffice.cli.app import main\n"
              "try:\n"
              f"    main(['map', {str(write_csv(INVOICES))!r}, '--json', {str(tmp_path / 'map.json')!r}, '--quiet'])\n"
              "except SystemExit as exit:\n"
              "    assert not exit.code, exit.code\n"
              "print(sorted(name for name in ('backoffice.engine', 'backoffice.definitions', 'cel', 'jsonschema',\n"
              "                               'backoffice.cli.engine_commands') if name in sys.modules))\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_map_has_the_same_help_on_its_own_fast_path_and_is_listed_with_every_command():
    # `map` runs through an app holding only it (Typer builds every command it holds).
    from typer.main import get_command

    from backoffice.cli.app import app, map_app

    def options(typer_app):
        return sorted(param.name for param in get_command(typer_app).commands["map"].params)

    assert options(map_app) == options(app)
    listed = run("--help")
    assert listed.returncode == 0 and "map" in listed.stdout and "worker" in listed.stdout


def test_a_map_that_needs_duckdb_for_its_timestamps_exits_without_noise(write_csv):
    # The command freezes what its imports made so that the exit skips a full collection;
    # DuckDB, imported later for day-first timestamps, must still be freed at exit (its
    # bindings print "leaked" warnings otherwise).
    result = run("map", str(write_csv("case_id,activity,timestamp\nA,a,13-01-2024 09:30:00\nA,b,14-01-2024 10:00:00\n")),
                 "--quiet")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_the_written_paths_are_printed_as_they_are_however_long_or_bracketed(write_csv, tmp_path):
    # Printed as plain text: rich would read "[x]" as markup and wrap a long path at 80 columns.
    folder = tmp_path / ("a-folder-with-a-long-name-" * 4) / "[draft]"
    folder.mkdir(parents=True)
    out = folder / "map[1].json"
    result = subprocess.run([sys.executable, "-m", "backoffice.cli.app", "map", str(write_csv(INVOICES)), "--json",
                             str(out), "--quiet"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"JSON: {out}"]
    assert json.loads(out.read_text())["summary"]["events"] == 4


def test_a_map_run_as_the_program_leaves_at_once_with_every_line_and_report_written(write_csv, tmp_path):
    # Run as the program, a map of a file ends the process without the interpreter's
    # teardown (cli/app.py, _leave_now): the lines printed into a pipe must still come out,
    # in order, and each report be whole, as after an orderly exit.
    out, html = tmp_path / "map.json", tmp_path / "map.html"
    result = subprocess.run([sys.executable, "-m", "backoffice.cli.app", "map", str(write_csv(INVOICES)), "--json",
                             str(out), "--html", str(html), "--quiet"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"JSON: {out}", f"HTML report: {html}"]
    assert json.loads(out.read_text())["summary"]["events"] == 4
    assert html.read_text().rstrip().endswith("</html>")
    assert not list(tmp_path.glob(".*.tmp"))
