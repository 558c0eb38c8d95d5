"""Outbound Open Messaging webhook delivery, as Genesys does it (docs/reference/genesys-open-messaging.md §5, §6): compact JSON,
`X-Hub-Signature-256: sha256=<base64 HMAC-SHA256(secret, exact body bytes)>`, the integration's
`webhookHeaders`, a 10 s timeout and up to 5 retries 5 s apart on timeout/429/5xx (none on other
4xx: the message is marked failed), the same `id` on every retry. Deliveries of one conversation go
through one worker thread, in order; API requests never wait for them.

`close()` ends delivery at once: POSTs in flight are cut (their sockets shut down), retries are
cancelled, queued and reorder-held deliveries are logged as not sent, and once it returns no
worker touches the sandbox's state again."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import queue
import threading
import time
import uuid
import zlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from om_bridge.sandbox import messages
from om_bridge.sandbox.abortable import AbortableSession
from om_bridge.sandbox.state import now_iso

log = logging.getLogger(__name__)
REORDER_HOLD_SECONDS = 1.0  # how long a `reorder` fault waits for the next delivery


def sign(secret: str, body: bytes) -> str:
    """The `X-Hub-Signature-256` header value for `body`."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode("ascii")


def compact(payload: dict) -> bytes:
    """Genesys sends compact JSON (no whitespace)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass
class Delivery:
    integration_id: str
    conversation_id: str
    payload: dict
    record_id: str | None = None


class WebhookDispatcher:
    """Worker threads delivering webhooks; a conversation always maps to the same worker."""

    def __init__(self, sandbox: Any) -> None:
        self.sandbox = sandbox
        cfg = sandbox.config
        self.session = AbortableSession()
        self._queues: list[queue.Queue[Delivery | None]] = [
            queue.Queue() for _ in range(max(1, cfg.webhook_workers))
        ]
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._work, args=(q,), daemon=True, name=f"sandbox-webhook-{i}")
            for i, q in enumerate(self._queues)
        ]
        self._idle = threading.Condition()
        self._pending = 0
        # held while a worker writes delivery outcomes to the sandbox; `close()` takes it to
        # set `_closed`, after which no outcome is written
        self._state_lock = threading.Lock()
        self._closed = False
        for t in self._threads:
            t.start()

    # ------------------------------------------------------------------ envelopes
    def _channel(self, integ: dict, conv: Any, mid: str, at: str) -> dict:
        return {
            "id": integ["id"],
            "platform": "Open",
            "type": "Private",
            "messageId": mid,
            "to": {"id": conv.customer_id, "idType": conv.customer_id_type},
            "from": {"nickname": integ.get("name", ""), "id": integ["id"], "idType": "Opaque"},
            "time": at,
        }

    def text_envelope(
        self,
        integ: dict,
        conv: Any,
        mid: str,
        at: str,
        text: str | None,
        originating: str,
        content: list[dict],
    ) -> dict:
        """Text (or Structured, when `content` holds quick replies) message envelope (docs/reference/genesys-open-messaging.md §5.3/§5.4)."""
        structured = any(
            c.get("contentType") in ("QuickReply", "Card", "Carousel", "DatePicker")
            for c in content
        )
        env: dict[str, Any] = {
            "id": mid,
            "channel": self._channel(integ, conv, mid, at),
            "conversationId": conv.id,
            "direction": "Outbound",
            "originatingEntity": originating,
            "type": "Structured" if structured else "Text",
        }
        if text is not None:
            env["text"] = text
        env["content"] = content
        env["reasons"] = []
        env["relatedMessages"] = []
        return env

    def send_receipt(self, integ: dict, conv: Any, record: Any) -> None:
        """`Delivered` receipt for an inbound message (docs/reference/genesys-open-messaging.md §5.6)."""
        channel = self._channel(integ, conv, record.provider_message_id or record.id, now_iso())
        env = {
            "id": record.id,
            "channel": channel,
            "conversationId": conv.id,
            "type": "Receipt",
            "status": "Delivered",
            "direction": "Inbound",
            "isFinalReceipt": True,
        }
        self.send(integ, conv.id, env)

    def send_typing(self, integ: dict, conv: Any, duration: int) -> None:
        """Agent typing event (docs/reference/genesys-open-messaging.md §5.5): no `originatingEntity`."""
        mid = uuid.uuid4().hex
        env = {
            "id": mid,
            "channel": self._channel(integ, conv, mid, now_iso()),
            "conversationId": conv.id,
            "type": "Event",
            "events": [{"eventType": "Typing", "typing": {"type": "On", "duration": duration}}],
            "direction": "Outbound",
        }
        self.send(integ, conv.id, env)

    # ------------------------------------------------------------------ queueing
    def send(
        self, integ: dict, conversation_id: str, payload: dict, record_id: str | None = None
    ) -> None:
        """Queue one delivery (never blocks)."""
        with self._idle:
            self._pending += 1
        q = self._queues[zlib.crc32(conversation_id.encode()) % len(self._queues)]
        q.put(Delivery(integ["id"], conversation_id, payload, record_id))

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every queued delivery finished (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def close(self) -> None:
        """Stop delivering: cut POSTs in flight, cancel retries, log what is left unsent. Once
        this returns no worker writes to the sandbox's state."""
        self._stop.set()
        for q in self._queues:
            q.put(None)
        self.session.abort()
        for t in self._threads:
            t.join(timeout=5)
        with self._state_lock:
            self._closed = True
        self.session.close()

    def _done(self, n: int = 1) -> None:
        with self._idle:
            self._pending -= n
            self._idle.notify_all()

    def _work(self, q: queue.Queue[Delivery | None]) -> None:
        held: Delivery | None = None  # a delivery postponed by a `reorder` fault
        while not self._stop.is_set():
            try:
                item = q.get(timeout=REORDER_HOLD_SECONDS if held else None)
            except queue.Empty:
                if self._stop.is_set():
                    break
                # nothing followed the reordered delivery: send it now
                assert held is not None  # q.get times out only while a delivery is held
                item, held = held, None
                self._safe_deliver(item)
                continue
            if item is None or self._stop.is_set():
                if item is not None:
                    q.put(item)  # counted with the rest of the queue below
                break
            fault = self._peek_fault(item)
            if fault is not None and fault.mode == "reorder" and held is None:
                held = item
                continue
            self._safe_deliver(item, fault)
            if held is not None and not self._stop.is_set():
                item, held = held, None
                self._safe_deliver(item)
        self._abandon(q, held)

    def _abandon(self, q: queue.Queue[Delivery | None], held: Delivery | None) -> None:
        """What the stop left unsent: the reorder-held delivery (logged by message id) and the
        deliveries still queued (logged as a count)."""
        queued = 0
        while True:
            try:
                item = q.get_nowait()
            except queue.Empty:
                break
            queued += item is not None
        if held is not None:
            log.warning(
                messages.LOG_WEBHOOK_HELD_DROPPED, held.payload.get("id"), held.integration_id
            )
            self._done()
        if queued:
            log.warning(messages.LOG_WEBHOOK_QUEUED_DROPPED, queued)
            self._done(queued)

    def _peek_fault(self, item: Delivery) -> Any:
        integ = self.sandbox.store.integrations.get(item.integration_id)
        if integ is None:
            return None
        path = urlsplit(integ.get("outboundNotificationWebhookUrl", "")).path or "/"
        return self.sandbox.faults.take("webhook", "POST", path)

    def _safe_deliver(self, item: Delivery, fault: Any = None) -> None:
        try:
            self._deliver(item, fault)
        except Exception:
            log.exception("webhook worker failed")
        finally:
            self._done()

    # ------------------------------------------------------------------ delivery
    def _deliver(self, item: Delivery, first_fault: Any) -> None:
        cfg = self.sandbox.config
        integ = self.sandbox.store.integrations.get(item.integration_id)
        if integ is None:
            return
        body = compact(item.payload)
        attempts = 0
        fault = first_fault
        error = ""
        while True:
            attempts += 1
            if attempts > 1:
                fault = self._peek_fault(item)
            retry, error = self._attempt(integ, body, fault)
            if self._stop.is_set():
                # cut short by close(): the sandbox's state is no longer ours to update
                log.info(messages.LOG_WEBHOOK_ABANDONED, item.payload.get("id"))
                return
            if retry is None:
                self._result(item, True, None)
                return
            if not retry or attempts > cfg.webhook_retries:
                log.warning(
                    messages.LOG_WEBHOOK_FAILED,
                    item.payload.get("id"),
                    integ["id"],
                    attempts,
                    error,
                )
                self._result(item, False, error)
                return
            log.info(messages.LOG_WEBHOOK_ATTEMPT, attempts, item.payload.get("id"), error)
            if self._stop.wait(cfg.webhook_retry_delay):
                return

    def _attempt(self, integ: dict, body: bytes, fault: Any) -> tuple[bool | None, str]:
        """One POST. Returns (None, "") on success, (True, why) when retryable, (False, why) not."""
        cfg = self.sandbox.config
        if fault is not None:
            if fault.mode == "delay" and self._stop.wait(fault.delay):
                return True, "stopped"
            elif fault.mode == "drop":
                return True, "timeout (injected)"
            elif fault.mode == "status":
                return _classify(fault.status), f"HTTP {fault.status} (injected)"
        headers = {str(k): str(v) for k, v in (integ.get("webhookHeaders") or {}).items()}
        headers.update(
            {
                "Content-Type": "application/json",
                "X-Hub-Signature-256": sign(
                    integ["outboundNotificationWebhookSignatureSecretToken"], body
                ),
                "User-Agent": "Genesys-Cloud-Sandbox/1.0",
            }
        )
        sends = 2 if fault is not None and fault.mode == "duplicate" else 1
        outcome: tuple[bool | None, str] = (None, "")
        for _ in range(sends):
            try:
                resp = self.session.post(
                    integ["outboundNotificationWebhookUrl"],
                    data=body,
                    headers=headers,
                    timeout=cfg.webhook_timeout,
                )
            except requests.Timeout:
                return True, "timeout"
            except requests.RequestException as exc:
                return True, f"connection error: {type(exc).__name__}"
            if not 200 <= resp.status_code < 300:
                outcome = (_classify(resp.status_code), f"HTTP {resp.status_code}")
        return outcome

    def _result(self, item: Delivery, ok: bool, error: str | None) -> None:
        with self._state_lock:
            if item.record_id and not self._closed:
                self.sandbox.engine.delivery_result(item.record_id, ok, error)


def _classify(status: int | None) -> bool:
    """Retry on 429 and 5xx only."""
    return status == 429 or (status is not None and status >= 500)
