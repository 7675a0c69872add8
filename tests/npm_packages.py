"""Node packages the tests run for real (an OpenID Connect provider, bpmn-js), installed once from their lock file.

    folder = installed(Path(...) / "oidc_provider", check="oidc-provider", what="the test OpenID Connect provider")

A source folder holds a package.json and a package-lock.json. `npm ci` installs it into a folder
outside the repository keyed by both files' hash (BACKOFFICE_TEST_NODE_CACHE, or the temporary
folder), so node_modules is never committed and a changed lock file installs afresh. Where
Node.js or npm is missing, or the install fails (no registry reachable), the test skips and
says why.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

INSTALL_TIMEOUT_SECONDS = 300


def installed(source: Path, *, check: str, what: str) -> Path:
    """Return the folder where `source`'s packages are installed (node_modules/`check` among them); skip when impossible."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip(f"Node.js and npm are needed to run {what} ({check}); not found on PATH (node: {node}, npm: {npm})")
    lock = (source / "package-lock.json").read_bytes()
    key = hashlib.sha256(lock + (source / "package.json").read_bytes()).hexdigest()[:16]
    root = Path(os.environ.get("BACKOFFICE_TEST_NODE_CACHE") or tempfile.gettempdir())
    folder = root / f"backoffice-test-{source.name.replace('_', '-')}-{key}"
    if not (folder / "node_modules" / check / "package.json").is_file():
        _install(npm, source, folder, what)
    return folder


def _install(npm: str, source: Path, folder: Path, what: str) -> None:
    # Installed beside, then renamed into place: two test runs at once never see half an install.
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=folder.name + "-", dir=folder.parent))
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(source / name, staging / name)
    try:
        done = subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=staging,
                              capture_output=True, text=True, timeout=INSTALL_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        shutil.rmtree(staging, ignore_errors=True)
        pytest.skip(f"npm ci of {what} took over {INSTALL_TIMEOUT_SECONDS} s")
    if done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        last = " | ".join(done.stderr.strip().splitlines()[-3:])
        pytest.skip(f"npm ci of {what} failed (exit {done.returncode}): {last}")
    try:
        staging.rename(folder)
    except OSError:
        # Another run installed it meanwhile: theirs is as good.
        shutil.rmtree(staging, ignore_errors=True)
