"""`GenesysClient.lean_request` (LeanTransport): the per-message calls over kept-alive sockets,
against a real local HTTP/1.1 server (plain and TLS): bearer token, JSON body, one keep-alive
connection for many calls, a connection the server closed replaced before it is used, a 429
retried after its Retry-After, typed errors, a 401 refreshing the token once, the server's
certificate verified."""

from __future__ import annotations

import json
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from om_bridge.bridge.genesys.client import GenesysClient
from om_bridge.bridge.genesys.errors import GenesysConnectionError, NotFoundError
from om_bridge.bridge.genesys.retry import RetryPolicy
from tests.conftest import wait_until


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.connections = 0
        self.calls: list[tuple[str, str, str, dict | None]] = []
        self.plan: list[int] = []  # statuses to answer API calls with, in order (then 202)
        self.tokens = 0
        self.drop_idle = False  # close each connection after one answer, without saying so
        self.closed = 0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 65536  # headers and body in one write (flushed after each request): no Nagle wait
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1

    def finish(self) -> None:
        super().finish()
        self.server.closed += 1

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
        if self.server.drop_idle:
            self.close_connection = True


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


def test_a_kept_alive_connection_the_server_closed_is_replaced_before_use(
    server: _Server,
) -> None:
    client = GenesysClient(
        base_url=f"http://127.0.0.1:{server.server_port}",
        client_id="c",
        client_secret="s",
        retry=RetryPolicy(max_attempts=1),
    )
    try:
        server.drop_idle = True
        for n in range(3):
            closed = server.closed
            assert client.lean_request("POST", "/api/v2/x/receipt", json_body={"n": n}) == {
                "id": "r"
            }
            wait_until(lambda c=closed: server.closed > c, 10, what="the server's close")
        # one attempt each (no retries allowed): every call found its closed socket unusable
        assert [c[3] for c in server.calls] == [{"n": n} for n in range(3)]
    finally:
        client.close()


def _certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (and its key), made by the openssl command."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[_Server, Path]]:
    cert, key = _certificate(tmp_path)
    srv = _Server()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    srv.socket = context.wrap_socket(srv.socket, server_side=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv, cert
    finally:
        srv.shutdown()
        srv.server_close()


def test_lean_calls_over_tls_verify_the_server_and_keep_the_connection(
    tls_server: tuple[_Server, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, cert = tls_server
    base_url = f"https://127.0.0.1:{server.server_port}"
    # Not signed by a CA of the default bundle: refused before anything is sent.
    strict = GenesysClient(
        base_url=base_url,
        client_id="c",
        client_secret="s",
        retry=RetryPolicy(max_attempts=1),
    )
    strict._transport.tokens.token = lambda: "token-x"  # type: ignore[method-assign]
    try:
        with pytest.raises(GenesysConnectionError) as err:
            strict.lean_request("POST", "/api/v2/x/receipt", json_body={})
        assert err.value.maybe_sent is False
        assert server.calls == []
    finally:
        strict.close()
    # With the operator's CA bundle (REQUESTS_CA_BUNDLE, as for every Genesys call): verified.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    client = GenesysClient(base_url=base_url, client_id="c", client_secret="s")
    try:
        for n in range(5):
            assert client.lean_request("POST", "/api/v2/x/receipt", json_body={"n": n}) == {
                "id": "r"
            }
        assert [c[3] for c in server.calls] == [{"n": n} for n in range(5)]
        assert {c[1] for c in server.calls} == {"Bearer token-1"}
        # the token call (the session's connection) and one kept-alive connection for 5 calls
        assert server.connections == 2  # (the refused handshake never reached a handler)
    finally:
        client.close()
