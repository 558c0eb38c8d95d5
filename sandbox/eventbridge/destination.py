"""The EventBridge output of the sandbox: detail events from the bus that match the configured
topic patterns become EventBridge envelopes POSTed to the API destination, with EventBridge's
headers, the connection's auth, a 5 s timeout and its retry rules (429 and 5xx retried, honouring
`Retry-After`; other 4xx never)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from .envelope import EVENTBRIDGE_HEADERS, build_envelope, topic_pattern
from .outbound import Delivery, OutboundWorker, RetryPolicy
from .settings import EventBridgeSettings, auth_headers


def eventbridge_retries(status: int | None) -> bool:
    """EventBridge retries timeouts, 429 and 5xx; 1xx/2xx/3xx and other 4xx are final."""
    return status is None or status == 429 or status >= 500


class EventBridgeDestination:
    """Bus listener + delivery worker; `configure()` swaps the destination at runtime."""

    def __init__(
        self, settings: EventBridgeSettings, faults: Any, org_id: Callable[[], str]
    ) -> None:
        self.settings = settings
        self.org_id = org_id
        self.worker = OutboundWorker("eventbridge", faults)
        self._lock = threading.Lock()

    def configure(self, settings: EventBridgeSettings) -> None:
        """Replace the destination (events already queued keep their old target)."""
        with self._lock:
            self.settings = settings

    def on_event(self, topic: str, body: dict) -> None:
        """Bus listener: queue an envelope when the topic's pattern is configured."""
        settings = self.settings
        if not settings.url:
            return
        pattern = topic_pattern(topic)
        if pattern is None or pattern not in settings.topics:
            return
        envelope = build_envelope(topic, body, settings, self.org_id())
        policy = RetryPolicy(
            max_attempts=settings.max_attempts,
            base_delay=settings.retry_delay_seconds,
            max_delay=settings.max_retry_delay_seconds,
            budget=settings.retry_budget_seconds,
            retry_status=eventbridge_retries,
        )
        headers = {**EVENTBRIDGE_HEADERS, **auth_headers(settings.auth)}
        self.worker.submit(
            Delivery(
                settings.url,
                json.dumps(envelope).encode(),
                headers,
                settings.timeout_seconds,
                policy,
                label=f"{pattern} {envelope['id']}",
            )
        )

    def close(self) -> None:
        """Stop the delivery worker."""
        self.worker.close()
