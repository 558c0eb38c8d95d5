"""`Backfill`: agent messages Genesys gave up delivering, read back from the Conversations API.

Genesys retries an outbound webhook for about 85 s and then marks the message `failed`; nothing
sends it again (docs/reference/genesys-open-messaging.md §5.7). So when the bridge may have been
unreachable, it reads each open handover's conversation (`GET /api/v2/conversations/messages/{id}`:
every participant's `messages[]`), fetches the messages it has not settled yet
(`POST .../messages/bulk`) and hands each one, as the webhook body Genesys would have posted, to
the same durable inbound lane with the same dedupe mark (`inbound.dedupe_key`): a message the
bridge already has, or a late webhook retry of one the backfill brought, is a duplicate and is
shown once. Messages go in Genesys' order (`messageTime`), behind anything queued for that customer.

When: at start-up for every open handover, and every `SWEEP_SECONDS` again (a webhook inbox can
also fall silent while the process runs: a proxy, a certificate, a network in between). Budget: at
most `CALLS_PER_MINUTE` Genesys calls in any 60 s per process, oldest handovers first
(docs/reliability.md "Agent messages Genesys gave up on").
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from om_bridge.bridge.background import ConditionWorker
from om_bridge.bridge.genesys.errors import GenesysError
from om_bridge.bridge.genesys.wire import epoch
from om_bridge.bridge.handover import messages
from om_bridge.bridge.handover.inbound import DEDUPE_TTL_SECONDS, dedupe_key

if TYPE_CHECKING:
    from om_bridge.bridge.genesys.clients import ClientRegistry
    from om_bridge.bridge.metrics import Metrics
    from om_bridge.bridge.store import Handover, Store

log = logging.getLogger(__name__)

# A fifth of Genesys' 300 requests a minute per OAuth client (the notifications reconciliation
# takes a third); one conversation read plus one bulk read per 100 unsettled messages per pass.
CALLS_PER_MINUTE: Final = 60
WINDOW_SECONDS: Final = 60.0
SWEEP_SECONDS: Final = 300.0
# A pass whose read failed is tried again after this.
RETRY_SECONDS: Final = 30.0
# Ids per bulk read (Genesys takes up to 1,000; "request only the messages you need").
BULK_IDS: Final = 100
# A message older than its dedupe mark can be is not read back: the mark may be gone, and the
# message could be shown twice.
MAX_AGE_SECONDS: Final = DEDUPE_TTL_SECONDS - 3600.0
# The outbound types a webhook would have carried to the user (typing is not kept by Genesys).
RELAYED_TYPES: Final = frozenset({"Text", "Structured"})
# Message ids settled per handover, kept while it is open.
SETTLED_KEPT: Final = 5000

Accept = Callable[[str, dict[str, Any], str, float], bool]


class CallBudget:
    """At most `per_minute` calls in any `window` seconds: `delay()` says how long until the next
    call may go (0: now), `spend()` records one."""

    def __init__(
        self, per_minute: int, clock: Callable[[], float], window: float = WINDOW_SECONDS
    ) -> None:
        self.per_minute, self.window, self._clock = max(1, per_minute), window, clock
        self._calls: deque[float] = deque()

    def delay(self) -> float:
        """Seconds until a call fits in the budget."""
        now = self._clock()
        while self._calls and self._calls[0] <= now - self.window:
            self._calls.popleft()
        if len(self._calls) < self.per_minute:
            return 0.0
        return self._calls[0] + self.window - now

    def spend(self) -> None:
        """Record a call made now."""
        self._calls.append(self._clock())


def message_ids(conversation: dict[str, Any], now: float) -> list[str]:
    """The ids of the messages every leg of the conversation lists (`MessageDetails`), in
    Genesys' order (`messageTime`), none older than `MAX_AGE_SECONDS`. Every leg: the API does not
    say on which leg an agent's message is listed; the bulk read tells the direction."""
    found: dict[str, float] = {}
    for participant in conversation.get("participants") or []:
        if not isinstance(participant, dict):
            continue
        for detail in participant.get("messages") or []:
            if not isinstance(detail, dict) or not isinstance(detail.get("messageId"), str):
                continue
            at = epoch(str(detail.get("messageTime") or ""))
            if at is None or at < now - MAX_AGE_SECONDS:
                continue
            found.setdefault(detail["messageId"], at)
    return sorted(found, key=lambda mid: found[mid])


