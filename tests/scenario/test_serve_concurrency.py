"""`om-bridge serve` (the production server: gunicorn's gevent worker) under many open
connections, and with two workers on Redis.

- 64 open SSE streams, 8 clients that never finish their headers and 8 that never finish their
  body do not block `/healthz`, a signed Genesys webhook or a user's message (under one
  16-thread gthread worker every one of these requests would wait for a free thread);
- a long-poll whose client closes its connection is released at once, not when its wait ends;
- two workers on a real redis-server: a handover to an agent and back, the agent's messages reach
  the user in order and exactly once (webhooks land on either worker; the user's long-polls and
  SSE stream on either), and one notifications WebSocket (one listener leader) is open.

Every server is a subprocess on a free loopback port; nothing is timed: each wait has a generous
deadline and only proves that the request was served at all.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from om_bridge.bridge.config import write_config
from om_bridge.bridge.demo import DEMO_TOKEN, demo_config, demo_environ, sandbox_demo_config
from om_bridge.sandbox import seed
from om_bridge.sandbox.agentclient import AgentClient
from om_bridge.sandbox.server import SandboxServer
from tests.conftest import free_port, wait_until
from tests.scenario.handover_helpers import collect, statuses
from tests.scenario.harness import FAST_SANDBOX, HOST, merge
from tests.scenario.process_story import Channel
from tests.scenario.test_deployment_command import stop
from tests.scenario.test_redis_fanout import redis_url  # noqa: F401 - fixture
from tests.scenario.webhook_replay import replay

pytestmark = [pytest.mark.slow]


@pytest.fixture
def sandbox_and_port() -> Iterator[tuple[SandboxServer, int]]:
    port = free_port()
    sandbox = SandboxServer(
        config=merge(sandbox_demo_config(f"http://{HOST}:{port}"), FAST_SANDBOX),
        host=HOST,
        port=0,
    )
    sandbox.start()
    try:
        yield sandbox, port
    finally:
        sandbox.stop()


def serve(config_path: Path, port: int, log: Path, *extra: str) -> subprocess.Popen:
    """`om-bridge serve` as production runs it (gunicorn, serve's worker settings)."""
    argv = [sys.executable, "-m", "om_bridge", "serve", "--config", str(config_path)]
    argv += ["--host", HOST, "--port", str(port), *extra]
    env: dict[str, Any] = {**os.environ, **demo_environ()}
    for name in (
        "OM_BRIDGE_STORE",
        "OM_BRIDGE_CONFIG",
        "GUNICORN_CMD_ARGS",
        "OM_BRIDGE_PUBLIC_URL",
    ):
        env.pop(name, None)
    with log.open("wb") as out:
        return subprocess.Popen(
            argv, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def wait_ready(proc: subprocess.Popen, url: str, log: Path) -> None:
    def ready() -> bool:
        assert proc.poll() is None, f"serve exited:\n{log.read_text(errors='replace')}"
        try:
            return requests.get(url + "/readyz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    wait_until(ready, 90, interval=0.2, what="/readyz of om-bridge serve")


def raw(port: int, data: bytes) -> socket.socket:
    sock = socket.create_connection((HOST, port), timeout=60)
    sock.sendall(data)
    return sock


def open_sse(port: int, session_id: str, user_id: str = "") -> socket.socket:
    """An SSE stream, read until its first event (the `retry:` line): the stream is open."""
    user_id = user_id or f"u-{session_id}"
    path = f"/endpoint/{DEMO_TOKEN}/sessions/{session_id}/events?userId={user_id}"
    sock = raw(port, f"GET {path} HTTP/1.1\r\nHost: bridge\r\n\r\n".encode())
    got = b""
    while b"retry:" not in got:
        chunk = sock.recv(4096)
        assert chunk, "the SSE stream closed before its first event"
        got += chunk
    assert got.startswith(b"HTTP/1.1 200"), got
    return sock


def metric(url: str, name: str) -> float:
    for line in requests.get(url + "/metrics", timeout=30).text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} is not in /metrics")


def test_open_streams_and_slow_clients_do_not_block_requests(
    tmp_path: Path, sandbox_and_port: tuple[SandboxServer, int]
) -> None:
    sandbox, port = sandbox_and_port
    url = f"http://{HOST}:{port}"
    config_path = tmp_path / "om-bridge.toml"
    write_config(config_path, demo_config(url, sandbox.url, tmp_path / "data"))
    log = tmp_path / "serve.log"
    proc = serve(config_path, port, log, "--data-dir", str(tmp_path / "data"))
    held: list[socket.socket] = []
    try:
        wait_ready(proc, url, log)
        held += [open_sse(port, f"s{i}-{uuid.uuid4().hex[:8]}") for i in range(64)]
        # Slowloris: headers never finished; bodies announced and never sent.
        held += [raw(port, b"GET /healthz HTTP/1.1\r\nHost: bridge\r\nX-Slow: ") for _ in range(8)]
        held += [
            raw(
                port,
                b"POST /handover/genesysCloudOM HTTP/1.1\r\nHost: bridge\r\n"
                b"Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n{",
            )
            for _ in range(8)
        ]
        assert metric(url, "om_bridge_output_waiters") >= 64

        assert requests.get(url + "/healthz", timeout=30).status_code == 200
        resp, _ = replay(url, "outbound_text", customer_id=uuid.uuid4().hex)
        assert resp.status_code == 200, resp.text
        user = Channel(url)
        assert "demo bot" in user.say("hello")["text"]

        # The 64 streams are still open (no end of file; a keep-alive comment may be waiting).
        for sock in held[:64]:
            try:
                assert sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
            except BlockingIOError:
                pass
        assert metric(url, "om_bridge_output_waiters") >= 64
    finally:
        for sock in held:
            sock.close()
        stop(proc)
    assert proc.returncode == 0, log.read_text(errors="replace")


def test_a_closed_long_poll_is_released_at_once(
    tmp_path: Path, sandbox_and_port: tuple[SandboxServer, int]
) -> None:
    sandbox, port = sandbox_and_port
    url = f"http://{HOST}:{port}"
    config_path = tmp_path / "om-bridge.toml"
    write_config(config_path, demo_config(url, sandbox.url, tmp_path / "data"))
    log = tmp_path / "serve.log"
    proc = serve(config_path, port, log, "--data-dir", str(tmp_path / "data"))
    try:
        wait_ready(proc, url, log)
        path = f"/endpoint/{DEMO_TOKEN}/sessions/lp/outputs?userId=u-lp&wait=30"
        polls = [raw(port, f"GET {path} HTTP/1.1\r\nHost: bridge\r\n\r\n".encode())]
        polls += [raw(port, f"GET {path} HTTP/1.1\r\nHost: bridge\r\n\r\n".encode())]
        wait_until(
            lambda: metric(url, "om_bridge_output_waiters") == 2,
            20,
            interval=0.1,
            what="two pending long-polls",
        )
        polls.pop().close()
        # Released before its 30 s wait could have ended on its own; the other one still waits.
        wait_until(
            lambda: metric(url, "om_bridge_output_waiters") == 1,
            20,
            interval=0.1,
            what="the closed long-poll released",
        )
        polls[0].close()
    finally:
        stop(proc)


@pytest.mark.redis
def test_two_workers_on_redis_keep_order_exactly_once_and_one_listener(
    tmp_path: Path,
    redis_url: str,
    sandbox_and_port: tuple[SandboxServer, int],
) -> None:
    sandbox, port = sandbox_and_port
    url = f"http://{HOST}:{port}"
    config = demo_config(url, sandbox.url, tmp_path / "data")
    config["bridge"]["store"] = redis_url
    for provider in config["providers"]:
        provider["completion"] = "notifications"
    config_path = tmp_path / "om-bridge.toml"
    write_config(config_path, config)
    log = tmp_path / "serve.log"
    proc = serve(config_path, port, log, "--workers", "2")
    agent = None
    try:
        wait_ready(proc, url, log)
        assert "2 worker process(es)" in log.read_text(errors="replace")
        agent = AgentClient(sandbox.url, seed.DEMO_AGENT_USERNAME, seed.DEMO_AGENT_PASSWORD).login()
        agent.go_on_queue()
        user = Channel(url)
        user.say("hello")
        assert "Connecting you" in user.say("I want an agent please")["text"]
        conversation_id = agent.wait_for_offer(timeout=30)["id"]
        agent.answer(conversation_id)

        # An SSE reader (served by whichever worker accepted it) and long-polls.
        stream = open_sse(port, user.session_id, user.user_id)
        texts = [f"agent line {i}" for i in range(20)]
        for text in texts:
            agent.send_text(conversation_id, text)
        outs = collect(
            user, lambda o: o["source"] == "agent" and o.get("text") == texts[-1], timeout=60
        )
        agent_lines = [o["text"] for o in outs if o["source"] == "agent"]
        assert agent_lines == texts, agent_lines  # in order, each exactly once
        seqs = [o["seq"] for o in outs]
        assert seqs == sorted(set(seqs))
        # The SSE reader got the same lines, in the same order, once each.
        got = b""
        while texts[-1].encode() not in got:
            chunk = stream.recv(65536)
            assert chunk, "the stream closed"
            got += chunk
        streamed = [t for t in re.findall(rb'"text":"(agent line \d+)"', got)]
        assert [t.decode() for t in streamed] == texts
        stream.close()

        notifications = sandbox.app.extensions["sandbox.notifications"]
        wait_until(
            lambda: len(notifications._live) >= 1, 30, interval=0.2, what="the listener's socket"
        )
        assert len(notifications._live) == 1, "one notifications WebSocket (one leader)"
        leaders = [ln for ln in log.read_text(errors="replace").splitlines() if ": leader (" in ln]
        assert len(leaders) == 1, leaders

        agent.disconnect(conversation_id)
        outs = collect(
            user, lambda o: o["source"] == "bot" and "I'm back" in (o.get("text") or ""), 60
        )
        assert "completed" in statuses(outs)
    finally:
        if agent is not None:
            agent.close()
        stop(proc)
    assert proc.returncode == 0, log.read_text(errors="replace")
