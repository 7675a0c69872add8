"""Papercuts of the command line: --version, help on every option, misspelt columns, counts in words."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import click
import typer

from backoffice import __version__
from backoffice.cli.app import app

LIFECYCLE_LOG = """case_id,activity,timestamp,lifecycle,resource
1,Check,2024-01-01T09:00:00Z,start,ann
1,Check,2024-01-01T09:30:00Z,complete,ann
1,Pay,2024-01-01T11:00:00Z,start,bob
1,Pay,2024-01-01T11:10:00Z,complete,bob
"""


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "backoffice.cli.app", *args], capture_output=True, text=True,
                          timeout=300, env={"COLUMNS": "200", **__import__("os").environ})


def test_version_prints_the_package_version():
    result = run("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"backoffice {__version__}"


def test_every_option_of_every_command_has_help():
    missing = []

    def walk(command: click.Command, path: str) -> None:
        for parameter in command.params:
            if isinstance(parameter, click.Option) and not parameter.hidden and not (parameter.help or "").strip():
                missing.append(f"{path} {parameter.opts[0]}")
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk(sub, f"{path} {name}")
    walk(typer.main.get_command(app), "backoffice")
    assert missing == []


def test_a_misspelt_optional_column_is_an_error_with_a_suggestion(write_csv):
    result = run("map", str(write_csv(LIFECYCLE_LOG)), "--resource", "resoruce")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    message = " ".join(result.stderr.split())
    assert "no resource column 'resoruce' (named by --resource)" in message
    assert "did you mean --resource 'resource'?" in message


def test_one_case_reads_as_one_case_not_one_cases(write_csv, tmp_path):
    result = run("map", str(write_csv(LIFECYCLE_LOG)), "--sla", "1d", "--json", str(tmp_path / "map.json"))
    assert result.returncode == 0, result.stderr
    assert re.search(r"\b1 case\b", result.stdout)
    assert not re.search(r"\b1 (cases|events|steps|activities|paths|rows)\b", result.stdout), result.stdout


def test_lifecycle_reads_instances_by_default_and_events_when_asked(write_csv, tmp_path):
    log = str(write_csv(LIFECYCLE_LOG))
    run("map", log, "--json", str(tmp_path / "instances.json"), "-q")
    run("map", log, "--json", str(tmp_path / "events.json"), "-q", "--lifecycle", "events")
    instances = json.loads((tmp_path / "instances.json").read_text())
    events = json.loads((tmp_path / "events.json").read_text())
    assert instances["reading"]["mode"] == "instances" and instances["summary"]["steps"] == 2
    assert events["reading"]["mode"] == "events" and events["summary"]["steps"] == 4
    assert instances["flow"]["active"]["total"] == 40 * 60 and events["flow"] is None
    assert instances["summary"]["source"] == "log.csv"


def test_examples_writes_what_the_readme_uses_and_its_commands_run_there(tmp_path):
    folder = tmp_path / "try"
    result = run("examples", str(folder))
    assert result.returncode == 0, result.stderr
    for name in ("tickets.csv", "request.json", "examples/purchase_actions.py", "helpdesk.xes.gz",
                 "DomesticDeclarations.xes.gz", "synonyms.yaml", "kinds.yaml"):
        assert (folder / name).is_file(), name
    mapped = subprocess.run([sys.executable, "-m", "backoffice.cli.app", "map", "tickets.csv", "--timestamp",
                             "Completed", "--start-timestamp", "Started", "--timestamp-format", "%d-%m-%Y %H:%M",
                             "--timezone", "Europe/Amsterdam", "--synonyms", "synonyms.yaml", "--step-kinds",
                             "kinds.yaml", "--json", "map.json", "-q"], cwd=folder, capture_output=True, text=True,
                            timeout=300, env=_from_anywhere())
    assert mapped.returncode == 0, mapped.stderr
    document = json.loads((folder / "map.json").read_text())
    assert document["reading"]["lifecycle"] == "start and end columns" and document["flow"] is not None
    again = run("examples", str(folder))
    assert again.returncode == 2 and "use --force" in again.stderr
    assert run("examples", str(folder), "--force").returncode == 0


def _from_anywhere() -> dict[str, str]:
    """The environment, with this checkout's package importable from any folder."""
    import os
    from pathlib import Path

    import backoffice
    source = str(Path(backoffice.__file__).resolve().parents[1])
    return {**os.environ, "PYTHONPATH": os.pathsep.join([source, *filter(None, [os.environ.get("PYTHONPATH")])])}
