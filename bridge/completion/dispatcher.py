"""The completion dispatcher: the one place that decides, for any `CompletionEvent`, whether a
handover ends now, waits for the transfer grace period, cancels a pending end, or ignores it
(foreign / unknown conversation, duplicate, stale, transfer).

Exactly-once: `store.finish_handover` is atomic across processes; this class also latches ended
handovers in memory so racing duplicates in one process never even reach the engine."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from . import events as ev
from . import messages
from .events import CompletionEvent

log = logging.getLogger(__name__)

END: Final = "end"
IGNORE: Final = "ignore"
WAIT: Final = "wait"
CANCEL: Final = "cancel"
REJECT: Final = "reject"  # not from the sender we trust (organisation mismatch): 4xx
FAILED: Final = "failed"  # ending raised; the sender may retry (5xx)

_LATCH_SIZE = 100_000
_WAIT_KINDS: Final = {ev.ACW: "acw", ev.AGENT_END: "user.end", ev.CUSTOMER_END: "customer.end"}


def _iso(ts: float) -> str:
    """An epoch time as log lines show times: ISO 8601 in UTC, to the millisecond."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Decision:
    """What the dispatcher did with one event, and why (for logs, HTTP answers and tests)."""

    action: str
    reason: str
    handover_id: str | None = None


EndFn = Callable[[str, str, str], bool]
CustomerLookup = Callable[[str, "set[str] | None"], Any]


