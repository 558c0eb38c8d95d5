"""The data-action output: for each published detail event whose topic pattern is configured and
whose fields satisfy the trigger's match criteria, POST the Web Services Data Action request.

Cognigy's action (reference/genesys-completion-detection.md §C.5) maps `userId = Flow.addressTo`,
`topic` = the literal `v2.detail.events.conversation.id.<suffix>` and `disconnectType =
Flow.disconnectType`; a workflow input the event lacks (e.g. `disconnectType` on `acw`) is unset,
and the default request template `${input.rawRequest}` leaves unset inputs out. Cognigy's workflow
runs on agent-side events (`user.end`, `acw`), where `addressTo` is the customer; on customer-side
events (`customer.*`) the customer is `addressFrom`, so the modelled workflow maps that instead.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from sandbox.eventbridge.envelope import topic_pattern
from sandbox.eventbridge.outbound import Delivery, OutboundWorker, RetryPolicy
from sandbox.eventbridge.settings import auth_headers

from .settings import DataActionSettings


def cognigy_body(pattern: str, event: dict) -> dict:
    """Cognigy's `{userId, topic, disconnectType}` for one detail event."""
    customer_side = pattern.split("{id}.", 1)[-1].startswith("customer.")
    user_id = event.get("addressFrom" if customer_side else "addressTo", "")
    body = {"userId": user_id, "topic": pattern.replace("{id}", "id")}
    if event.get("disconnectType"):
        body["disconnectType"] = event["disconnectType"]
    return body


def data_action_retries(status: int | None) -> bool:
    """Timeouts, 429 and 5xx count as retryable failures when retries are configured."""
    return status is None or status == 429 or status >= 500


class DataActionCaller:
    """Bus listener + delivery worker; `configure()` swaps the action at runtime."""

    def __init__(self, settings: DataActionSettings, faults: Any) -> None:
        self.settings = settings
        self.worker = OutboundWorker("data-action", faults)
        self._lock = threading.Lock()

    def configure(self, settings: DataActionSettings) -> None:
        """Replace the action (calls already queued keep their old target)."""
        with self._lock:
            self.settings = settings

    def on_event(self, topic: str, event: dict) -> None:
        """Bus listener: queue a call when the trigger (topic pattern + match) fires."""
        settings = self.settings
        if not settings.url:
            return
        pattern = topic_pattern(topic)
        if pattern is None or pattern not in settings.topics:
            return
        if any(str(event.get(key)) != value for key, value in settings.match.items()):
            return
        payload = cognigy_body(pattern, event) if settings.body == "cognigy" else event
        policy = RetryPolicy(max_attempts=settings.retries + 1,
                             base_delay=settings.retry_delay_seconds,
                             max_delay=settings.retry_delay_seconds * 8,
                             budget=float("inf"), retry_status=data_action_retries,
                             honour_retry_after=True)
        headers = {"Content-Type": "application/json", "Accept": "application/json",
                   **auth_headers(settings.auth)}
        self.worker.submit(Delivery(settings.url, json.dumps(payload).encode(), headers,
                                    settings.timeout_seconds, policy,
                                    label=f"{pattern} {event.get('conversationId', '')}"))

    def close(self) -> None:
        """Stop the delivery worker."""
        self.worker.close()
