"""`backoffice check FILE...` as a user runs it: compiler-style lines, a summary, exit statuses."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from backoffice.definitions import LIBRARY

TEMPLATE = LIBRARY / "service-request.yaml"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "backoffice.cli.app", *args], capture_output=True, text=True,
                          timeout=300)


def broken_copy(tmp_path: Path, name: str = "broken.yaml") -> Path:
    path = tmp_path / name
    path.write_text(TEMPLATE.read_text()
                    .replace("{from: blocked, to: in-progress,", "{from: blocked, to: in-progres,")
                    .replace("guard: \"size(data.resolution_note) > 0\"", "guard: \"size(data.resolution_nte) > 0\"")
                    .replace("target: {role: service-desk-lead}}", "}", 1))
    return path


def test_a_good_definition_is_ok_and_exits_0():
    result = run("check", str(TEMPLATE))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [f"{TEMPLATE}: ok", "checked 1 file: 0 errors, 0 warnings; ok"]


def test_every_error_is_one_compiler_style_line_and_the_exit_status_is_2(tmp_path):
    path = broken_copy(tmp_path)
    result = run("check", str(path))
    assert result.returncode == 2
    lines = result.stdout.splitlines()
    problems = [line for line in lines if line.startswith(str(path))]
    assert len(problems) == 3
    for line in problems:
        assert re.fullmatch(re.escape(str(path)) + r":\d+:\d+: error: .+; expected .+", line), line
    assert any("'in-progres'" in line and "did you mean 'in-progress'" in line for line in problems)
    assert any("data.resolution_nte" in line for line in problems)
    assert any("targets nothing" in line for line in problems)
    assert lines[-1] == "checked 1 file: 3 errors, 0 warnings; 1 file failed"
    assert "Traceback" not in result.stderr


def test_several_files_and_folders_are_checked_in_one_run(tmp_path):
    folder = tmp_path / "definitions"
    folder.mkdir()
    broken = broken_copy(folder)
    result = run("check", str(TEMPLATE), str(broken.parent), str(tmp_path / "missing.yaml"))
    assert result.returncode == 2
    assert f"{TEMPLATE}: ok" in result.stdout
    assert f"{tmp_path / 'missing.yaml'}:1:1: error: cannot open the file" in result.stdout
    assert result.stdout.splitlines()[-1] == "checked 3 files: 4 errors, 0 warnings; 2 files failed"


def test_warnings_alone_exit_0_unless_strict(tmp_path):
    path = tmp_path / "risky.yaml"
    text = TEMPLATE.read_text()
    path.write_text(text[:text.index("fallback:")] + text[text.index("monitoring:"):])
    result = run("check", str(path))
    assert result.returncode == 0
    assert re.search(r":\d+:\d+: warning: no manual fallback; expected ", result.stdout)
    assert result.stdout.splitlines()[-1] == "checked 1 file: 0 errors, 1 warning; ok"
    assert run("check", "--strict", str(path)).returncode == 2
