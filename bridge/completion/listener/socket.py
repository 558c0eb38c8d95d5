"""One WebSocket to a notification channel's `connectUri` (websocket-client `WebSocketApp`, in its
own thread). The socket thread runs no business logic: each frame goes on the listener's queue
with the channel index and socket generation, and only the arrival time is recorded here (the
heartbeat watchdog reads it)."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import websocket

from om_bridge.bridge.genesys.transport import environ_ca_bundle

log = logging.getLogger(__name__)

# What a socket reports: ("frame", index, generation, text), ("open"|"closed"|...,
# index, generation, ...) - a tagged tuple whose tail depends on the tag.
Event = tuple[Any, ...]
Sink = Callable[[Event], None]
PING = json.dumps({"message": "ping"})
CLOSE_TIMEOUT = 1.0  # seconds to wait for the peer's close frame


class ChannelSocket:
    """A WebSocket to one channel; `sink` receives `("frame", index, gen, text)`,
    `("open", index, gen)` and exactly one `("closed", index, gen, reason)`."""

    def __init__(self, url: str, index: int, generation: int, sink: Sink) -> None:
        self.url = url
        self.index = index
        self.generation = generation
        self._sink = sink
        self.last_frame = time.monotonic()
        self.ping_sent_at: float | None = None
        self._closed_once = threading.Lock()
        self._closed = False
        self._error: str | None = None
        self.app = websocket.WebSocketApp(
            url,
            on_open=self._on_open,
            on_message=self._on_message,
            on_error=self._on_error,
            on_close=self._on_close,
        )
        self._thread = threading.Thread(
            target=self._run, daemon=True, name=f"notifications-ws-{index}-{generation}"
        )

    def start(self) -> None:
        """Connect in the socket's own thread."""
        self._thread.start()

    def send_ping(self) -> None:
        """Genesys's application-level ping; the answer is a `channel.metadata` pong frame."""
        self.ping_sent_at = time.monotonic()
        try:
            self.app.send(PING)
        except Exception as exc:
            self._error = type(exc).__name__

    def close(self) -> None:
        """Close the socket without blocking the caller (the closing handshake waits for the
        peer, which may be unreachable); its `closed` notice still reaches the sink, once."""
        self.app.keep_running = False
        threading.Thread(
            target=self._close, daemon=True, name=f"notifications-ws-close-{self.index}"
        ).start()

    def _close(self) -> None:
        try:
            self.app.close(timeout=CLOSE_TIMEOUT)
        except Exception:  # already closed: nothing left to do
            log.debug("closing channel socket %s failed", self.index, exc_info=True)

    def join(self, timeout: float = 2.0) -> None:
        """Wait for the socket thread to end."""
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    # --- the socket thread -----------------------------------------------------------------
    def _run(self) -> None:
        try:
            # No WS-protocol pings: Genesys documents its own `{"message":"ping"}` instead.
            # wss:// verifies against the CA bundle the bridge's HTTP calls use (websocket-client
            # would otherwise read only the system store or WEBSOCKET_CLIENT_CA_BUNDLE).
            bundle = environ_ca_bundle()
            self.app.run_forever(
                skip_utf8_validation=True, sslopt={"ca_certs": bundle} if bundle else None
            )
        except Exception as exc:
            self._error = type(exc).__name__
        self._emit_closed(self._error or "connection ended")

    def _on_open(self, _app: Any) -> None:
        self.last_frame = time.monotonic()
        self._sink(("open", self.index, self.generation))

    def _on_message(self, _app: Any, text: Any) -> None:
        self.last_frame = time.monotonic()
        self.ping_sent_at = None
        self._sink(("frame", self.index, self.generation, text))

    def _on_error(self, _app: Any, error: Any) -> None:
        self._error = type(error).__name__ if isinstance(error, BaseException) else str(error)

    def _on_close(self, _app: Any, code: Any, reason: Any) -> None:
        self._emit_closed(f"closed {code or ''} {reason or ''}".strip())

    def _emit_closed(self, reason: str) -> None:
        with self._closed_once:
            if self._closed:
                return
            self._closed = True
        self._sink(("closed", self.index, self.generation, reason))
