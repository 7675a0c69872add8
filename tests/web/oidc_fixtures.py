"""A real OpenID Connect provider on loopback for the sign-in tests: the certified `oidc-provider` on Node.js.

    with running_provider(redirect_uris=["http://127.0.0.1:8123/sign-in/oidc/callback"], users=USERS) as idp:
        idp.issuer            # http://127.0.0.1:<port>, discovery at /.well-known/openid-configuration

The provider's packages are installed once with `npm ci` from tests/web/oidc_provider/package-lock.json
into a folder outside the repository keyed by the lock file's hash (BACKOFFICE_TEST_NODE_CACHE, or the
temporary folder), so node_modules is never committed and a changed lock file installs afresh. Where
Node.js or npm is missing, or the install fails (no registry reachable), the tests skip and say why.
"""

from __future__ import annotations

import hashlib
import json
import os
import select
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

PROVIDER_SOURCE = Path(__file__).resolve().parent / "oidc_provider"
INSTALL_TIMEOUT_SECONDS = 300
START_TIMEOUT_SECONDS = 30
CLIENT_ID = "backoffice"
CLIENT_SECRET = "test-client-secret-of-backoffice"


@dataclass(frozen=True)
class RunningProvider:
    """A provider process that answers at `issuer`, with one confidential client for the app."""

    issuer: str
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]

    def next_id_token_claims(self, **claims: object) -> None:
        """Make the next ID token the provider hands out carry `claims` instead (signed with its real key)."""
        httpx.post(f"{self.issuer}/test/next-id-token", json=claims, timeout=10).raise_for_status()


def provider_packages() -> Path:
    """Return a folder holding the provider script beside its installed node_modules; skip when impossible."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("Node.js and npm are needed to run the test OpenID Connect provider (oidc-provider); "
                    f"not found on PATH (node: {node}, npm: {npm})")
    lock = (PROVIDER_SOURCE / "package-lock.json").read_bytes()
    key = hashlib.sha256(lock + (PROVIDER_SOURCE / "package.json").read_bytes()).hexdigest()[:16]
    root = Path(os.environ.get("BACKOFFICE_TEST_NODE_CACHE") or tempfile.gettempdir())
    folder = root / f"backoffice-test-oidc-provider-{key}"
    if not (folder / "node_modules" / "oidc-provider" / "package.json").is_file():
        _install(npm, folder)
    # The script is copied each time (it is tiny): Node resolves its imports beside the script.
    shutil.copyfile(PROVIDER_SOURCE / "provider.js", folder / "provider.js")
    return folder


def _install(npm: str, folder: Path) -> None:
    # Installed beside, then renamed into place: two test runs at once never see half an install.
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=folder.name + "-", dir=folder.parent))
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(PROVIDER_SOURCE / name, staging / name)
    try:
        done = subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=staging,
                              capture_output=True, text=True, timeout=INSTALL_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        shutil.rmtree(staging, ignore_errors=True)
        pytest.skip(f"npm ci of the test OpenID Connect provider took over {INSTALL_TIMEOUT_SECONDS} s")
    if done.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        last = " | ".join(done.stderr.strip().splitlines()[-3:])
        pytest.skip(f"npm ci of the test OpenID Connect provider failed (exit {done.returncode}): {last}")
    try:
        staging.rename(folder)
    except OSError:
        # Another run installed it meanwhile: theirs is as good.
        shutil.rmtree(staging, ignore_errors=True)


@contextmanager
def running_provider(*, redirect_uris: Sequence[str], users: Mapping[str, Mapping[str, object]],
                     workdir: Path) -> Iterator[RunningProvider]:
    """Start the provider on a free loopback port with `users` ({login: {password, claims}}); stop it after."""
    folder = provider_packages()
    config = workdir / "oidc-provider.json"
    config.write_text(json.dumps({
        "clients": [{"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": list(redirect_uris)}],
        "users": users,
    }), encoding="utf-8")
    log = (workdir / "oidc-provider.log").open("w", encoding="utf-8")
    process = subprocess.Popen([shutil.which("node") or "node", "provider.js", str(config)], cwd=folder,
                               stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        # The provider prints its issuer once it listens: wait for that line, not for a while.
        ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT_SECONDS)
        line = process.stdout.readline() if ready else ""
        if not line:
            process.kill()
            process.wait()
            log.flush()
            errors = (workdir / "oidc-provider.log").read_text(encoding="utf-8")[-800:]
            pytest.fail(f"the test OpenID Connect provider did not start: {errors}")
        yield RunningProvider(issuer=json.loads(line)["issuer"], client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                              redirect_uris=tuple(redirect_uris))
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
