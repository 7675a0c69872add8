"""A real OpenID Connect provider on loopback for the sign-in tests: the certified `oidc-provider` on Node.js.

    with running_provider(redirect_uris=["http://127.0.0.1:8123/sign-in/oidc/callback"], users=USERS) as idp:
        idp.issuer            # http://127.0.0.1:<port>, discovery at /.well-known/openid-configuration

The provider's packages are installed once with `npm ci` from tests/web/oidc_provider/package-lock.json
(tests/npm_packages.py); where Node.js or npm is missing, or the install fails, the tests skip and say why.
"""

from __future__ import annotations

import json
import select
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from ..npm_packages import installed

PROVIDER_SOURCE = Path(__file__).resolve().parent / "oidc_provider"
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
    folder = installed(PROVIDER_SOURCE, check="oidc-provider", what="the test OpenID Connect provider")
    # The script is copied each time (it is tiny): Node resolves its imports beside the script.
    shutil.copyfile(PROVIDER_SOURCE / "provider.js", folder / "provider.js")
    return folder


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