def webhook_body(
    handover: Handover, conversation_id: str, data: dict[str, Any]
) -> dict[str, Any] | None:
    """The outbound webhook body Genesys would have posted for `MessageData` `data` (its
    `normalizedMessage`), addressed to the handover's customer; None for what no webhook would
    have carried to the user (inbound messages, other types)."""
    if data.get("direction") != "outbound" or not isinstance(data.get("id"), str):
        return None
    normalized = data.get("normalizedMessage") or {}
    kind = normalized.get("type") or "Text"
    if kind not in RELAYED_TYPES:
        return None
    channel = dict(normalized.get("channel") or {})
    channel["id"] = handover.integration_id or channel.get("id")
    channel["to"] = {**(channel.get("to") or {}), "id": handover.customer_id}
    channel.setdefault("platform", "Open")
    channel.setdefault("type", "Private")
    channel["messageId"] = channel.get("messageId") or data["id"]
    channel["time"] = channel.get("time") or data.get("timestamp")
    text = normalized.get("text")
    if text is None:
        text = data.get("textBody")
    body: dict[str, Any] = {
        "id": data["id"],
        "channel": channel,
        "conversationId": conversation_id,
        "direction": "Outbound",
        "originatingEntity": normalized.get("originatingEntity") or "Human",
        "type": kind,
        "content": [c for c in normalized.get("content") or [] if isinstance(c, dict)],
    }
    if isinstance(text, str):
        body["text"] = text
    return body


