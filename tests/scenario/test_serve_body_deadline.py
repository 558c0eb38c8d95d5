"""`om-bridge serve` cuts off a body that trickles in: a client that sends a byte at a time, never
silent long enough for the idle timeout, is answered 408 once the body deadline
(`[bridge] body_timeout_seconds`) has passed, and its connection is closed."""

from __future__ import annotations

import json
import select
import socket
import time
from pathlib import Path

import pytest
import requests

from om_bridge.bridge.config import write_config
from om_bridge.bridge.demo import DEMO_TOKEN, demo_config
from om_bridge.sandbox.server import SandboxServer
from tests.scenario.harness import HOST
from tests.scenario.test_deployment_command import stop
from tests.scenario.test_serve_concurrency import (  # noqa: F401 - fixture
    sandbox_and_port,
    serve,
    wait_ready,
)

pytestmark = [pytest.mark.slow]
DEADLINE = 2
# How long the test keeps trickling before it calls the body never cut off (far past DEADLINE).
PATIENCE_SECONDS = 60.0


def read_answer(sock: socket.socket) -> bytes:
    answer = b""
    while b"\r\n\r\n" not in answer:
        part = sock.recv(4096)
        if not part:
            break
        answer += part
    return answer


def test_a_trickled_body_is_answered_408_and_disconnected(
    tmp_path: Path, sandbox_and_port: tuple[SandboxServer, int]
) -> None:
    sandbox, port = sandbox_and_port
    url = f"http://{HOST}:{port}"
    config = demo_config(url, sandbox.url, tmp_path / "data")
    config["bridge"]["body_timeout_seconds"] = DEADLINE
    config_path = tmp_path / "om-bridge.toml"
    write_config(config_path, config)
    log = tmp_path / "serve.log"
    proc = serve(config_path, port, log, "--data-dir", str(tmp_path / "data"))
    try:
        wait_ready(proc, url, log)
        body = json.dumps({"userId": "u", "sessionId": "s", "text": "x" * 4000}).encode()
        sock = socket.create_connection((HOST, port), timeout=30)
        try:
            sock.sendall(
                f"POST /endpoint/{DEMO_TOKEN} HTTP/1.1\r\nHost: bridge\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            )
            sent, started = 0, time.monotonic()
            while sent < len(body) and time.monotonic() - started < PATIENCE_SECONDS:
                if select.select([sock], [], [], 0.1)[0]:  # the server answered
                    break
                try:
                    sock.sendall(body[sent : sent + 1])  # one byte per tenth of a second
                except (BrokenPipeError, ConnectionResetError):
                    break
                sent += 1
            assert sent < len(body), "the trickled body was read to its end"
            answer = read_answer(sock)
            assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
            head, _, rest = answer.partition(b"\r\n\r\n")
            assert b"application/json" in head.lower()
            assert b"body_timeout_seconds" in rest or b"body_timeout_seconds" in sock.recv(4096)
            # The connection is closed after the answer (its unread body is never read on).
            sock.settimeout(30)
            while True:
                try:
                    more = sock.recv(4096)
                except ConnectionResetError:
                    break
                if not more:
                    break
        finally:
            sock.close()
        # A body the route does not read (an upload without a handover is refused first) is
        # drained within the same deadline, then the connection is closed.
        sock = socket.create_connection((HOST, port), timeout=30)
        try:
            sock.sendall(
                f"POST /endpoint/{DEMO_TOKEN}/sessions/s/uploads?userId=u HTTP/1.1\r\n"
                "Host: bridge\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n".encode()
            )
            assert read_answer(sock).startswith(b"HTTP/1.1 409")
            closed, started = False, time.monotonic()
            while not closed and time.monotonic() - started < PATIENCE_SECONDS:
                try:
                    sock.sendall(b"x")
                    if select.select([sock], [], [], 0.1)[0]:
                        closed = sock.recv(4096) == b""
                except (BrokenPipeError, ConnectionResetError):
                    closed = True
            assert closed, "the unread trickled body was drained without end"
        finally:
            sock.close()
        # Bodies sent at once are read as before, on a kept-alive connection too.
        with requests.Session() as http:
            for n in range(2):
                resp = http.post(
                    f"{url}/endpoint/{DEMO_TOKEN}",
                    json={"userId": "u2", "sessionId": "s2", "text": f"hello {n}"},
                    timeout=30,
                )
                assert resp.status_code == 200, resp.text
    finally:
        stop(proc)
    assert proc.returncode == 0, log.read_text(errors="replace")
