"""`backoffice demo --no-serve`: the tour builds its workspace and prints the sign-ins, then reuses it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def demo(*arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "120", "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "backoffice.cli.app", "demo", *arguments], cwd=cwd,
                          env=environment, capture_output=True, text=True, timeout=300)


def test_the_tour_without_serving_builds_the_workspace_and_prints_the_sign_ins(tmp_path):
    built = demo("--no-serve", "--weeks", "1", "--cases", "25", "--dir", "tour", cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    assert "Built the demo workspace in tour" in built.stdout
    for line in ("hana", "hana-demo-2026", "Hana Sato", "audrey-demo-2026", "admin-demo-2026"):
        assert line in built.stdout
    assert "Public form, for people with no account, at /public/service-request" in built.stdout
    assert (tmp_path / "tour" / "demo.db").is_file()
    again = demo("--no-serve", "--weeks", "1", "--cases", "25", "--dir", "tour", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "Reusing the demo workspace in tour" in again.stdout


def test_a_bad_number_of_weeks_is_refused_with_status_2(tmp_path):
    refused = demo("--no-serve", "--weeks", "0", cwd=tmp_path)
    assert refused.returncode == 2
    assert "--weeks" in refused.stderr and "Traceback" not in refused.stderr
