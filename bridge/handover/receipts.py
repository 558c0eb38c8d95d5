"""`ReceiptSender`: Delivered / Failed receipts to Genesys, sent directly, not through the outbox.

A receipt is status about an agent message, not something a user or agent wrote, so it does not
need the durable outbox (docs/design.md §10 protects content): it costs one HTTP call instead of three
store transactions plus the call. What is kept: a receipt is queued only after the output it
reports was stored (so "Delivered" never precedes the delivery), receipts of one customer go out
in order (one at a time per key), and each is retried by the Genesys client's policy (429 with
`Retry-After`, 502/503/504, connection errors) for at most the policy's deadline (30 s). What is
given up: receipts still queued when the process dies or stops are not sent (logged, counted).

The backlog is bounded by back-pressure, not by dropping: past MAX_QUEUED waiting receipts,
`send` waits for room, so the inbound worker that relays agent messages slows to the pace
Genesys accepts receipts while the webhooks wait durably in the store's inbound queue. The
backlog is the `om_bridge_receipts_queued` gauge in /metrics.
Two senders: receipts are background work and should not take the GIL from relaying.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from om_bridge.bridge.genesys.errors import GenesysError
from om_bridge.bridge.handover import messages
from om_bridge.bridge.handover.serial import KeyedExecutor
from om_bridge.bridge.metrics import status_label

if TYPE_CHECKING:
    from om_bridge.bridge.genesys.clients import ClientRegistry
    from om_bridge.bridge.metrics import Metrics

log = logging.getLogger(__name__)
RECEIPT_PATH = "/api/v2/conversations/messages/{integration}/inbound/open/receipt"
WORKERS = 2
MAX_QUEUED = 10_000


class ReceiptSender:
    """Sends receipt bodies on a small pool, in order per (integration, customer)."""

    def __init__(
        self,
        clients: ClientRegistry,
        metrics: Metrics,
        workers: int = WORKERS,
        max_queued: int = MAX_QUEUED,
    ) -> None:
        self._clients = clients
        self._workers, self._max_queued = workers, max_queued
        self._queued = 0
        self._executor: KeyedExecutor | None = None
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)
        self._stopping = False
        # The outbox's counter: every call to Genesys is counted in one place.
        self._calls = metrics.counter(
            "genesys_calls_total", "Calls to Genesys by route and status", ["route", "status"]
        )
        self._dropped = metrics.counter(
            "receipts_dropped_total", "Receipts not sent because the bridge was stopping"
        )
        metrics.gauge(
            "receipts_queued", "Receipts waiting to be sent (bounded by back-pressure)"
        ).set_function(lambda: self._queued)
        self._waited = metrics.counter(
            "receipts_backpressure_total", "Receipts that waited for room in a full backlog"
        )

    def send(
        self, provider_id: str, integration_id: str, customer_id: str, body: dict[str, Any]
    ) -> None:
        """Queue one receipt body (built by `wire.receipt_body`) behind the customer's earlier
        receipts; returns at once unless MAX_QUEUED are waiting, then once there is room."""
        with self._lock:
            if self._queued >= self._max_queued and not self._stopping:
                self._waited.inc()
                while self._queued >= self._max_queued and not self._stopping:
                    self._room.wait(1.0)
            if self._stopping:
                log.warning(messages.LOG_RECEIPT_DROPPED, body.get("status"), body.get("id"))
                self._dropped.inc()
                return
            self._queued += 1
            if self._executor is None:
                self._executor = KeyedExecutor(self._workers, "om-receipt")
            executor = self._executor
        try:
            executor.submit(
                f"{integration_id}:{customer_id}",
                lambda: self._send(provider_id, integration_id, body),
            )
        except RuntimeError:  # stopped in between
            with self._lock:
                self._queued -= 1
                self._room.notify()
            log.warning(messages.LOG_RECEIPT_DROPPED, body.get("status"), body.get("id"))
            self._dropped.inc()

    def _send(self, provider_id: str, integration_id: str, body: dict[str, Any]) -> None:
        with self._lock:
            self._queued -= 1
            self._room.notify()
        if self._stopping:
            log.info(messages.LOG_RECEIPT_DROPPED, body.get("status"), body.get("id"))
            self._dropped.inc()
            return
        path = RECEIPT_PATH.format(integration=quote(integration_id, safe=""))
        try:
            client = self._clients.for_provider(provider_id)
            # The lean keep-alive pool when the client has one (GenesysClient does).
            send = getattr(client, "lean_request", None) or client.request
            send("POST", path, json_body=body)
        except GenesysError as err:
            self._calls.labels("receipt", status_label(err.status or "error")).inc()
            log.warning(
                messages.LOG_RECEIPT_FAILED,
                body.get("status"),
                body.get("id"),
                f"{type(err).__name__} {err.status or ''}".strip(),
            )
            return
        self._calls.labels("receipt", "2xx").inc()

    def start(self) -> None:
        """Accept receipts again after a `stop`."""
        with self._lock:
            self._stopping = False

    def stop(self, timeout: float = 5.0) -> None:
        """Drop receipts not yet sent, wait (bounded) for the ones being sent."""
        with self._lock:
            self._stopping = True
            self._room.notify_all()
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(timeout)