class CompletionDispatcher:
    """Decides and acts on completion events; safe to call from many threads at once.

    `end` is `engine.end_handover(handover_id, status, reason)`; `grace_seconds` is
    GENESYS_OM_HANDOVER_ACW_AFTER_TRANSFER_TIMEOUT_IN_MS / 1000; `org_of(provider_id)` gives a
    provider's configured Genesys organisation id (or None); `find_by_customer(customer_id,
    providers)` finds the open handover of a customer for Cognigy's data-action body."""

    def __init__(
        self,
        store: Any,
        end: EndFn,
        *,
        grace_seconds: float,
        org_of: Callable[[str], str | None],
        check_org: bool,
        find_by_customer: CustomerLookup,
        clock: Callable[[], float],
        on_pending: Callable[[str, float], None] | None = None,
        on_agent_change: Callable[[str, bool], None] | None = None,
        on_transfer: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self._end_fn = end
        self.grace_seconds = grace_seconds
        self._org_of = org_of
        self.check_org = check_org
        self._find_by_customer = find_by_customer
        self.clock = clock
        self.on_pending = on_pending
        self.on_agent_change = on_agent_change
        self.on_transfer = on_transfer
        self._latch: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    # --- the decision ------------------------------------------------------------------------
    def dispatch(
        self,
        event: CompletionEvent,
        providers: Iterable[str] | None = None,
        *,
        check_only: bool = False,
    ) -> Decision:
        """Decide and act on one event; `providers` limits which providers' handovers it may
        touch (the data-action credential names them). With `check_only` (an unauthenticated
        sender) an end event never ends anything itself: it schedules a REST check."""
        allowed = set(providers) if providers is not None else None
        decision = self._decide(event, allowed, check_only)
        log.info(
            messages.LOG_DECISION, event.source, event.describe(), decision.action, decision.reason
        )
        if decision.action == END and event.conversation_id:
            self._end_sharing(event.conversation_id, decision, allowed)
        return decision

    def _end_sharing(
        self, conversation_id: str, decision: Decision, allowed: set[str] | None
    ) -> None:
        """Handovers stored before customer ids were per handover used the Cognigy user id, so
        two sessions of one user could share a Genesys conversation: its end ends each of them
        (the lookup by conversation returns only the newest)."""
        ended = self.store.get_handover(decision.handover_id or "")
        if ended is None or ended.customer_id != ended.session.user_id:
            return  # a per-handover customer id: no other handover is in this conversation
        for other in self.store.open_handovers(ended.provider_id):
            if other.conversation_id == conversation_id and other.id != ended.id:
                if allowed is None or other.provider_id in allowed:
                    self.end(other, decision.reason)

    def _decide(
        self, event: CompletionEvent, allowed: set[str] | None, check_only: bool = False
    ) -> Decision:
        if not event.is_open_messaging():
            return Decision(
                IGNORE,
                messages.R_NOT_OPEN_MESSAGING.format(
                    media=event.media_type, message=event.message_type
                ),
            )
        if self.check_org and event.source == ev.EVENTBRIDGE and not event.organization_id:
            # Genesys always names its organisation in an EventBridge `source`: an event without
            # one is not from the partner event source and may end nothing.
            return Decision(REJECT, messages.ORG_MISSING)
        handover = self._find(event, allowed)
        if handover is None:
            if event.kind == ev.AGENT_START and event.conversation_id and not check_only:
                # Possibly ours, before the first message's answer named the conversation.
                self._agent_changed(event.conversation_id, early=True)
            if event.conversation_id:
                return Decision(
                    IGNORE,
                    messages.R_UNKNOWN_CONVERSATION.format(conversation=event.conversation_id),
                )
            return Decision(IGNORE, messages.R_UNKNOWN_CUSTOMER.format(customer="(hidden)"))
        if self.check_org and event.organization_id:
            expected = self._org_of(handover.provider_id)
            if expected and expected != event.organization_id:
                return Decision(
                    REJECT,
                    messages.ORG_MISMATCH.format(
                        got=event.organization_id, expected=expected, provider=handover.provider_id
                    ),
                    handover.id,
                )
        # A conversation id can be re-opened by Genesys's threading window for a later handover:
        # an event from before this handover started belongs to an earlier one.
        if event.event_time is not None and event.event_time < handover.created_at:
            return Decision(
                IGNORE,
                messages.R_STALE.format(
                    event=event.event_time, handover=handover.id, created=handover.created_at
                ),
                handover.id,
            )
        if not handover.is_open or self._latched(handover.id):
            return Decision(
                IGNORE,
                messages.R_ALREADY_ENDED.format(handover=handover.id, status=handover.status),
                handover.id,
            )
        if check_only:
            if event.kind in (ev.CUSTOMER_END, ev.AGENT_END, ev.ACW):
                due = self.clock() if event.kind == ev.CUSTOMER_END else None
                return self._wait(handover, event, due=due, check_only=True)
            # An unauthenticated transfer or agent start cancels nothing.
            return Decision(IGNORE, messages.R_IGNORED_KIND.format(kind=event.kind), handover.id)
        if event.kind == ev.CUSTOMER_END and not event.conversation_id:
            # Cognigy's data-action body names only the customer: after a second handover on the
            # same customer (and the conversation id Genesys re-opened), a late or retried body of
            # the first one would land here. Genesys confirms the end through REST first.
            return self._wait(handover, event, due=self.clock())
        if event.kind == ev.CUSTOMER_END:
            return self.end(
                handover,
                messages.R_ENDED.format(
                    kind="customer.end",
                    disconnect=event.disconnect_type or "-",
                    source=event.source,
                ),
            )
        if event.kind in (ev.TRANSFER, ev.AGENT_END, ev.ACW, ev.AGENT_START):
            # The agent leg changed: who serves the handover (and whether anyone is connected)
            # is read from Genesys once, not per message.
            self._agent_changed(handover.id)
        if event.kind == ev.TRANSFER:
            if self.on_transfer is not None:
                try:
                    self.on_transfer(handover.id)  # tells the user; the handover goes on
                except Exception:
                    log.exception("handover %s: transfer notice failed", handover.id)
            return Decision(
                IGNORE, messages.R_TRANSFER.format(disconnect=event.disconnect_type), handover.id
            )
        if event.kind in (ev.AGENT_END, ev.ACW):
            return self._wait(handover, event)
        if event.kind == ev.AGENT_START:
            return self._agent_joined(handover, event)
        return Decision(IGNORE, messages.R_IGNORED_KIND.format(kind=event.kind), handover.id)

    def _find(self, event: CompletionEvent, allowed: set[str] | None) -> Any:
        if event.conversation_id:
            handover = self.store.handover_by_conversation(event.conversation_id)
        elif event.customer_id:
            handover = self._find_by_customer(event.customer_id, allowed)
        else:
            return None
        if handover is not None and allowed is not None and handover.provider_id not in allowed:
            return None  # another provider's conversation: foreign to this credential
        return handover

    # --- actions -----------------------------------------------------------------------------
    def end(self, handover: Any, reason: str) -> Decision:
        """End `handover` as completed, exactly once (latched here, atomic in the store)."""
        with self._lock:
            if handover.id in self._latch:
                return Decision(
                    IGNORE,
                    messages.R_ALREADY_ENDED.format(handover=handover.id, status="ending"),
                    handover.id,
                )
            self._latch[handover.id] = None
            if len(self._latch) > _LATCH_SIZE:
                self._latch.popitem(last=False)
        try:
            ended = self._end_fn(handover.id, "completed", reason)
        except Exception as exc:  # reported to the caller, who may retry
            log.exception(messages.LOG_END_FAILED, handover.id)
            with self._lock:
                self._latch.pop(handover.id, None)
            return Decision(
                FAILED,
                messages.R_END_FAILED.format(handover=handover.id, error=type(exc).__name__),
                handover.id,
            )
        if not ended:
            return Decision(
                IGNORE,
                messages.R_ALREADY_ENDED.format(handover=handover.id, status="ended elsewhere"),
                handover.id,
            )
        return Decision(END, reason, handover.id)

    def _wait(
        self,
        handover: Any,
        event: CompletionEvent,
        due: float | None = None,
        check_only: bool = False,
    ) -> Decision:
        """Persist a pending end due `due` (default: after the transfer grace period); the sweeper
        ends it then, unless Genesys shows a live agent or queue leg."""
        kind = _WAIT_KINDS.get(event.kind, "user.end")
        now = self.clock()
        due = now + self.grace_seconds if due is None else due
        if handover.pending_end_at is not None and handover.pending_end_at <= due:
            return Decision(
                WAIT,
                messages.R_WAIT_KEPT.format(
                    kind=kind, source=event.source, due=_iso(handover.pending_end_at)
                ),
                handover.id,
            )
        data = dict(handover.data or {})
        data["completion"] = {
            "pending_kind": kind,
            "pending_source": event.source,
            "pending_since": event.event_time if event.event_time else now,
            # Only Genesys' own word (the customer ended) may end a check-only request.
            "confirm_only": check_only,
        }
        # Persisted, so a restart keeps the pending end (the sweeper reloads it). The agent who
        # left is forgotten: after a transfer the next agent message shows the new agent's name.
        self.store.update_handover(handover.id, pending_end_at=due, data=data, agent={})
        if self.on_pending is not None:
            self.on_pending(handover.id, due)
        if check_only:
            text = messages.R_CHECK
        else:
            text = messages.R_VERIFY if event.kind == ev.CUSTOMER_END else messages.R_WAIT
        return Decision(
            WAIT, text.format(kind=kind, source=event.source, due=_iso(due)), handover.id
        )

    def _agent_joined(self, handover: Any, event: CompletionEvent) -> Decision:
        if handover.pending_end_at is None:
            return Decision(IGNORE, messages.R_NOTHING_PENDING, handover.id)
        since = (handover.data or {}).get("completion", {}).get("pending_since")
        # Out of order: an agent start older than the end that made us wait does not cancel it.
        if event.event_time is not None and since is not None and event.event_time <= since:
            return Decision(IGNORE, messages.R_NOTHING_PENDING, handover.id)
        self.cancel_pending(handover.id)
        return Decision(CANCEL, messages.R_CANCELLED, handover.id)

    def _agent_changed(self, handover_or_conversation_id: str, early: bool = False) -> None:
        if self.on_agent_change is None:
            return
        try:
            self.on_agent_change(handover_or_conversation_id, early)
        except Exception:  # learning the agent is a nicety; the decision stands
            log.exception("agent change of handover %s not handled", handover_or_conversation_id)

    def cancel_pending(self, handover_id: str) -> None:
        """Forget a pending end (a new agent joined / a transfer is in progress)."""
        self.store.update_handover(handover_id, pending_end_at=None)

    def _latched(self, handover_id: str) -> bool:
        with self._lock:
            return handover_id in self._latch
