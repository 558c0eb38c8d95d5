"""The durable outbox: every call to Genesys is stored first, then sent in order per handover.

Why a store-backed queue and not a direct call: nothing a user sent may be lost when Genesys is
down, rate-limits or the bridge restarts (docs/design.md §10). `put` stores the call with its
`channel.messageId` already fixed (so a resend is recognisably the same message) and wakes the
dispatcher at once, which claims the head item of each key and hands it to a small pool of sender
threads: in the steady state that is exactly one Genesys API call per user message, sent within a
thread hand-off of the request, and never out of order, because the store only ever leases the
head of a key.

Failure policy per attempt (one HTTP attempt each; the outbox owns the backoff, not the client):
429 → retry after `Retry-After` (or backoff); 408/5xx/connection errors/deadline → retry with
exponential backoff and jitter; other 4xx → dead letter (kept in the store, logged, counted).
Typing events are ephemeral: a typing event older than `typing_ttl` seconds is dropped instead of
being sent late, and a failed one is never retried past that deadline.

A message is never sent again while its first attempt may still land: the outbox waits up to
`in_flight_seconds` for Genesys to answer it, and after an attempt that may have reached Genesys
(a read timeout or a reset, not a refused connection) the retry waits until that long after the
attempt began. A retry carries the same `channel.messageId` (docs/reference/genesys-open-messaging.md
§8.3). Leases are short and renewed while an item is being sent (`LeaseKeeper`); done, retry and
dead letter are fenced by the lease owner, so a process that lost an item changes nothing.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from om_bridge.bridge.backoff import backoff
from om_bridge.bridge.delivery import SendFailed
from om_bridge.bridge.genesys.errors import (
    GenesysConnectionError,
    GenesysError,
    RateLimitedError,
)
from om_bridge.bridge.genesys.retry import Retry, retry_of
from om_bridge.bridge.handover import messages
from om_bridge.bridge.handover.leases import LeaseKeeper
from om_bridge.bridge.handover.loop import dispatch_loop
from om_bridge.bridge.logs import bound_request_id, current_request_id
from om_bridge.bridge.metrics import status_label

if TYPE_CHECKING:
    from om_bridge.bridge.config import Config
    from om_bridge.bridge.genesys.clients import ClientRegistry
    from om_bridge.bridge.metrics import Metrics
    from om_bridge.bridge.store import OutboxItem, Store

log = logging.getLogger(__name__)

# Outbox kinds → Open Messaging inbound routes under /api/v2/conversations/messages/{integrationId}.
ROUTES: dict[str, str] = {
    "message": "/inbound/open/message",
    "typing": "/inbound/open/event",
    "receipt": "/inbound/open/receipt",
    "structured": "/inbound/open/structured/response",
}
MESSAGES_BASE = "/api/v2/conversations/messages/"
# The user left for good: the customer participant of the handover's conversation is
# disconnected (PATCH .../participants/{id} {"state": "disconnected"}), after the calls before it.
DISCONNECT = "disconnect"
KINDS = frozenset(ROUTES) | {DISCONNECT}
# Kinds that make no sense once the handover ended: a message after the end would open a new
# Genesys conversation (threading is by customer id), so it is dead-lettered instead.
HANDOVER_BOUND = frozenset({"message", "typing", "structured"})
TYPING_TTL = 5.0
# How long a lease outlives a killed holder (renewed every third of it while held).
LEASE_SECONDS = 10.0
# How long a message sent to Genesys may still land: the outbox waits that long for the answer and
# never sends it again sooner. The reference documents no such bound (only the 504
# `request.timeout` answer, docs/reference/genesys-open-messaging.md §8.2); a minute is a
# conservative default, configurable as `[bridge] in_flight_seconds`.
IN_FLIGHT_SECONDS = 60.0
# Kinds that post a message (a duplicate would be shown to the agent twice).
MESSAGE_KINDS = frozenset({"message", "structured"})
GENESYS_LANE, OTHER_LANE = "genesys", "other"


# A sender for outbox kinds that are not Genesys calls; `ephemeral` items of it (payload key) are
# typing events, dropped once older than the typing TTL like Genesys typing events.
Sender = Callable[["OutboxItem"], None]
SentCallback = Callable[["OutboxItem", str, Any], None]
ResolvedCallback = Callable[["OutboxItem", str], None]
DeadCallback = Callable[["OutboxItem", str], None]


class Outbox:
    """Store-backed, ordered, retried delivery of Open Messaging inbound calls."""

    def __init__(
        self,
        store: Store,
        clients: ClientRegistry,
        config: Config,
        metrics: Metrics,
        *,
        on_sent: SentCallback | None = None,
        on_resolved: ResolvedCallback | None = None,
        on_dead: DeadCallback | None = None,
        clock: Callable[[], float] = time.time,
        workers: int = 4,
        lease_seconds: float = LEASE_SECONDS,
        in_flight_seconds: float = IN_FLIGHT_SECONDS,
        poll_interval: float = 0.25,
        typing_ttl: float = TYPING_TTL,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        rng: Callable[[], float] = random.random,
        senders: dict[str, Sender] | None = None,
    ) -> None:
        self._store, self._clients, self._config = store, clients, config
        # Other kinds sharing this queue (ordered per key, durable, retried): kind -> sender.
        self.senders: dict[str, Sender] = dict(senders or {})
        self._on_sent = on_sent
        self._on_resolved = on_resolved
        self._on_dead = on_dead
        self._clock = clock
        self._workers = max(1, workers)
        self._lease, self._poll = lease_seconds, poll_interval
        self.in_flight_seconds = in_flight_seconds
        self._leases = LeaseKeeper(store.outbox_renew, lease_seconds, "om-outbox-leases")
        self.typing_ttl = typing_ttl
        # Public so an operator (or a test) can tune them on a running outbox.
        self.backoff_base, self.backoff_cap, self._rng = backoff_base, backoff_cap, rng
        self._wake = threading.Event()
        self._stopping = threading.Event()
        # Two lanes, each with its own `workers` senders: Genesys calls, and the other senders'
        # kinds (Cognigy's Inject/Notify), so a slow or unreachable Cognigy never holds up the
        # calls to Genesys (nor the other way round).
        self._inflight: dict[str, int] = {GENESYS_LANE: 0, OTHER_LANE: 0}
        self._inflight_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pools: dict[str, ThreadPoolExecutor] = {}
        self._calls = metrics.counter(
            "genesys_calls_total", "Calls to Genesys by route and status", ["route", "status"]
        )
        self._dead = metrics.counter(
            "outbox_dead_letters_total", "Outbox items dead-lettered", ["kind"]
        )
        self._retries = metrics.counter(
            "outbox_retries_total", "Outbox send attempts retried", ["kind"]
        )
        metrics.gauge("outbox_depth", "Pending outbox items").set_function(self._depth)

    # -- producer side --------------------------------------------------------------------
    def put(self, key: str, kind: str, payload: dict[str, Any]) -> int:
        """Store one call (payload: provider_id, body, optional integration_id / handover_id) and
        wake the sender."""
        if kind not in KINDS and kind not in self.senders:
            known = sorted([*KINDS, *self.senders])
            raise ValueError(f"unknown outbox kind {kind!r}; expected one of {known}")
        rid = current_request_id()
        if rid and "request_id" not in payload:  # the sender's log lines keep the request's id
            payload = {**payload, "request_id": rid}
        item_id = self._store.outbox_put(key, kind, payload)
        self._wake.set()
        return item_id

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Start the dispatcher thread and its sender pool (idempotent)."""
        if self._thread is not None:
            return
        self._stopping.clear()
        self._pools = {
            lane: ThreadPoolExecutor(self._workers, thread_name_prefix=f"om-outbox-{lane}")
            for lane in (GENESYS_LANE, OTHER_LANE)
        }
        self._thread = threading.Thread(target=self._run, name="om-outbox", daemon=True)
        self._thread.start()
        self._wake.set()  # items left by a previous process are due now

    def stop(self, timeout: float = 15.0) -> None:
        """Stop claiming, let in-flight sends finish; pending items stay stored for next start."""
        thread, pools = self._thread, self._pools
        if thread is None:
            self._leases.stop()  # drain_once may have started it
            return
        self._stopping.set()
        self._wake.set()
        thread.join(timeout)
        for pool in pools.values():
            pool.shutdown(wait=True)
        self._leases.stop()
        self._thread, self._pools = None, {}

    def drain_once(self) -> int:
        """Claim and send the due head items synchronously (one round); returns how many."""
        owner = uuid.uuid4().hex
        items = self._store.outbox_claim(self._clock(), self._workers, self._lease, owner)
        for item in items:
            self._leases.hold(item.id, owner)
        for item in items:
            try:
                self._deliver(item, owner)
            finally:
                self._leases.release(item.id)
        return len(items)

    # -- dispatcher -----------------------------------------------------------------------
    def _run(self) -> None:
        dispatch_loop(
            self._stopping, self._wake, self._poll, self._dispatch, messages.LOG_OUTBOX_CRASH
        )

    def _lanes(self) -> list[tuple[str, frozenset[str]]]:
        lanes = [(GENESYS_LANE, KINDS)]
        others = frozenset(self.senders) - KINDS
        if others:
            lanes.append((OTHER_LANE, others))
        return lanes

    def _dispatch(self) -> None:
        for lane, kinds in self._lanes():
            with self._inflight_lock:
                free = self._workers - self._inflight[lane]
            if free <= 0:
                continue
            # A fresh owner per claim: the store lets an owner re-claim its own leases, and an
            # item being sent must not be claimed twice.
            owner = uuid.uuid4().hex
            items = self._store.outbox_claim(self._clock(), free, self._lease, owner, kinds)
            for item in items:
                self._leases.hold(item.id, owner)
                with self._inflight_lock:
                    self._inflight[lane] += 1
                self._pools[lane].submit(self._deliver_and_release, item, owner, lane)

    def _deliver_and_release(self, item: OutboxItem, owner: str, lane: str) -> None:
        try:
            with bound_request_id(item.payload.get("request_id")):
                self._deliver(item, owner)
        finally:
            self._leases.release(item.id)
            with self._inflight_lock:
                self._inflight[lane] -= 1
            self._wake.set()  # the next item of this key may now be the head

    # -- one attempt ----------------------------------------------------------------------
    def _deliver(self, item: OutboxItem, owner: str | None = None) -> None:
        payload = item.payload
        who = payload.get("handover_id") or item.key
        sender = self.senders.get(item.kind)
        if sender is not None:
            self._deliver_other(item, who, sender, owner)
            return
        started = self._clock()
        try:
            if item.kind == "typing" and self._clock() - item.created_at > self.typing_ttl:
                self._store.outbox_done(item.id, owner)
                log.debug(messages.LOG_OUTBOX_TYPING_EXPIRED, item.id, who, self.typing_ttl)
                return
            if item.kind in HANDOVER_BOUND and payload.get("handover_id"):
                handover = self._store.get_handover(payload["handover_id"])
                if handover is not None and not handover.is_open:
                    if not self._store.outbox_fail(item.id, messages.HANDOVER_ENDED_REASON, owner):
                        return  # another process holds it now
                    self._dead.labels(item.kind).inc()
                    log.info(messages.LOG_OUTBOX_HANDOVER_ENDED, item.id, item.kind, handover.id)
                    self._dead_letter_hook(item, messages.HANDOVER_ENDED_REASON)
                    return
            integration_id, result = self._send(item)
        except GenesysError as err:
            self._failed(item, who, err, owner, started)
            return
        except Exception as exc:
            log.exception("outbox item %s (%s) failed unexpectedly", item.id, item.kind)
            self._retry(item, who, type(exc).__name__, self._backoff(item.attempts), owner)
            return
        if not self._store.outbox_done(item.id, owner):
            # Sent, but the lease was lost meanwhile: the new holder sends it again with the
            # same messageId, which Genesys answers without posting it twice.
            log.warning(messages.LOG_OUTBOX_LEASE_LOST, item.id, item.kind, who)
        log.debug(messages.LOG_OUTBOX_SENT, item.id, item.kind, who, item.attempts)
        if self._on_sent is not None:
            try:
                self._on_sent(item, integration_id, result)
            except Exception:
                log.exception("outbox item %s: after-send bookkeeping failed", item.id)

    def _deliver_other(
        self, item: OutboxItem, who: str, sender: Sender, owner: str | None = None
    ) -> None:
        ephemeral = bool(item.payload.get("ephemeral"))
        if ephemeral and self._clock() - item.created_at > self.typing_ttl:
            self._store.outbox_done(item.id, owner)
            log.debug(messages.LOG_OUTBOX_TYPING_EXPIRED, item.id, who, self.typing_ttl)
            return
        try:
            sender(item)
        except SendFailed as failed:
            reason = str(failed)
            if failed.alert:
                log.error(messages.LOG_OUTBOX_ALERT, item.id, item.kind, who, reason)
            if ephemeral:
                self._store.outbox_done(item.id, owner)  # a late typing indicator is worthless
            elif not failed.retryable:
                if not self._store.outbox_fail(item.id, reason, owner):
                    return  # another process holds it now
                self._dead.labels(item.kind).inc()
                log.error(messages.LOG_OUTBOX_DEAD, item.id, item.kind, who, reason)
                self._dead_letter_hook(item, reason)
            else:
                delay = self._backoff(item.attempts)
                if failed.retry_after is not None:
                    delay = failed.retry_after
                elif failed.alert:
                    delay = self.backoff_cap  # waits for a fixed configuration
                self._retry(item, who, reason, delay, owner)
            return
        except Exception as exc:
            log.exception("outbox item %s (%s) failed unexpectedly", item.id, item.kind)
            self._retry(item, who, type(exc).__name__, self._backoff(item.attempts), owner)
            return
        self._store.outbox_done(item.id, owner)
        log.debug(messages.LOG_OUTBOX_SENT, item.id, item.kind, who, item.attempts)

    def _send(self, item: OutboxItem) -> tuple[str, Any]:
        payload = item.payload
        client = self._clients.for_provider(payload["provider_id"])
        integration_id = payload.get("integration_id")
        if not integration_id:
            provider = self._config.provider(payload["provider_id"])
            integration_id = client.integration_id_for(provider.deployment_name)
            if self._on_resolved is not None:
                self._on_resolved(item, integration_id)
        if item.kind == DISCONNECT:
            return integration_id, self._disconnect(client, item)
        path = MESSAGES_BASE + quote(integration_id, safe="") + ROUTES[item.kind]
        params = {"prefetchConversationId": "true"} if item.kind == "message" else None
        timeout = None
        if item.kind in MESSAGE_KINDS:
            connect = getattr(client, "timeout", (3.05, 10.0))[0]
            timeout = (connect, self.in_flight_seconds)
        try:
            result = client.request(
                "POST", path, params=params, json_body=payload["body"], retry=False, timeout=timeout
            )
        except GenesysError as err:
            self._calls.labels(item.kind, status_label(err.status or "error")).inc()
            raise
        self._calls.labels(item.kind, "2xx").inc()
        return integration_id, result

    def _disconnect(self, client: Any, item: OutboxItem) -> str | None:
        """Disconnect the customer of the handover's conversation; the conversation id, or None
        when there is nothing to disconnect (never reached Genesys, or already over)."""
        handover = self._store.get_handover(item.payload.get("handover_id") or "")
        conversation_id = handover.conversation_id if handover is not None else None
        if not conversation_id:
            return None
        try:
            conversation = client.get_message_conversation(conversation_id)
            customers = [
                p
                for p in conversation.get("participants") or []
                if p.get("purpose") == "customer" and p.get("state") != "disconnected"
            ]
            for participant in customers:
                client.patch_participant(
                    conversation_id, participant["id"], {"state": "disconnected"}
                )
        except GenesysError as err:
            self._calls.labels(item.kind, str(err.status or "error")).inc()
            raise
        self._calls.labels(item.kind, "2xx").inc()
        return conversation_id

    def _failed(
        self,
        item: OutboxItem,
        who: str,
        err: GenesysError,
        owner: str | None = None,
        started: float | None = None,
    ) -> None:
        retryable = retry_of(err) is not Retry.NEVER
        reason = f"{type(err).__name__} {err.status or ''}".strip()
        if item.kind == "typing" and (
            not retryable or self._clock() - item.created_at > self.typing_ttl
        ):
            self._store.outbox_done(item.id, owner)  # ephemeral: not worth a dead letter
            log.debug(messages.LOG_OUTBOX_TYPING_EXPIRED, item.id, who, self.typing_ttl)
            return
        if not retryable:
            if not self._store.outbox_fail(item.id, reason, owner):
                return  # another process holds it now
            self._dead.labels(item.kind).inc()
            log.error(messages.LOG_OUTBOX_DEAD, item.id, item.kind, who, str(err))
            self._dead_letter_hook(item, reason)
            return
        delay = self._backoff(item.attempts)
        if isinstance(err, RateLimitedError) and err.retry_after is not None:
            delay = max(float(err.retry_after), 0.0)
        if (
            item.kind in MESSAGE_KINDS
            and isinstance(err, GenesysConnectionError)
            and err.maybe_sent
            and started is not None
        ):
            # The first attempt may still land: never send it again before it no longer can.
            delay = max(delay, started + self.in_flight_seconds - self._clock())
        self._retry(item, who, reason, delay, owner)

    def _dead_letter_hook(self, item: OutboxItem, reason: str) -> None:
        if self._on_dead is not None:
            try:
                self._on_dead(item, reason)
            except Exception:
                log.exception("outbox item %s: dead-letter handling failed", item.id)

    def _retry(
        self, item: OutboxItem, who: str, reason: str, delay: float, owner: str | None = None
    ) -> None:
        if not self._store.outbox_retry(item.id, self._clock() + delay, reason, owner):
            log.warning(messages.LOG_OUTBOX_LEASE_LOST, item.id, item.kind, who)
            return
        self._retries.labels(item.kind).inc()
        log.warning(messages.LOG_OUTBOX_RETRY, item.id, item.kind, who, reason, delay)

    def _backoff(self, attempts: int) -> float:
        return backoff(attempts, self.backoff_base, self.backoff_cap, rng=self._rng)

    def _depth(self) -> float:
        try:
            return float(len(self._store.outbox_pending()))
        except Exception:
            return float("nan")
