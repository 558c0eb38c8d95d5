"""In-process event bus of the sandbox: the conversation engine publishes Genesys notification
topics here, and every end-detection output (WebSocket, EventBridge, data actions) subscribes."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

Listener = Callable[[str, dict], None]


class EventBus:
    """Synchronous fan-out of `(topic, event_body)` pairs.

    `topic` is a concrete Genesys topic (`v2.detail.events.conversation.<id>.customer.end`,
    `v2.routing.queues.<id>.conversations.messages`, ...) and `event_body` the body Genesys would
    put in `eventBody`. Listeners must be quick (queue work, never block); a failing listener is
    logged and does not stop the others.
    """

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def publish(self, topic: str, body: dict) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(topic, body)
            except Exception:
                log.exception("sandbox bus listener failed for topic %s", topic)
