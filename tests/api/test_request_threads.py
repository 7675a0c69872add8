"""BACKOFFICE_REQUEST_THREADS: how many requests one server process works on at once (its thread pool)."""

from __future__ import annotations

import anyio.to_thread
from fastapi.testclient import TestClient

from backoffice.api import ApiSettings, create_app
from backoffice.server import create_server


def _pool_size(client: TestClient) -> int:
    # Asked inside the server's event loop: the limiter is that loop's.
    return client.portal.call(lambda: anyio.to_thread.current_default_thread_limiter().total_tokens)


def test_the_server_sizes_its_thread_pool_at_startup(tmp_path):
    settings = ApiSettings(database=str(tmp_path / "b.db"), evidence_dir=str(tmp_path / "evidence"), request_threads=3)
    with TestClient(create_server(settings)) as client:
        assert _pool_size(client) == 3
        assert client.get("/health").status_code == 200


def test_the_api_alone_sizes_it_too_and_the_default_is_eight(tmp_path):
    settings = ApiSettings(database=str(tmp_path / "b.db"), evidence_dir=str(tmp_path / "evidence"))
    assert settings.request_threads == 8
    with TestClient(create_app(settings)) as client:
        assert _pool_size(client) == 8
