"""`GenesysClient.lean_request` (LeanTransport): the per-message calls through a urllib3 pool,
against a real local HTTP/1.1 server: bearer token, JSON body, one keep-alive connection for many
calls, a 429 retried after its Retry-After, typed errors, a 401 refreshing the token once."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from om_bridge.bridge.genesys.client import GenesysClient
from om_bridge.bridge.genesys.errors import NotFoundError


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.connections = 0
        self.calls: list[tuple[str, str, str, dict | None]] = []
        self.plan: list[int] = []  # statuses to answer API calls with, in order (then 202)
        self.tokens = 0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 65536  # headers and body in one write (flushed after each request): no Nagle wait
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1

    def log_message(self, *args: object) -> None:
        pass

    def _reply(self, status: int, body: dict, headers: dict | None = None) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(raw)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path == "/oauth/token":
            self.server.tokens += 1
            token = f"token-{self.server.tokens}"
            self._reply(200, {"access_token": token, "expires_in": 86400, "token_type": "bearer"})
            return
        auth = self.headers.get("Authorization", "")
        self.server.calls.append(
            (self.path, auth, self.headers.get("Content-Type", ""), json.loads(raw))
        )
        status = self.server.plan.pop(0) if self.server.plan else 202
        if status == 429:
            self._reply(429, {"code": "too.many.requests", "message": "slow"}, {"Retry-After": "0"})
        elif status == 401:
            self._reply(401, {"code": "bad.credentials", "message": "expired"})
        elif status == 404:
            self._reply(404, {"code": "not.found", "message": "no such message"})
        else:
            self._reply(202, {"id": "r"})


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


def test_lean_calls_share_one_keep_alive_connection_and_the_token(server: _Server) -> None:
    client = GenesysClient(
        base_url=f"http://127.0.0.1:{server.server_port}", client_id="c", client_secret="s"
    )
    try:
        for n in range(20):
            assert client.lean_request("POST", "/api/v2/x/receipt", json_body={"n": n}) == {
                "id": "r"
            }
        assert [c[3] for c in server.calls] == [{"n": n} for n in range(20)]
        assert {c[1] for c in server.calls} == {"Bearer token-1"}
        assert {c[2] for c in server.calls} == {"application/json"}
        # The token call (the session's connection) and one keep-alive connection for 20 calls.
        assert server.connections == 2
    finally:
        client.close()


def test_lean_calls_retry_429_refresh_on_401_and_raise_typed_errors(server: _Server) -> None:
    client = GenesysClient(
        base_url=f"http://127.0.0.1:{server.server_port}", client_id="c", client_secret="s"
    )
    try:
        server.plan = [429, 401]
        assert client.lean_request("POST", "/api/v2/x/receipt", json_body={}) == {"id": "r"}
        assert len(server.calls) == 3 and server.tokens == 2
        assert server.calls[-1][1] == "Bearer token-2"
        server.plan = [404]
        with pytest.raises(NotFoundError) as err:
            client.lean_request("POST", "/api/v2/x/receipt", json_body={})
        assert err.value.status == 404 and "token" not in str(err.value)
    finally:
        client.close()
