"""`backoffice templates` and `backoffice new --from TEMPLATE [DEST]`, run as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from backoffice.definitions import LIBRARY
from backoffice.definitions.library_templates import list_templates

TEMPLATES = sorted(path.stem for path in LIBRARY.glob("*.yaml"))


def run(*args: str, cwd: Path, columns: int | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, COLUMNS=str(columns)) if columns else None
    return subprocess.run([sys.executable, "-m", "backoffice.cli.app", *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd, env=env)


def test_templates_lists_every_template_with_its_title_and_purpose(tmp_path):
    result = run("templates", cwd=tmp_path, columns=240)
    assert result.returncode == 0, result.stderr
    rows = {line.split()[1]: line for line in result.stdout.splitlines() if line.startswith("│")}
    assert sorted(rows) == TEMPLATES
    for template in list_templates():
        assert template.title in rows[template.name] and template.summary in rows[template.name]
    assert result.stdout.splitlines()[-1] == "Copy one to edit: backoffice new --from TEMPLATE [DEST]"


def test_templates_fits_a_narrow_terminal_without_cutting_names(tmp_path):
    result = run("templates", cwd=tmp_path, columns=80)
    assert result.returncode == 0
    assert all(len(line) <= 80 for line in result.stdout.splitlines())
    for name in TEMPLATES:
        assert name in result.stdout


def test_a_copy_of_the_supplier_invoice_template_passes_check_in_its_new_place(tmp_path):
    result = run("new", "--from", "supplier-invoice", "out/", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "created out/supplier-invoice.yaml from the template supplier-invoice (Supplier invoice with three-way match)",
        "  with its data contract out/contracts/supplier-invoice.v1.yaml",
        "next: edit it (owner, roles, calendar, thresholds), then run: backoffice check out/supplier-invoice.yaml",
    ]
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.yaml")) == [
        "out/contracts/supplier-invoice.v1.yaml", "out/supplier-invoice.yaml"]
    checked = run("check", "out/supplier-invoice.yaml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.splitlines() == ["out/supplier-invoice.yaml: ok", "checked 1 file: 0 errors, 0 warnings; ok"]
    contract = run("contract", "check", "out/contracts/supplier-invoice.v1.yaml", cwd=tmp_path)
    assert contract.returncode == 0, contract.stderr


def test_every_template_copied_into_one_folder_checks_clean(tmp_path):
    for name in TEMPLATES:
        assert run("new", "--from", name, "workflows", cwd=tmp_path).returncode == 0
    checked = run("check", "--strict", "workflows", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout
    assert checked.stdout.splitlines()[-1] == f"checked {len(TEMPLATES)} files: 0 errors, 0 warnings; ok"


def test_an_unknown_template_exits_2_with_the_list(tmp_path):
    result = run("new", "--from", "supplier-invoce", "out/", cwd=tmp_path)
    assert result.returncode == 2
    assert "did you mean 'supplier-invoice'?" in result.stderr
    for name in TEMPLATES:
        assert name in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_new_refuses_to_overwrite_and_exits_2(tmp_path):
    assert run("new", "--from", "expense-claim", cwd=tmp_path).returncode == 0
    copy = tmp_path / "expense-claim.yaml"
    copy.write_text(copy.read_text().replace("version: 1", "version: 2", 1))
    edited = copy.read_text()
    again = run("new", "--from", "expense-claim", cwd=tmp_path)
    assert again.returncode == 2
    assert "expense-claim.yaml: already exists" in again.stderr and "never overwrites" in again.stderr
    assert copy.read_text() == edited


def test_new_without_from_is_a_usage_error(tmp_path):
    result = run("new", "out/", cwd=tmp_path)
    assert result.returncode == 2
    assert "--from" in result.stderr
