"""The data-action output: for each published detail event whose topic pattern is configured and
whose fields satisfy the trigger's match criteria, POST the Web Services Data Action request.

Cognigy's action (docs/reference/genesys-completion-detection.md §C.5) maps `userId = Flow.addressTo`,
`topic` = the literal `v2.detail.events.conversation.id.<suffix>` and `disconnectType =
Flow.disconnectType`; a workflow input the event lacks (e.g. `disconnectType` on `acw`) is unset,
and the default request template `${input.rawRequest}` leaves unset inputs out. Cognigy's workflow
runs on agent-side events (`user.end`, `acw`), where `addressTo` is the customer; on customer-side
events (`customer.*`) the customer is `addressFrom`, so the modelled workflow maps that instead.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from om_bridge.sandbox.eventbridge.envelope import topic_pattern
from om_bridge.sandbox.eventbridge.outbound import Delivery, OutboundWorker, RetryPolicy
from om_bridge.sandbox.eventbridge.settings import auth_headers

from .settings import DataActionSettings
from .triggers import TriggerStore, matches, workflow_input


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
    """Bus listener + delivery worker; `configure()` swaps the action at runtime. The configured
    `topics`/`match` and the enabled API triggers targeting `workflow_id` each run the workflow."""

    def __init__(
        self, settings: DataActionSettings, faults: Any, clock: Callable[[], float] = time.time
    ) -> None:
        self.settings = settings
        self.triggers = TriggerStore()
        self.clock = clock
        self.worker = OutboundWorker("data-action", faults)
        self._lock = threading.Lock()

    def configure(self, settings: DataActionSettings) -> None:
        """Replace the action (calls already queued keep their old target)."""
        with self._lock:
            self.settings = settings

    def on_event(self, topic: str, event: dict) -> None:
        """Bus listener: run the workflow for each trigger that fires on this event."""
        settings = self.settings
        pattern = topic_pattern(topic)
        if not settings.url or pattern is None:
            return
        if pattern in settings.topics and all(
            str(event.get(key)) == value for key, value in settings.match.items()
        ):
            self._call(settings, pattern, event, workflow_input(_PRIMITIVES, event), 0.0)
        for trigger in self.triggers.firing(pattern):
            if trigger["target"]["id"] != settings.workflow_id or not matches(trigger, event):
                continue
            ttl = trigger.get("eventTTLSeconds")
            event_time = event.get("eventTime")
            if (
                ttl is not None
                and isinstance(event_time, (int, float))
                and self.clock() - event_time / 1000 > ttl
            ):
                continue  # stale: Genesys drops events older than the trigger's TTL
            self._call(
                settings,
                pattern,
                event,
                workflow_input(trigger, event),
                float(trigger.get("delayBySeconds") or 0),
            )

    def _call(
        self, settings: DataActionSettings, pattern: str, event: dict, inputs: dict, delay: float
    ) -> None:
        payload = cognigy_body(pattern, event) if settings.body == "cognigy" else inputs
        policy = RetryPolicy(
            max_attempts=settings.retries + 1,
            base_delay=settings.retry_delay_seconds,
            max_delay=settings.retry_delay_seconds * 8,
            budget=float("inf"),
            retry_status=data_action_retries,
            honour_retry_after=True,
        )
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            **auth_headers(settings.auth),
        }
        self.worker.submit(
            Delivery(
                settings.url,
                json.dumps(payload).encode(),
                headers,
                settings.timeout_seconds,
                policy,
                label=f"{pattern} {event.get('conversationId', '')}",
            ),
            delay,
        )

    def close(self) -> None:
        """Stop the delivery worker."""
        self.worker.close()


# The configured trigger passes top-level primitives, Genesys's default data format.
_PRIMITIVES = {"target": {"workflowTargetSettings": {"dataFormat": "TopLevelPrimitives"}}}
