"""Two bridge instances on one Redis store (docs/design.md §3: several workers/machines).

A real `redis-server` on a free port, two bridge apps (two werkzeug servers) with the same
configuration and `store = "redis://..."`, one sandbox. The user talks to instance A; the sandbox's
Open Messaging webhook goes to instance B. What B receives must reach the user's long-poll, SSE
stream and callback URL on A (Redis pub/sub carries the wake-up), and the shared outbox must send
every user message exactly once although both instances run an outbox worker.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests

from om_bridge.bridge.demo import WEBHOOK_PATH
from om_bridge.bridge.store import SessionKey
from tests.browser import Receiver
from tests.conftest import free_port, wait_until
from tests.scenario.handover_helpers import SandboxReader, statuses, wait_conversation_id
from tests.scenario.harness import HOST, BridgeEnv, BridgeServer

pytestmark = pytest.mark.redis
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
# Longer than any wait in this file: a long-poll that returns an output before it ran out was woken
# by Redis pub/sub, not by the periodic re-read that only covers a lost subscription.
NO_REREAD = 3600.0


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A private redis-server (no persistence) in a temp dir, stopped after the test."""
    if not Path(REDIS_SERVER).exists():
        pytest.skip("redis-server is not installed (Debian package redis-server)")
    port = free_port()
    workdir = tmp_path / "redis"
    workdir.mkdir()
    proc = subprocess.Popen(
        [
            REDIS_SERVER,
            "--port",
            str(port),
            "--bind",
            HOST,
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(host=HOST, port=port)

    def up() -> bool:
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    try:
        wait_until(up, timeout=10, what="redis-server PING")
        yield f"redis://{HOST}:{port}/0?prefix=t-{uuid.uuid4().hex[:8]}:"
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=10)


class TwoBridges:
    """`env` is instance A (the user's); `b` is instance B, where the sandbox delivers webhooks."""

    def __init__(self, env: BridgeEnv, b: BridgeServer, b_url: str) -> None:
        self.env, self.b, self.b_url = env, b, b_url


@pytest.fixture
def two_bridges(make_bridge_env, redis_url) -> Iterator[TwoBridges]:  # type: ignore[no-untyped-def]
    b_port = free_port()
    b_url = f"http://{HOST}:{b_port}"
    receiver = Receiver()
    receiver.__enter__()
    env = make_bridge_env(
        config={
            "bridge": {"store": redis_url},
            "endpoints": [{"url_token": "demo", "callback_url": receiver.url + "/cb"}],
        },
        sandbox_config={"seed": {"webhook_url": b_url + WEBHOOK_PATH}},
    )
    env.receiver = receiver
    b = BridgeServer(
        {
            "config_path": str(env.config_path()),
            "environ": dict(env.environ),
            "start_workers": True,
            "sse_keepalive": 1.0,
        },
        b_port,
    )
    for ctx in (env.ctx, b.ctx):
        ctx.engine.outbox.backoff_base, ctx.engine.outbox.backoff_cap = 0.05, 0.3
    try:
        yield TwoBridges(env, b, b_url)
    finally:
        b.stop()
        env.stop_bridge()
        receiver.__exit__(None, None, None)


def _watchers(env: BridgeEnv, skey: str) -> int:
    """How many output waiters of A watch the session (white-box: proves the long-poll is
    blocked in the store before the agent writes)."""
    entries = env.ctx.store._waiters._entries
    entry = entries.get(skey)
    return entry[1] if entry else 0


def _sse_reader(env: BridgeEnv, got: list[dict], stop: threading.Event) -> threading.Thread:
    """Reads A's SSE stream into `got` until `stop` is set."""
    resp = requests.get(
        env.session_url("/events"), params={"userId": env.user_id}, stream=True, timeout=30
    )
    assert resp.status_code == 200

    def run() -> None:
        try:
            for line in resp.iter_lines(decode_unicode=True):
                if stop.is_set():
                    break
                if line.startswith("data: "):
                    got.append(json.loads(line[len("data: ") :]))
        except requests.RequestException:
            pass
        finally:
            resp.close()

    thread = threading.Thread(target=run, name="sse-reader", daemon=True)
    thread.start()
    return thread


def test_webhook_on_b_reaches_the_user_on_a_and_the_outbox_sends_once(two_bridges):
    env, b = two_bridges.env, two_bridges.b
    assert (
        type(env.ctx.store).__name__ == "RedisStore" and type(b.ctx.store).__name__ == "RedisStore"
    )
    env.ctx.store.cross_process_poll = NO_REREAD  # only pub/sub may wake A's waiters
    sse_got: list[dict] = []
    stop = threading.Event()
    reader = _sse_reader(env, sse_got, stop)
    try:
        env.say("hello")
        env.say("agent please")
        conversation_id = wait_conversation_id(env)
        agent = env.agent
        agent.go_on_queue()
        agent.wait_for_offer()
        agent.answer(conversation_id)

        # A long-poll on A is waiting before the agent writes; the webhook goes to B.
        cursor = env.outputs(0)["next"]
        waiting: dict = {}
        poll = threading.Thread(target=lambda: waiting.update(env.outputs(cursor, wait=25)))
        poll.start()
        skey = SessionKey("demo", env.user_id, env.session_id).as_str()
        wait_until(lambda: _watchers(env, skey) >= 2, 5, what="the long-poll waiting (+ SSE)")
        agent.send_text(conversation_id, "Hi, I am Alex (webhook to B)")
        poll.join(30)
        assert not poll.is_alive()
        # The first wake-up may be the "active" status B emitted just before the text: keep
        # long-polling A (each call can only return early through pub/sub).
        got, cursor = list(waiting["outputs"]), waiting["next"]
        while not any(o["source"] == "agent" and o.get("text") for o in got):
            page = env.outputs(cursor, wait=25)
            assert page["outputs"], "a long-poll on A ran out: B's output never woke it"
            got, cursor = got + page["outputs"], page["next"]
        agent_out = [o for o in got if o["source"] == "agent" and o.get("text")]
        assert agent_out[0]["text"] == "Hi, I am Alex (webhook to B)"
        assert agent_out[0]["data"]["agent"]["name"] == "Alex Agent"

        # The user writes through A and through B alternately: each message reaches the agent
        # exactly once and in order, although both instances drain the same outbox.
        sent = [f"user message {i}" for i in range(6)]
        for i, text in enumerate(sent):
            if i % 2:
                r = requests.post(
                    two_bridges.b_url + "/endpoint/demo",
                    json={"userId": env.user_id, "sessionId": env.session_id, "text": text},
                    timeout=10,
                )
                assert r.status_code == 200, r.text
            else:
                assert env.say(text)["outputStack"] == []
        reader_api = SandboxReader(env.sandbox_url)
        wait_until(
            lambda: sent[-1] in reader_api.inbound_texts(conversation_id),
            20,
            interval=0.2,
            what="the last user message at the agent",
        )
        wait_until(lambda: env.ctx.store.outbox_pending() == [], 10, what="an empty outbox")
        inbound = reader_api.inbound_texts(conversation_id)
        assert [t for t in inbound if t in sent] == sent
        assert len(inbound) == len(set(inbound)), inbound  # nothing sent twice
        assert inbound[0].startswith("Transcript:")

        # The end (EventBridge → A) resumes the flow; everything on A's long-poll, SSE and the
        # callback URL, in the same order.
        agent.disconnect(conversation_id)

        def back() -> bool:
            outs = env.outputs(0)["outputs"]
            return any(o["source"] == "bot" and "I'm back" in (o.get("text") or "") for o in outs)

        wait_until(back, 20, interval=0.2, what="the bot back after the end")
        outs = env.outputs(0)["outputs"]
        assert statuses(outs)[:3] == ["requested", "queue", "active"]
        assert "completed" in statuses(outs)
        seqs = [o["seq"] for o in outs]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        wait_until(lambda: len(sse_got) >= len(outs), 10, what="every output on A's SSE stream")
        assert [o["seq"] for o in sse_got[: len(outs)]] == seqs
        wait_until(
            lambda: len(env.receiver.requests) >= len(outs),
            10,
            what="every output at the callback URL",
        )
        trace = [r.json()["AIOutput"]["traceId"] for r in env.receiver.requests]
        assert trace == [f"om-bridge-{env.session_id}-{s}" for s in seqs]
    finally:
        stop.set()
        reader.join(5)
