"""Shared helpers of the sandbox core tests: a started `SandboxServer`, a local webhook receiver
that records the exact bytes Genesys would send, token helpers and an SDK client."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from om_bridge.sandbox import seed
from om_bridge.sandbox.server import SandboxServer
from om_bridge.sandbox.webhooks import sign
from tests.conftest import wait_until
from tests.sandbox.sdk_strict import StrictApiClient
from tests.tlsca import TLSFiles

BRIDGE = (seed.BRIDGE_CLIENT_ID, seed.BRIDGE_CLIENT_SECRET)
INTEGRATION = seed.DEMO_INTEGRATION_ID
SECRET = seed.DEMO_WEBHOOK_SECRET
INBOUND = f"/api/v2/conversations/messages/{INTEGRATION}/inbound/open"


@dataclass
class Hit:
    """One request the receiver got: raw body, headers, parsed JSON."""

    body: bytes
    headers: dict[str, str]
    json: Any
    path: str


@dataclass
class WebhookReceiver:
    """A real HTTP server on a free loopback port recording every POST.

    `responder(hit)` may return a status (default 200) or sleep to simulate a slow receiver."""

    responder: Callable[[Hit], int] | None = None
    hits: list[Hit] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}/handover/genesysCloudOM"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()

    def _app(self, environ: dict, start_response: Callable) -> Any:
        req = Request(environ)
        import json

        raw = req.get_data()
        hit = Hit(raw, dict(req.headers), json.loads(raw) if raw else None, req.path)
        with self._lock:
            self.hits.append(hit)
        status = self.responder(hit) if self.responder else 200
        return Response("{}", status=status, mimetype="application/json")(environ, start_response)

    def of_type(self, kind: str, text: str | None = None) -> list[Hit]:
        with self._lock:
            return [
                h
                for h in self.hits
                if h.json
                and h.json.get("type") == kind
                and (text is None or h.json.get("text") == text)
            ]

    def texts(self) -> list[str]:
        with self._lock:
            return [
                h.json.get("text")
                for h in self.hits
                if h.json and h.json.get("type") in ("Text", "Structured")
            ]

    def wait_for(
        self, predicate: Callable[[], bool], what: str = "webhook", timeout: float = 10.0
    ) -> None:
        wait_until(predicate, timeout, what=what)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def start(
    config: dict | None = None,
    receiver: WebhookReceiver | None = None,
    tls: TLSFiles | None = None,
) -> SandboxServer:
    """A started sandbox; with `receiver`, the demo integration's webhook points at it and
    deliveries use tiny timeouts so retry tests stay fast; with `tls`, it serves HTTPS (and wss)
    on that certificate."""
    cfg: dict[str, Any] = {
        k: dict(v) if isinstance(v, dict) else v for k, v in (config or {}).items()
    }
    if receiver is not None:
        cfg.setdefault("seed", {})["webhook_url"] = receiver.url
    webhook = cfg.setdefault("webhook", {})
    webhook.setdefault("timeout", 2.0)
    webhook.setdefault("retry_delay", 0.05)
    return SandboxServer(cfg, **(tls.server_args if tls else {})).start()


def token(url: str, client: tuple[str, str] = BRIDGE) -> str:
    resp = requests.post(
        f"{url}/oauth/token", auth=client, data={"grant_type": "client_credentials"}, timeout=5
    )
    assert resp.status_code == 200, resp.text
    return resp.json()["access_token"]


def auth(tok: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tok}"}


def sdk_client(url: str, client: tuple[str, str] = BRIDGE) -> StrictApiClient:
    """The official SDK pointed at the sandbox and logged in with client credentials; every
    response body is checked strictly against the route's SDK model (`sdk_strict`)."""
    api = StrictApiClient(host=url)
    api.get_client_credentials_token(*client)
    return api


def inbound(
    url: str,
    tok: str,
    customer: str,
    text: str | None = "hello",
    prefetch: bool = True,
    **extra: Any,
) -> requests.Response:
    """POST an inbound Open Messaging text for `customer`."""
    body: dict[str, Any] = {
        "channel": {
            "from": {"id": customer, "idType": "Opaque", "nickname": customer.title()},
            "time": "2025-05-02T09:31:22.733Z",
            "messageId": f"ext-{time.monotonic_ns()}",
        }
    }
    if text is not None:
        body["text"] = text
    body.update(extra)
    q = "?prefetchConversationId=true" if prefetch else ""
    return requests.post(f"{url}{INBOUND}/message{q}", json=body, headers=auth(tok), timeout=5)


def verify(hit: Hit, secret: str = SECRET) -> bool:
    """Verify the signature over the exact bytes received, as a middleware must."""
    return hit.headers.get("X-Hub-Signature-256") == sign(secret, hit.body)


class BusRecorder:
    """Subscribes to a sandbox's bus and keeps every (topic, body)."""

    def __init__(self, server: SandboxServer) -> None:
        self.events: list[tuple[str, dict]] = []
        self._lock = threading.Lock()
        self.unsubscribe = server.sandbox.bus.subscribe(self._on)

    def _on(self, topic: str, body: dict) -> None:
        import copy

        with self._lock:
            self.events.append((topic, copy.deepcopy(body)))

    def topics(self, suffix: str = "") -> list[str]:
        with self._lock:
            return [t for t, _ in self.events if t.endswith(suffix)]

    def bodies(self, topic_suffix: str) -> list[dict]:
        with self._lock:
            return [b for t, b in self.events if t.endswith(topic_suffix)]
