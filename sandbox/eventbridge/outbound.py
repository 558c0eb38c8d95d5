"""A background HTTP POST deliverer with a retry policy and outbound fault injection, shared by
the EventBridge API destination and the Web Services Data Action calls.

Publishers call `submit()` (never blocks); one worker thread sends in submission order, and
retries are scheduled on a timer heap so one failing event does not hold back the others.
Faults (`faults.take(target, "POST", <url path>)`) apply per attempt: `status` pretends the
receiver answered that status (with `Retry-After` when set), `drop` pretends a timeout, `delay`
waits before sending, `duplicate` sends the same body twice (still one attempt), `reorder` holds
the delivery and sends it right after the next one.
"""

from __future__ import annotations

import collections
import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from om_bridge.sandbox.abortable import AbortableSession

from . import messages

log = logging.getLogger(__name__)


@dataclass
class RetryPolicy:
    """When and how long to retry: `retry_statuses(status)` says whether a status is retried
    (`None` = timeout / connection error); exponential backoff from `base_delay` capped at
    `max_delay`; stop after `max_attempts` or when the next try would pass `budget` seconds."""

    max_attempts: int
    base_delay: float
    max_delay: float
    budget: float
    retry_status: Callable[[int | None], bool]
    honour_retry_after: bool = True

    def next_delay(self, attempt: int, retry_after: float | None) -> float:
        """Delay before attempt `attempt + 1`; the more conservative of backoff and Retry-After."""
        backoff = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        if retry_after is not None and self.honour_retry_after:
            return max(backoff, retry_after)
        return backoff


@dataclass
class Delivery:
    """One outbound call: a fixed body sent to `url` with `headers` until done."""

    url: str
    body: bytes
    headers: dict[str, str]
    timeout: float
    policy: RetryPolicy
    label: str = ""
    first_at: float = field(default_factory=time.monotonic)
    attempts: list[dict] = field(default_factory=list)
    outcome: str = "pending"  # pending | delivered | failed | gave-up


def parse_retry_after(value: str | None) -> float | None:
    """`Retry-After` as seconds (delta-seconds or HTTP date); negative means "stop retrying"."""
    if not value:
        return None
    value = value.strip()
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(value).timestamp() - time.time()
    except (TypeError, ValueError):
        return None


class OutboundWorker:
    """Sends `Delivery` objects from a queue on one worker thread; `records` keeps recent ones."""

    def __init__(
        self,
        target: str,
        faults: Any,
        *,
        history: int = 200,
        session: requests.Session | None = None,
    ) -> None:
        self.target = target
        self.faults = faults
        self.session = session or AbortableSession()
        self.records: collections.deque[Delivery] = collections.deque(maxlen=history)
        self._heap: list[tuple[float, int, Delivery]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._held: Delivery | None = None
        self._stopped = False
        self._busy = False
        self._thread = threading.Thread(target=self._run, name=f"sandbox-{target}", daemon=True)
        self._thread.start()

    def submit(self, delivery: Delivery, delay: float = 0.0) -> None:
        """Queue a delivery, `delay` seconds from now (never blocks on the network)."""
        self.records.append(delivery)
        self._schedule(delivery, delay)

    def idle(self) -> bool:
        """True when nothing is queued, scheduled or held."""
        with self._cond:
            return not self._heap and self._held is None and not self._busy

    def close(self) -> None:
        """Stop the worker thread: a POST in flight is cut, pending deliveries are abandoned."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if isinstance(self.session, AbortableSession):
            self.session.abort()
        self._thread.join(timeout=5)
        self.session.close()

    def _schedule(self, delivery: Delivery, delay: float) -> None:
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + delay, next(self._seq), delivery))
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._busy = False
                while not self._stopped:
                    now = time.monotonic()
                    if self._heap and self._heap[0][0] <= now:
                        delivery = heapq.heappop(self._heap)[2]
                        self._busy = True
                        break
                    self._cond.wait(timeout=(self._heap[0][0] - now) if self._heap else None)
                if self._stopped:
                    return
            try:
                self._attempt(delivery)
            except Exception:
                log.exception(messages.LOG_CRASHED, self.target)
                delivery.outcome = "failed"

    def _attempt(self, delivery: Delivery) -> None:
        fault = (
            self.faults.take(self.target, "POST", urlsplit(delivery.url).path or "/")
            if self.faults
            else None
        )
        mode = fault.mode if fault else None
        if mode == "reorder" and self._held is None:
            self._held = delivery
            return
        if mode == "delay" and fault is not None:
            time.sleep(fault.delay)
        status, retry_after = self._send(delivery, fault)
        if mode == "duplicate":
            # The same attempt delivered twice (at-least-once delivery); it is not a retry, so
            # it does not count against `max_attempts`: the attempt only notes it.
            dup_status, _ = self._send(delivery, None, record=False)
            delivery.attempts[-1]["duplicateStatus"] = dup_status
        self._settle(delivery, status, retry_after)
        if self._held is not None and self._held is not delivery:
            held, self._held = self._held, None
            self._settle(held, *self._send(held, None))

    def _send(
        self, delivery: Delivery, fault: Any, record: bool = True
    ) -> tuple[int | None, float | None]:
        started = time.monotonic()
        if fault is not None and fault.mode == "status":
            status, retry_after = (
                fault.status,
                (float(fault.retry_after) if fault.retry_after is not None else None),
            )
        elif fault is not None and fault.mode == "drop":
            status, retry_after = None, None
        else:
            try:
                resp = self.session.post(
                    delivery.url,
                    data=delivery.body,
                    headers=delivery.headers,
                    timeout=delivery.timeout,
                )
                status = resp.status_code
                retry_after = parse_retry_after(resp.headers.get("Retry-After"))
                resp.close()
            except requests.RequestException as exc:
                log.info(
                    messages.LOG_SEND_FAILED,
                    self.target,
                    delivery.label,
                    urlsplit(delivery.url).netloc,
                    type(exc).__name__,
                )
                status, retry_after = None, None
        if record:
            delivery.attempts.append(
                {"status": status, "seconds": round(time.monotonic() - started, 3)}
            )
        return status, retry_after

    def _settle(self, delivery: Delivery, status: int | None, retry_after: float | None) -> None:
        policy = delivery.policy
        if status is not None and 200 <= status < 300:
            delivery.outcome = "delivered"
            return
        if not policy.retry_status(status) or (retry_after is not None and retry_after < 0):
            delivery.outcome = "failed"
            log.info(messages.LOG_NOT_RETRIED, self.target, delivery.label, status)
            return
        attempt = len(delivery.attempts)
        delay = policy.next_delay(attempt, retry_after)
        elapsed = time.monotonic() - delivery.first_at
        if attempt >= policy.max_attempts or elapsed + delay > policy.budget:
            delivery.outcome = "gave-up"
            log.info(messages.LOG_GAVE_UP, self.target, delivery.label, attempt)
            return
        self._schedule(delivery, delay)
