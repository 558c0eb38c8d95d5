"""`InboundQueue`: accepted Genesys webhooks, stored before the route answers 2xx, then handled in
order per customer (docs/design.md §10: nothing an agent sent is lost once Genesys saw a 2xx).

The route calls `accept`, which sets the dedupe key and stores the body in one store step (the
store's inbound queue: the outbox's shape under its own namespace, FIFO per
`in:<integration>:<customer>` key, one leased head per key). When the item is the head of an idle
key it is leased to this process in the same step and handed straight to a worker (no claim round
trip). Finishing an item leases the next item of its key to this process in the same step, so a
customer's backlog drains on one worker without a claim per item; the dispatcher only claims what
nobody is draining (items after a restart, after a lease ran out, or left by another process). A
crash leaves the item in the store: after its lease runs out, this or another process handles it.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from om_bridge.bridge.backoff import backoff
from om_bridge.bridge.handover import messages
from om_bridge.bridge.handover.leases import LeaseKeeper
from om_bridge.bridge.handover.loop import dispatch_loop
from om_bridge.bridge.handover.outbox import LEASE_SECONDS
from om_bridge.bridge.handover.serial import KeyedExecutor
from om_bridge.bridge.logs import bound_request_id, current_request_id
from om_bridge.bridge.store import InboundCompletion

if TYPE_CHECKING:
    from om_bridge.bridge.metrics import Metrics
    from om_bridge.bridge.store import OutboxItem, Store

log = logging.getLogger(__name__)

# Handling gets the item and its completion: an output stored inside
# `store.completing_inbound(completion)` removes the item in the same transaction.
Handler = Callable[["OutboxItem", InboundCompletion], None]
MAX_ATTEMPTS = 5
# How long a Genesys message id stays marked as seen. Genesys retries a webhook for at most ~85 s
# (6 × 10 s + 5 × 5 s); a day is a wide margin, and the backfill reads no message older than it.
DEDUPE_TTL_SECONDS = 86_400.0
# Handling is short and CPU-bound (one GIL): a few threads keep up; more only contend.
WORKERS = 8


def dedupe_key(provider_id: str, message_id: str) -> str:
    """The one dedupe mark of a Genesys message, whether a webhook or the backfill brings it:
    the Genesys message id alone (a retry of one message keeps its id)."""
    return f"genesys-webhook:{provider_id}:{message_id}"


def queue_key(payload: dict[str, Any]) -> str:
    """The ordering key of a webhook body: its integration and customer."""
    channel = payload.get("channel") or {}
    return f"in:{channel.get('id')}:{(channel.get('to') or {}).get('id')}"


class InboundQueue:
    """Durable, ordered handling of accepted webhooks: `accept` on the request thread, handling on
    a small keyed pool, a dispatcher thread for items that could not be handed over at once."""

    def __init__(
        self,
        store: Store,
        handler: Handler,
        metrics: Metrics,
        *,
        clock: Callable[[], float] = time.time,
        workers: int = WORKERS,
        lease_seconds: float = LEASE_SECONDS,
        poll_interval: float = 0.5,
        max_attempts: int = MAX_ATTEMPTS,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
    ) -> None:
        self._store, self._handler, self._clock = store, handler, clock
        self._workers = max(1, workers)
        # Public so an operator (or a test) can tune them on a running queue.
        self.lease_seconds, self.poll_interval = lease_seconds, poll_interval
        self.max_attempts, self.backoff_base, self.backoff_cap = (
            max_attempts,
            backoff_base,
            backoff_cap,
        )
        self._executor: KeyedExecutor | None = None
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()
        self._stopping = threading.Event()
        # Leases taken by this queue are in this name (the store hands the next item of a key
        # to it when one is finished); claims for leftovers use a fresh name each time.
        self.owner = uuid.uuid4().hex
        self._leases = LeaseKeeper(store.inbound_renew, lease_seconds, "om-inbound-leases")
        self._inflight = 0
        self._lock = threading.Lock()
        self._retries = metrics.counter(
            "inbound_retries_total", "Accepted webhooks whose handling is retried"
        )
        self._dead = metrics.counter(
            "inbound_dead_letters_total", "Accepted webhooks dead-lettered after repeated failures"
        )

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Start the workers and the dispatcher (which first picks up what a previous process
        left); idempotent."""
        with self._lock:
            if self._thread is not None:
                return
            self._stopping.clear()
            self._executor = KeyedExecutor(self._workers, "om-inbound")
            self._thread = threading.Thread(target=self._run, name="om-inbound", daemon=True)
            self._thread.start()
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming, let handed-over items finish (bounded); the rest stays stored."""
        with self._lock:
            thread, executor = self._thread, self._executor
            self._thread, self._executor = None, None
            self._stopping.set()
        self._wake.set()
        if thread is not None:
            thread.join(timeout)
        if executor is not None:
            executor.shutdown(timeout)
        self._leases.stop()

    @property
    def running(self) -> bool:
        """True between `start` and `stop`."""
        return self._executor is not None

    # -- producer side --------------------------------------------------------------------
    def accept(
        self, dedupe_key: str, ttl_seconds: float, payload: dict[str, Any], provider_id: str
    ) -> bool:
        """Store a verified webhook body durably with its dedupe mark; False for a duplicate."""
        running = self.running
        item = self._store.accept_inbound(
            dedupe_key,
            ttl_seconds,
            queue_key(payload),
            str(payload.get("type")),
            {"provider_id": provider_id, "body": payload, "request_id": current_request_id()},
            owner=self.owner if running else None,
            lease_seconds=self.lease_seconds,
        )
        if item is None:
            return False
        if item.attempts > 0:  # leased to us in the same step: hand it over now
            if not self._submit(item, self.owner):
                self._store.inbound_retry(item.id, self._clock(), "not handed over")
        return True

    # -- dispatcher -----------------------------------------------------------------------
    def _run(self) -> None:
        dispatch_loop(
            self._stopping,
            self._wake,
            self.poll_interval,
            self._dispatch,
            messages.LOG_INBOUND_CRASH,
        )

    def _dispatch(self) -> None:
        with self._lock:
            free = self._workers * 4 - self._inflight
        if free <= 0:
            return
        # A fresh owner per claim: an owner may re-claim its own live leases.
        owner = uuid.uuid4().hex
        items = self._store.inbound_claim(self._clock(), free, self.lease_seconds, owner)
        for item in items:
            if not self._submit(item, owner):
                self._store.inbound_retry(item.id, self._clock(), "not handed over")

    def _submit(self, item: OutboxItem, owner: str) -> bool:
        with self._lock:
            executor = self._executor
            if executor is None:
                return False
            self._inflight += 1
        self._leases.hold(item.id, owner)
        try:
            executor.submit(item.key, lambda: self._handle(item, owner))
        except RuntimeError:  # shut down in between
            self._leases.release(item.id)
            with self._lock:
                self._inflight -= 1
            return False
        return True

    # -- one attempt ----------------------------------------------------------------------
    def _handle(self, item: OutboxItem, owner: str) -> None:
        try:
            # The item handed over is finished even when stopping; what follows it is not.
            next_item = self._handle_one(item, owner)
            self._leases.release(item.id)
            while next_item is not None and not self._stopping.is_set():
                self._leases.hold(next_item.id, self.owner)  # leased to us on the way
                current = next_item
                next_item = self._handle_one(current, self.owner)
                self._leases.release(current.id)
            if next_item is not None:  # stopping: give it back for the next process
                self._store.inbound_retry(next_item.id, self._clock(), "not handed over")
        finally:
            self._leases.release(item.id)
            with self._lock:
                self._inflight -= 1

    def _handle_one(self, item: OutboxItem, owner: str) -> OutboxItem | None:
        """Handle one item; the next item of its key when it was leased to us on the way."""
        completion = InboundCompletion(item.id, self.owner, self.lease_seconds)
        try:
            with bound_request_id(item.payload.get("request_id")):
                self._handler(item, completion)
        except Exception as exc:
            self._failed(item, exc, owner)
            return None
        if completion.removed:
            return completion.next_item
        return self._store.inbound_done(item.id, self.owner, self.lease_seconds)

    def _failed(self, item: OutboxItem, exc: Exception, owner: str | None = None) -> None:
        message_id = (item.payload.get("body") or {}).get("id")
        reason = type(exc).__name__
        if item.attempts >= self.max_attempts:
            log.error(
                messages.LOG_INBOUND_DEAD, item.id, message_id, item.attempts, reason, exc_info=exc
            )
            if not self._store.inbound_fail(item.id, reason, owner):
                return  # another process holds it now
            self._dead.inc()
            return
        delay = backoff(item.attempts, self.backoff_base, self.backoff_cap)
        log.warning(messages.LOG_INBOUND_RETRY, item.id, message_id, reason, delay, exc_info=exc)
        if not self._store.inbound_retry(item.id, self._clock() + delay, reason, owner):
            return  # another process holds it now
        self._retries.inc()
