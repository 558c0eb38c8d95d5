"""Over real loopback HTTP: token and API calls share one session and one kept-alive connection."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from om_bridge.bridge.genesys import GenesysClient


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Genesys' load balancers do

    def setup(self):
        super().setup()
        with self.server.lock:
            self.server.connections += 1

    def _answer(self, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.paths.append(self.path)
        self._answer({"access_token": "loop-token", "token_type": "bearer", "expires_in": 3600})

    def do_GET(self):
        self.server.paths.append(self.path)
        self.server.auth.append(self.headers.get("Authorization"))
        self._answer({"id": self.path.rsplit("/", 1)[-1]})

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.lock = threading.Lock()
    httpd.connections, httpd.paths, httpd.auth = 0, [], []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def test_one_connection_for_token_and_api_calls(server):
    base = f"http://127.0.0.1:{server.server_address[1]}"
    client = GenesysClient(None, "client", "secret", base_url=base)
    try:
        for user in ("u1", "u2", "u3"):
            assert client.get_user(user) == {"id": user}
    finally:
        client.close()
    assert server.paths == [
        "/oauth/token",
        "/api/v2/users/u1",
        "/api/v2/users/u2",
        "/api/v2/users/u3",
    ]
    assert server.auth == ["Bearer loop-token"] * 3
    assert server.connections == 1
