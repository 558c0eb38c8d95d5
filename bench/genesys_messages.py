"""Agent messages the sandbox really created, for benchmarks whose receipts must succeed.

The sandbox's agent API (`POST …/communications/{id}/messages`, as the agent console sends)
creates each message in the sandbox's store and delivers its signed outbound webhook. While the
messages are made, the integration's webhook URL points at a `Capture` receiver in this process
(a keep-alive HTTP/1.1 server answering 200), so the bridge sees none of them until the load
generator replays the captured bodies. A Delivered receipt for such a message is answered 2xx
(the sandbox knows its id), unlike one for a made-up id (404).

Each message is made in its handover's own conversation when that handover was opened through the
sandbox (answered by the agent); a cloned handover's messages are made in the first handover's
conversation and `spread` moves them to the clone (its `channel.to.id` and `conversationId`) and
signs them again, keeping the sandbox's message id, text and `channel.time`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

from bench.procs import HOST, wait_until
from bench.rig import Rig
from bench.webhook_load import open_handovers
from om_bridge.bridge.config.model import BridgeSettings
from om_bridge.bridge.genesys.signature import HEADER, compute_signature
from om_bridge.sandbox import seed

INTEGRATIONS = "/api/v2/conversations/messaging/integrations/open"
SENDERS = 4  # agent API calls in flight while making messages
RECEIPT = "/inbound/open/receipt"  # how the receipt route's path ends
# The bridge's default placement window for late agent messages, set explicitly in the benchmarks
# that replay these bodies (nothing is held; each agent message reads its session's last outputs).
REORDER_WINDOW_MS = BridgeSettings.webhook_reorder_window_ms


class Capture:
    """A webhook receiver keeping every body it is sent (raw bytes) with its signature."""

    def __init__(self) -> None:
        self.items: list[tuple[bytes, str]] = []
        self._lock = threading.Lock()
        capture = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with capture._lock:
                    capture.items.append((raw, self.headers.get(HEADER, "")))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((HOST, 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://{HOST}:{self._server.server_port}/webhook"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def count(self) -> int:
        with self._lock:
            return len(self.items)

    def snapshot(self) -> list[tuple[bytes, str]]:
        """Everything captured so far."""
        with self._lock:
            return list(self.items)

    def take(self) -> list[tuple[bytes, str]]:
        """Everything captured so far (and forget it)."""
        with self._lock:
            items, self.items = self.items, []
        return items

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _token(sandbox_url: str) -> str:
    resp = requests.post(
        sandbox_url + "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(seed.BRIDGE_CLIENT_ID, seed.BRIDGE_CLIENT_SECRET),
        timeout=30,
    )
    resp.raise_for_status()
    return str(resp.json()["access_token"])


def _webhook_url(sandbox_url: str, token: str) -> str:
    resp = requests.get(
        f"{sandbox_url}{INTEGRATIONS}/{seed.DEMO_INTEGRATION_ID}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    resp.raise_for_status()
    return str(resp.json()["outboundNotificationWebhookUrl"])


def _point_webhooks(sandbox_url: str, token: str, url: str) -> None:
    resp = requests.patch(
        f"{sandbox_url}{INTEGRATIONS}/{seed.DEMO_INTEGRATION_ID}",
        json={"outboundNotificationWebhookUrl": url},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    resp.raise_for_status()


def produce(
    sandbox_url: str,
    agent: Any,
    sends: list[tuple[str, str]],
    capture: Capture,
    timeout: float = 300.0,
) -> list[tuple[bytes, str]]:
    """The agent sends each (conversation id, text) through the sandbox's API with the webhooks
    going to `capture`; the captured (raw body, signature) pairs, in arrival order. The
    integration points at its own webhook URL again afterwards."""
    token = _token(sandbox_url)
    webhook_url = _webhook_url(sandbox_url, token)
    paths = {
        conversation: f"/api/v2/conversations/messages/{conversation}/communications/"
        f"{agent.communication_id(conversation)}/messages"
        for conversation in {c for c, _ in sends}
    }
    capture.take()
    _point_webhooks(sandbox_url, token, capture.url)
    try:
        local = threading.local()

        def send(item: tuple[str, str]) -> None:
            session = getattr(local, "session", None)
            if session is None:
                session = local.session = requests.Session()
            resp = session.post(
                sandbox_url + paths[item[0]],
                json={"textBody": item[1]},
                headers={"Authorization": f"Bearer {agent.token}"},
                timeout=60,
            )
            resp.raise_for_status()

        with ThreadPoolExecutor(SENDERS) as pool:
            list(pool.map(send, sends))
        texts = {text for _, text in sends}
        wait_until(
            lambda: sum(1 for raw, _ in capture.snapshot() if _text(raw) in texts) >= len(sends),
            timeout,
            "the captured webhooks",
            0.02,
        )
    finally:
        _point_webhooks(sandbox_url, token, webhook_url)
    ours: list[tuple[bytes, str]] = []
    others: list[tuple[bytes, str]] = []
    for raw, signature in capture.take():
        (ours if _text(raw) in texts else others).append((raw, signature))
    # Webhooks the sandbox sent meanwhile that are not these messages (a late one of the set-up,
    # e.g. the flow's greeting) go where they were meant to: nothing is lost.
    for raw, signature in others:
        requests.post(
            webhook_url,
            data=raw,
            headers={"Content-Type": "application/json", HEADER: signature},
            timeout=30,
        ).raise_for_status()
    return ours


def _text(raw: bytes) -> str | None:
    text = json.loads(raw).get("text")
    return text if isinstance(text, str) else None


def ordered(captured: list[tuple[bytes, str]], texts: list[str]) -> list[tuple[bytes, str]]:
    """Captured bodies in the order of their `texts` (they were sent concurrently)."""
    index = {text: i for i, text in enumerate(texts)}
    return sorted(captured, key=lambda item: index[json.loads(item[0])["text"]])


def made_by_sandbox(
    rig: Any, targets: list[tuple[str, str]], texts: list[str], capture: Capture
) -> list[tuple[bytes, str]]:
    """Body i carries `texts[i]` and is aimed at `targets[i % len(targets)]`. The sandbox makes
    it in that target's conversation when the rig's first agent is connected to it (the body is
    then the sandbox's own bytes and signature), else in the first target's conversation (then
    moved to its target and signed again)."""
    agent = rig.agents[0]
    own = {c for _, c in targets if _connected(agent, c)}
    sends = [
        (conv if conv in own else targets[0][1], text)
        for text, (_, conv) in zip(texts, (targets[i % len(targets)] for i in range(len(texts))))
    ]
    made = produce(rig.sandbox_url, agent, sends, capture)
    return spread(ordered(made, texts), targets)


def _connected(agent: Any, conversation_id: str) -> bool:
    from om_bridge.sandbox.agentclient import AgentError

    try:
        agent.communication_id(conversation_id)
    except AgentError:
        return False
    return True


def spread(
    captured: list[tuple[bytes, str]],
    targets: list[tuple[str, str]],
    secret: str = seed.DEMO_WEBHOOK_SECRET,
) -> list[tuple[bytes, str]]:
    """Captured bodies round-robin over (customer id, conversation id) targets, signed again (the
    first target's bodies keep the sandbox's own bytes and signature when it is the sandbox's)."""
    out = []
    for i, (raw, signature) in enumerate(captured):
        customer, conversation = targets[i % len(targets)]
        body = json.loads(raw)
        if body["channel"]["to"]["id"] == customer and body["conversationId"] == conversation:
            out.append((raw, signature))
            continue
        body["channel"]["to"]["id"] = customer
        body["conversationId"] = conversation
        new = json.dumps(body, separators=(",", ":")).encode("utf-8")
        out.append((new, compute_signature(secret, new)))
    return out


@contextmanager
def replay_rig(workdir: Path, handovers: int) -> Iterator[tuple[Rig, list]]:
    """The rig of the benchmarks that replay sandbox-made messages, with `handovers` real ones:
    no sandbox rate limit (receipts would queue behind 429s), an agent slot for every handover,
    the bridge's placement window as configured by default."""
    with Rig(
        workdir,
        sandbox_config={
            "rate_limit": {"per_minute": 0},
            "routing": {"agent_capacity": handovers},
        },
        bridge={"webhook_reorder_window_ms": REORDER_WINDOW_MS},
    ) as rig:
        yield rig, open_handovers(rig, handovers, real=handovers)
