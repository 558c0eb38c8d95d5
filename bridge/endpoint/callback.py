"""Delivery of outputs to an endpoint's callback URL in Cognigy's Webhook-endpoint format (background, retried)."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

import requests

from om_bridge.bridge.backoff import equal_jitter
from om_bridge.bridge.endpoint import messages

if TYPE_CHECKING:
    from om_bridge.bridge.metrics import Metrics
    from om_bridge.bridge.store import SessionKey

log = logging.getLogger(__name__)
DEFAULT_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0)
TIMEOUT = (3.05, 10.0)
_STOP = object()


def webhook_body(key: SessionKey, output: dict) -> dict:
    """Cognigy's Webhook-endpoint body (docs/reference/cognigy-model.md §4.3) for one output."""
    return {
        "userId": key.user_id,
        "sessionId": key.session_id,
        "AIOutput": {
            "text": output.get("text"),
            "data": output.get("data"),
            "traceId": f"om-bridge-{key.session_id}-{output.get('seq')}",
            "disableSensitiveLogging": False,
            "source": output.get("source", "bot"),
        },
    }


class CallbackDelivery:
    """One worker thread POSTs queued outputs in order; connection errors, 429 and 5xx are retried.

    A single worker keeps every session's outputs in order at the price of head-of-line blocking
    while a callback URL is failing; retries are bounded so one broken URL cannot stall it for long.
    Basic auth is taken from the URL's user info (`https://user:pass@host/path`), as requests does.
    """

    def __init__(
        self,
        metrics: Metrics,
        delays: Sequence[float] = DEFAULT_DELAYS,
        session: requests.Session | None = None,
    ) -> None:
        self._delays = tuple(delays)
        self._session = session or requests.Session()
        self._queue: queue.Queue[object] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._sent = metrics.counter(
            "callback_deliveries_total", "Callback URL deliveries", ["outcome"]
        )

    def submit(self, url: str, key: SessionKey, output: dict) -> None:
        """Queue one output for `url`; returns at once (sent once the worker runs)."""
        self._queue.put((url, key, output))

    def start(self) -> None:
        """Start the delivery thread (`Workers` does, with the app's other workers)."""
        with self._lock:
            self._stopping.clear()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="om-bridge-callback", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            url, key, output = cast("tuple[str, SessionKey, dict]", item)  # as submit() queues it
            self._deliver(url, key, output)

    def _deliver(self, url: str, key: SessionKey, output: dict) -> None:
        body = webhook_body(key, output)
        attempts = len(self._delays) + 1
        error = ""
        for attempt in range(1, attempts + 1):
            try:
                resp = self._session.post(url, json=body, timeout=TIMEOUT)
                if resp.status_code < 300:
                    self._sent.labels("delivered").inc()
                    return
                if resp.status_code != 429 and resp.status_code < 500:
                    log.warning(
                        messages.CALLBACK_GAVE_UP, _safe(url), output.get("seq"), resp.status_code
                    )
                    self._sent.labels("rejected").inc()
                    return
                error = f"HTTP {resp.status_code}"
            except requests.RequestException as exc:
                error = type(exc).__name__
            if attempt < attempts:
                log.info(messages.CALLBACK_RETRY, _safe(url), attempt, error)
                delay = equal_jitter(self._delays[attempt - 1])
                if self._stopping.wait(delay):
                    break
        log.warning(messages.CALLBACK_FAILED, _safe(url), output.get("seq"), attempts, error)
        self._sent.labels("failed").inc()

    def close(self, timeout: float = 5.0) -> None:
        """Deliver what is queued (retries cut short), then stop the worker."""
        self._stopping.set()
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._queue.put(_STOP)
            thread.join(timeout)
        self._session.close()


def _safe(url: str) -> str:
    """The URL without user info, for logs."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest.split("/", 1)[0]:
        rest = rest.split("@", 1)[1]
    return f"{scheme}{sep}{rest}"
