"""`backoffice serve` as a real process: it listens, answers its probes, reads its settings, and refuses bad ones."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from backoffice.api import ApiSettings, create_app
from backoffice.engine import Engine
from backoffice.store import SqlStore

from .live_server import LiveServer

SRC = Path(__file__).resolve().parents[2] / "src"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _backoffice(*arguments: str, cwd: Path, env: dict | None = None, **options) -> subprocess.Popen:
    environment = {**os.environ, "PYTHONPATH": str(SRC), **(env or {})}
    return subprocess.Popen([sys.executable, "-m", "backoffice.cli.app", *arguments], cwd=cwd, env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **options)


def _wait_until_listening(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode}: {process.stderr.read()}")
        try:
            httpx.get(f"{url}/health", timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.1)   # waiting for the process to listen, not for the clock
    raise AssertionError("the server did not listen within 60 s")


def test_serve_listens_on_the_port_of_its_settings_file_and_logs_json(tmp_path: Path, database: str):
    port = _free_port()
    settings = tmp_path / "server.env"
    settings.write_text(f"BACKOFFICE_PORT={port}\nBACKOFFICE_DATABASE={database}\n")
    process = _backoffice("serve", "--settings", str(settings), cwd=tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_listening(url, process)
        assert httpx.get(f"{url}/ready").json()["status"] == "ready"
        me = httpx.get(f"{url}/v1/me", headers={"X-Request-ID": "probe-1"})
        assert me.status_code == 401 and me.headers["x-request-id"] == "probe-1"
    finally:
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=60)
    assert '"request_id": "probe-1"' in errors
    assert '"status": 401' in errors


def test_serve_with_a_missing_settings_file_says_so_and_exits_2(tmp_path: Path):
    process = _backoffice("serve", "--settings", str(tmp_path / "nowhere.env"), cwd=tmp_path)
    _, errors = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "nowhere.env" in errors and "Traceback" not in errors


def test_serve_with_a_setting_out_of_range_names_it_and_exits_2(tmp_path: Path):
    process = _backoffice("serve", "--port", str(_free_port()), cwd=tmp_path,
                          env={"BACKOFFICE_MAX_BODY_BYTES": "12", "BACKOFFICE_DATABASE": str(tmp_path / "b.db")})
    _, errors = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "BACKOFFICE_MAX_BODY_BYTES" in errors and "Traceback" not in errors


def test_ready_says_not_ready_while_the_database_is_not_migrated(tmp_path: Path):
    database = str(tmp_path / "empty.db")
    store = SqlStore.open(database, upgrade=False)
    app = create_app(ApiSettings(database=database, access_log=False), engine=Engine(store))
    with LiveServer(app) as server:
        answer = httpx.get(f"{server.url}/ready")
    store.close()
    assert answer.status_code == 503
    assert answer.json()["status"] == "not ready" and answer.json()["revision"] is None


@pytest.mark.parametrize("name", ["create_app", "ApiSettings", "Principal", "Authenticator", "load_settings"])
def test_the_api_package_exports_its_surface(name):
    import backoffice.api
    assert name in backoffice.api.__all__ and hasattr(backoffice.api, name)


def test_two_server_processes_start_one_case_for_concurrent_retries_and_give_a_task_one_claimant(
        tmp_path: Path, database: str):
    from concurrent.futures import ThreadPoolExecutor

    from .live_server import ADMIN, PAYLOAD, PURCHASE, T0, populate_directory
    with SqlStore.open(database) as store:
        engine = Engine(store)
        populate_directory(engine, T0)
        engine.deploy(PURCHASE, actor=ADMIN, now=T0)
        # The servers run on the machine's clock, so their tokens are made on it too.
        issued = datetime.now(timezone.utc)
        tokens = {person: engine.create_token(person, actor=ADMIN, now=issued, valid_for=timedelta(days=1)).secret
                  for person in ("alice", "bea", "bob")}
    port = _free_port()
    process = _backoffice("serve", "--db", database, "--port", str(port), "--workers", "2", cwd=tmp_path,
                          env={"BACKOFFICE_ACCESS_LOG": "false", "BACKOFFICE_EVIDENCE_DIR": str(tmp_path / "ev")},
                          start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_listening(url, process)

        def start(_: int) -> httpx.Response:
            return httpx.post(f"{url}/v1/workflows/purchase-approval/cases", json=PAYLOAD, timeout=60,
                              headers={"Authorization": f"Bearer {tokens['alice']}", "Idempotency-Key": "form-9"})
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(start, range(8)))
        assert {answer.status_code for answer in answers} <= {200, 201}
        assert sorted(answer.status_code for answer in answers).count(201) == 1
        case = answers[0].json()
        assert {answer.json()["id"] for answer in answers} == {case["id"]}
        moved = httpx.post(f"{url}/v1/cases/{case['id']}/transitions", json={"to": "prepare"},
                           headers={"Authorization": f"Bearer {tokens['alice']}", "If-Match": '"1"'}, timeout=60)
        assert moved.status_code == 200, moved.text
        task_id = httpx.get(f"{url}/v1/tasks", params={"queue": "purchasing"}, timeout=60,
                            headers={"Authorization": f"Bearer {tokens['bea']}"}).json()["items"][0]["id"]

        def claim(person: str) -> int:
            return httpx.post(f"{url}/v1/tasks/{task_id}/claim", timeout=60,
                              headers={"Authorization": f"Bearer {tokens[person]}"}).status_code
        with ThreadPoolExecutor(8) as pool:
            claims = list(pool.map(claim, ["bea", "bob"] * 4))
        # One of the two buyers holds it (a holder's own repeat renews it); the other is refused every time.
        assert set(claims) == {200, 409}
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.communicate(timeout=60)
    with SqlStore.open(database) as store:
        assert len(Engine(store).cases()) == 1
