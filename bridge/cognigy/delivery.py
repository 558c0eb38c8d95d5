"""`CognigyReturn`: what the handover engine sends back into a Cognigy-hosted session.

- Agent messages, attachments, quick replies and typing go straight to the user through
  **Notify**, with the agent's name and avatar in `data.agent` when Display Agent Details is on.
- Status changes (`queue` and `active` when the Handover node's Send Queue / Send Active Event is
  on, as in Cognigy; `completed`, `cancelled`, `error` always) and Genesys bot messages
  (`genericHandoverUpdate`, text at `data.request.text`) go into the flow through **Inject**, with
  the status at `input.data.handover.status` (Inject sets `input.text`/`input.data`; only Cognigy's
  own handover service sets `input.handover`), so the flow's Lookup acts on them.

Every call is an item of the durable outbox, keyed by session: stored before anything else
happens (an agent message's item is stored in the same transaction that retires its webhook), sent
in order per session, retried on 429/5xx/connection errors and on a refused API key (an error in
the log until the key is fixed), never dropped and never sent twice by the bridge.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from om_bridge.bridge.cognigy.client import CognigyClient, CognigyError
from om_bridge.bridge.delivery import SendFailed
from om_bridge.bridge.store import SessionKey

if TYPE_CHECKING:
    from om_bridge.bridge.config import Config
    from om_bridge.bridge.metrics import Metrics
    from om_bridge.bridge.store import OutboxItem

log = logging.getLogger(__name__)

INJECT = "cognigy_inject"
NOTIFY = "cognigy_notify"
CALLS = {INJECT: "inject", NOTIFY: "notify"}
KEY_PREFIX = "cognigy:"


class CognigyReturn:
    """Queues and sends Inject/Notify calls for sessions of `[[cognigy_endpoints]]`."""

    def __init__(self, config: Config, metrics: Metrics) -> None:
        self.config = config
        self._clients: dict[str, CognigyClient] = {}
        self._lock = threading.Lock()
        self._calls = metrics.counter(
            "cognigy_calls_total",
            "Inject/Notify calls to Cognigy by call and status",
            ["call", "status"],
        )
        self.put_item: Any = None  # set by the engine: (key, kind, payload) -> item id
        # Set by the engine: (receipt reference, delivered) -> None. An agent message's receipt
        # goes to Genesys once Cognigy took the Notify (Delivered) or refused it for good (Failed).
        self.on_receipt: Any = None

    # -- which sessions ---------------------------------------------------------------------
    def _serves(self, key: SessionKey) -> bool:
        """True when the session belongs to a Cognigy-hosted endpoint."""
        return key.url_token in self.config.cognigy_endpoints

    def client(self, url_token: str) -> CognigyClient:
        with self._lock:
            client = self._clients.get(url_token)
            if client is None:
                client = CognigyClient(self.config.cognigy_endpoints[url_token])
                self._clients[url_token] = client
            return client

    # -- producer side ----------------------------------------------------------------------
    def _put(self, key: SessionKey, kind: str, text: str | None, data: dict, **extra: Any) -> int:
        payload = {
            "session": [key.url_token, key.user_id, key.session_id],
            "text": text,
            "data": data,
            **extra,
        }
        return int(self.put_item(KEY_PREFIX + key.as_str(), kind, payload))

    def notify(self, key: SessionKey, text: str | None, data: dict | None, **extra: Any) -> int:
        """Queue a Notify (straight to the user)."""
        return self._put(key, NOTIFY, text, dict(data or {}), **extra)

    def inject(self, key: SessionKey, text: str | None, data: dict) -> int:
        """Queue an Inject (into the flow)."""
        return self._put(key, INJECT, text, data)

    def inject_status(self, key: SessionKey, event: dict[str, Any]) -> int:
        """Inject a handover event: `event` is what a standalone flow would get as
        `input.handover` (status, error, and whatever else the engine's resuming input carries);
        the Cognigy flow reads it at `input.data.handover`."""
        return self.inject(key, None, {"handover": dict(event)})

    def inject_bot_message(self, key: SessionKey, text: str | None) -> int:
        """A Genesys bot message as the seed's recipe reads it: `input.data.request.text`."""
        return self.inject(
            key, None, {"request": {"text": text}, "handover": {"status": "genericHandoverUpdate"}}
        )

    def forward(
        self, key: SessionKey, output: dict, receipt: Mapping[str, Any] | None = None
    ) -> bool:
        """Translate one output the engine emitted for a Cognigy session into its call; False
        when the output has no Cognigy counterpart (e.g. "requested", or the end statuses the
        engine injects itself)."""
        if not self._serves(key):
            return False
        source, text, data = output.get("source"), output.get("text"), output.get("data") or {}
        if source == "system":
            # Status changes reach the flow only through the engine's events: `queue` / `active`
            # when the node's Send Queue / Active Event is on, the end with the whole outcome.
            if "undelivered" in data and text:
                self.notify(key, text, data)
                return True
            return False
        if source == "agent":
            extra = {"receipt": dict(receipt)} if receipt else {}
            self.notify(key, text, data, ephemeral=bool(data.get("typing") and not text), **extra)
            return True
        if text or data:
            self.notify(key, text, data)
            return True
        return False

    # -- sender side (outbox workers) --------------------------------------------------------
    def send(self, item: OutboxItem) -> None:
        """Send one queued call; raises SendFailed for the outbox's retry policy."""
        url_token, user_id, session_id = item.payload["session"]
        call = CALLS[item.kind]
        if url_token not in self.config.cognigy_endpoints:
            raise SendFailed(
                f"no [[cognigy_endpoints]] entry for URL token {url_token!r}", retryable=False
            )
        client = self.client(url_token)
        body = client.body(user_id, session_id, item.payload.get("text"), item.payload.get("data"))
        try:
            client.send(call, body)
        except CognigyError as err:
            self._calls.labels(call, str(err.status or "error")).inc()
            raise SendFailed(
                str(err), retryable=err.retryable, retry_after=err.retry_after, alert=err.auth
            ) from None
        self._calls.labels(call, "2xx").inc()
        receipt = item.payload.get("receipt")
        if receipt and self.on_receipt is not None:
            self.on_receipt(receipt, True)

    def refused(self, item: OutboxItem) -> None:
        """A call dead-lettered by the outbox: an agent message's Failed receipt to Genesys."""
        receipt = item.payload.get("receipt")
        if receipt and self.on_receipt is not None:
            self.on_receipt(receipt, False)

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()