class Backfill(ConditionWorker):
    """One thread that reads open handovers' conversations back, oldest handover first, within
    the call budget, and queues the agent messages the bridge never received."""

    thread_name = "om-backfill"

    def __init__(
        self,
        accept: Accept,
        *,
        store: Store,
        clients: ClientRegistry,
        metrics: Metrics,
        clock: Callable[[], float],
        calls_per_minute: int = CALLS_PER_MINUTE,
        sweep_seconds: float = SWEEP_SECONDS,
        sleep: Callable[[float], Any] | None = None,
    ) -> None:
        super().__init__()
        self._accept, self.store, self.clients, self.clock = accept, store, clients, clock
        self.budget = CallBudget(calls_per_minute, clock)
        self.sweep_seconds = sweep_seconds
        # Waiting for the budget ends early when stopping (a test clock brings its own sleep).
        self._sleep = sleep if sleep is not None else self._stop.wait
        # handover id -> (not before, created_at): the oldest due handover goes first.
        self._due: dict[str, tuple[float, float]] = {}
        self._settled: dict[str, set[str]] = {}
        self._calls = metrics.counter(
            "backfill_calls_total", "Genesys calls made to read back undelivered agent messages"
        )
        self._queued = metrics.counter(
            "backfill_messages_total",
            "Agent messages Genesys did not deliver, read back and queued",
        )

    # -- scheduling -------------------------------------------------------------------------
    def schedule_open(self) -> int:
        """Schedule every open handover that knows its conversation; how many."""
        handovers = [h for h in self.store.open_handovers() if h.conversation_id]
        now = self.clock()
        with self._cond:
            open_ids = {h.id for h in handovers}
            for gone in set(self._settled) - open_ids:
                del self._settled[gone]
            for h in handovers:
                self._due.setdefault(h.id, (now, h.created_at))
            self._cond.notify()
        return len(handovers)

    def request(self, handover: Handover, not_before: float | None = None) -> None:
        """Read this handover's conversation back (now, or not before `not_before`)."""
        with self._cond:
            self._due[handover.id] = (
                self.clock() if not_before is None else not_before,
                handover.created_at,
            )
            self._cond.notify()

    def pending(self) -> list[str]:
        """Handover ids waiting for a pass, oldest handover first (tests, metrics)."""
        with self._cond:
            return [h for h, _ in sorted(self._due.items(), key=lambda kv: kv[1][1])]

    def _next_due(self) -> str | None:
        now = self.clock()
        due = [(created, hid) for hid, (at, created) in self._due.items() if at <= now]
        if not due:
            return None
        handover_id = min(due)[1]
        del self._due[handover_id]
        return handover_id

    # -- thread -----------------------------------------------------------------------------
    def _run(self) -> None:
        next_sweep = self.clock()
        while not self._stop.is_set():
            if self.clock() >= next_sweep:
                try:
                    self.schedule_open()
                except Exception:  # the store may be briefly unreachable: try at the next sweep
                    log.exception(messages.LOG_BACKFILL_CRASH, "*")
                next_sweep = self.clock() + self.sweep_seconds
            with self._cond:
                handover_id = self._next_due()
                if handover_id is None:
                    soonest = min((at for at, _ in self._due.values()), default=next_sweep)
                    wait = min(next_sweep, soonest) - self.clock()
                    self._cond.wait(timeout=max(0.05, min(wait, 5.0)))
                    continue
            try:
                self.run_pass(handover_id)
            except Exception:  # keep going; one bad pass must not stop the others
                log.exception(messages.LOG_BACKFILL_CRASH, handover_id)

    def _spend(self) -> bool:
        """Wait until the budget allows a call and count it; False when stopping."""
        while not self._stop.is_set():
            delay = self.budget.delay()
            if delay <= 0:
                self.budget.spend()
                self._calls.inc()
                return True
            self._sleep(delay)
        return False

    # -- one pass ---------------------------------------------------------------------------
    def run_pass(self, handover_id: str) -> int:
        """Read one handover's conversation back and queue what the bridge never received, in
        Genesys' order; how many messages were queued (0 when the bridge had them all)."""
        handover = self.store.get_handover(handover_id)
        if handover is None or not handover.is_open or not handover.conversation_id:
            with self._cond:
                self._settled.pop(handover_id, None)
            return 0
        conversation_id = handover.conversation_id
        client = self.clients.for_provider(handover.provider_id)
        settled = self._settled.setdefault(handover_id, set())
        queued = 0
        try:
            if not self._spend():
                return 0
            conversation = client.get_message_conversation(conversation_id)
            ids = [m for m in message_ids(conversation, self.clock()) if m not in settled]
            for start in range(0, len(ids), BULK_IDS):
                chunk = ids[start : start + BULK_IDS]
                if not self._spend():
                    return queued
                order = {mid: i for i, mid in enumerate(chunk)}
                found = client.get_messages(conversation_id, chunk)
                found.sort(key=lambda d: order.get(str(d.get("id")), len(order)))
                for data in found:
                    queued += self._offer(handover, conversation_id, data)
                # Settled once read: inbound ones, other types and ids the API no longer has
                # are not asked for again by this process.
                if len(settled) + len(chunk) > SETTLED_KEPT:
                    settled.clear()  # bounded: the dedupe marks still stop a second delivery
                settled.update(chunk)
        except GenesysError as err:
            log.warning(
                messages.LOG_BACKFILL_READ_FAILED,
                handover_id,
                conversation_id,
                f"{type(err).__name__} {err.status}",
                int(RETRY_SECONDS),
            )
            self.request(handover, self.clock() + RETRY_SECONDS)
        if queued:
            log.warning(messages.LOG_BACKFILL_DELIVERED, handover_id, queued)
        return queued

    def _offer(self, handover: Handover, conversation_id: str, data: dict[str, Any]) -> int:
        """Queue one message the way its webhook would have been; 1 when it was new."""
        body = webhook_body(handover, conversation_id, data)
        if body is None or not self._accept(
            handover.provider_id,
            body,
            dedupe_key(handover.provider_id, str(body["id"])),
            DEDUPE_TTL_SECONDS,
        ):
            return 0
        self._queued.inc()
        return 1


__all__ = ["Backfill", "CallBudget", "message_ids", "webhook_body"]
