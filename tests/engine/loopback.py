"""Small pieces of the loopback HTTP endpoints the worker tests send webhooks to."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler


def send_json(handler: BaseHTTPRequestHandler, value: object) -> None:
    """Answer the request with 200 and `value` as a JSON body."""
    answer = json.dumps(value).encode()
    handler.send_response(200)
    handler.send_header("content-type", "application/json")
    handler.send_header("content-length", str(len(answer)))
    handler.end_headers()
    handler.wfile.write(answer)
