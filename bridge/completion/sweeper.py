"""The pending-end sweeper: `user.end` / `acw` only end a handover once the transfer grace period
(GENESYS_OM_HANDOVER_ACW_AFTER_TRANSFER_TIMEOUT_IN_MS) has passed with no new agent. At expiry
the conversation is checked through REST, because a transfer fires the same events: a connected
agent or a live queue (acd) leg means a transfer is in progress, so the pending end is cancelled.

The due time lives on the handover (`pending_end_at`), so a restarted process picks it up again."""

from __future__ import annotations

import heapq
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Final

from om_bridge.bridge.background import ConditionWorker

from . import messages
from .dispatcher import CompletionDispatcher, Decision
from .translate import from_conversation

log = logging.getLogger(__name__)

ENDED: Final = "ended"  # the customer participant has ended
AGENT: Final = "agent"  # an agent is offered or connected: a transfer landed
QUEUED: Final = "queued"  # a queue leg is live: a transfer is waiting for an agent
IDLE: Final = "idle"  # nobody is serving the customer any more

_LIVE_LEG = ("alerting", "connected", "contacting", "offering", "dialing", "parked")


def assess(conversation: Mapping[str, Any]) -> str:
    """What a REST `MessageConversation` says about a handover whose agent left."""
    if from_conversation(conversation, "reconcile") is not None:
        return ENDED
    verdict = IDLE
    for p in conversation.get("participants") or []:
        if not isinstance(p, Mapping) or p.get("endTime") or p.get("state") not in _LIVE_LEG:
            continue
        if p.get("purpose") == "agent":
            return AGENT
        if p.get("purpose") == "acd":
            verdict = QUEUED
    return verdict


class PendingEndSweeper(ConditionWorker):
    """A thread that ends (or cancels) pending ends when they fall due.

    `fetch(handover)` returns the REST conversation of a handover (raises on Genesys errors)."""

    thread_name = "completion-sweeper"

    def __init__(
        self,
        store: Any,
        dispatcher: CompletionDispatcher,
        fetch: Callable[[Any], Mapping[str, Any]],
        *,
        clock: Callable[[], float],
        rescan_seconds: float = 10.0,
        retry_seconds: float = 2.0,
        max_verify_failures: int = 3,
    ) -> None:
        super().__init__()
        self.store = store
        self.dispatcher = dispatcher
        self.fetch = fetch
        self.clock = clock
        self.rescan_seconds = rescan_seconds
        self.retry_seconds = retry_seconds
        self.max_verify_failures = max_verify_failures
        self._heap: list[tuple[float, str]] = []
        self._scheduled: dict[str, float] = {}  # handover id -> earliest due in the heap
        self._failures: dict[str, int] = {}
        self.on_decision: Callable[[Decision], None] | None = None  # e.g. metrics

    def schedule(self, handover_id: str, due: float) -> None:
        """Remember a pending end (the dispatcher calls this when it starts waiting)."""
        with self._cond:
            known = self._scheduled.get(handover_id)
            if known is not None and known <= due:
                return
            self._scheduled[handover_id] = due
            heapq.heappush(self._heap, (due, handover_id))
            self._cond.notify()

    def rescan(self) -> None:
        """Load every pending end from the store (start-up, and ones other processes set)."""
        for handover in self.store.open_handovers():
            if handover.pending_end_at is not None:
                self.schedule(handover.id, handover.pending_end_at)

    def run_due(self) -> list[Decision]:
        """Handle every pending end that is due now; returns what was decided."""
        decisions: list[Decision] = []
        while True:
            now = self.clock()
            with self._cond:
                if not self._heap or self._heap[0][0] > now:
                    return decisions
                due, handover_id = heapq.heappop(self._heap)
                if self._scheduled.get(handover_id) != due:
                    continue  # superseded by an earlier entry for the same handover
                del self._scheduled[handover_id]
            decision = self._handle(handover_id, now)
            if decision is not None:
                decisions.append(decision)
                if self.on_decision is not None:
                    self.on_decision(decision)

    def _handle(self, handover_id: str, now: float) -> Decision | None:
        handover = self.store.get_handover(handover_id)
        if handover is None or not handover.is_open or handover.pending_end_at is None:
            self._failures.pop(handover_id, None)
            return None
        if handover.pending_end_at > now:  # re-armed later than this heap entry
            self.schedule(handover_id, handover.pending_end_at)
            return None
        pending = (handover.data or {}).get("completion", {})
        kind = pending.get("pending_kind", "user.end")
        timeout_ms = int(self.dispatcher.grace_seconds * 1000)
        confirm_only = bool(pending.get("confirm_only"))
        if confirm_only and not handover.conversation_id:
            return self._not_confirmed(handover_id, "no conversation id to check")
        if not handover.conversation_id:
            return self.dispatcher.end(
                handover, messages.SWEEP_END.format(timeout_ms=timeout_ms, kind=kind)
            )
        try:
            verdict = assess(self.fetch(handover))
        except Exception as exc:
            failures = self._failures.get(handover_id, 0) + 1
            self._failures[handover_id] = failures
            if failures < self.max_verify_failures:
                log.warning(
                    messages.LOG_SWEEP_RETRY,
                    handover.conversation_id,
                    type(exc).__name__,
                    self.retry_seconds,
                )
                self.schedule(handover_id, now + self.retry_seconds)
                return None
            self._failures.pop(handover_id, None)
            if confirm_only:
                return self._not_confirmed(handover_id, type(exc).__name__)
            return self.dispatcher.end(
                handover,
                messages.SWEEP_END_UNVERIFIED.format(
                    timeout_ms=timeout_ms, kind=kind, error=type(exc).__name__
                ),
            )
        self._failures.pop(handover_id, None)
        if confirm_only and verdict != ENDED:
            return self._not_confirmed(handover_id, verdict)
        if verdict in (AGENT, QUEUED):
            log.info(messages.LOG_SWEEP_CANCEL, handover_id, verdict)
            self.dispatcher.cancel_pending(handover_id)
            return Decision("cancel", verdict, handover_id)
        reason = (
            messages.SWEEP_CUSTOMER_GONE
            if verdict == ENDED
            else messages.SWEEP_END.format(timeout_ms=timeout_ms, kind=kind)
        )
        return self.dispatcher.end(handover, reason)

    def _not_confirmed(self, handover_id: str, verdict: str) -> Decision:
        log.warning(messages.LOG_CHECK_DROPPED, handover_id, verdict)
        self.dispatcher.cancel_pending(handover_id)
        return Decision("cancel", messages.SWEEP_NOT_CONFIRMED.format(verdict=verdict), handover_id)

    # --- thread ----------------------------------------------------------------------------
    def _run(self) -> None:
        next_rescan = 0.0
        while not self._stop.is_set():
            try:
                if time.monotonic() >= next_rescan:
                    self.rescan()
                    next_rescan = time.monotonic() + self.rescan_seconds
                self.run_due()
            except Exception:  # keep sweeping; the store may come back
                log.exception("completion sweeper iteration failed")
            with self._cond:
                if self._stop.is_set():
                    return
                wait = self.rescan_seconds
                if self._heap:
                    wait = min(wait, max(0.0, self._heap[0][0] - self.clock()))
                self._cond.wait(timeout=max(0.01, wait))
