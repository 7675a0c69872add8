"""`backoffice serve` as a real process serves the web app at / beside the API at /v1."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import httpx

from ..api.test_serve_command import _backoffice, _free_port, _wait_until_listening


def test_serve_answers_the_web_app_and_the_api_from_one_process(tmp_path: Path):
    port = _free_port()
    process = _backoffice("serve", "--db", str(tmp_path / "backoffice.db"), "--port", str(port), cwd=tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_listening(url, process)
        home = httpx.get(f"{url}/requests")
        assert home.status_code == 303 and home.headers["location"] == "/sign-in?next=/requests"
        sign_in = httpx.get(f"{url}/sign-in")
        assert sign_in.status_code == 200 and "<h1>Sign in</h1>" in sign_in.text
        assert "script-src 'self'" in sign_in.headers["content-security-policy"]
        assert httpx.get(f"{url}/v1/me").status_code == 401
        assert httpx.get(f"{url}/ready").json()["status"] == "ready"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            _, errors = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            _, errors = process.communicate()
    assert "Traceback" not in errors
    assert '"logger": "backoffice.web"' in errors and '"path": "/sign-in"' in errors
