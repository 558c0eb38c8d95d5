"""The one internal event every completion path produces, whatever it arrived as (EventBridge
envelope, data-action body, notifications frame, REST reconciliation)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

# Kinds of completion event.
CUSTOMER_END: Final = "customer-end"  # the customer leg ended: the conversation is over
AGENT_END: Final = "agent-end"  # an agent leg ended, not by a transfer (may still be one)
ACW: Final = "acw"  # an agent finished after-call work (fires on transfers too)
TRANSFER: Final = "transfer"  # an agent leg ended because of a transfer
AGENT_START: Final = "agent-start"  # an agent leg started (a transfer landed)
KINDS: Final = (CUSTOMER_END, AGENT_END, ACW, TRANSFER, AGENT_START)

# The detail-event topic suffixes (`v2.detail.events.conversation.{id}.<suffix>`) completion
# handles. Every suffix here must have a translator in `translate.DETAIL_TRANSLATORS` and vice
# versa (a unit test enforces it), so a handled suffix is always a declared one.
DETAIL_SUFFIXES: Final = ("customer.end", "user.end", "acw", "user.start")

# Sources, for logs and end reasons.
EVENTBRIDGE: Final = "eventbridge"
DATA_ACTION: Final = "data-action"
NOTIFICATIONS: Final = "notifications"
RECONCILE: Final = "reconcile"


def is_transfer(disconnect_type: str | None) -> bool:
    """Whether a disconnect type means "moved elsewhere": detail events spell it `TRANSFER` /
    `*_TRANSFER`, conversation topics and REST `transfer` / `transfer.*` (docs/reference/genesys-completion-detection.md §D.3 item 6)."""
    if not disconnect_type:
        return False
    value = disconnect_type.strip().lower()
    return value.startswith("transfer") or value.endswith("_transfer")


def normalise_disconnect(value: object) -> str | None:
    """A disconnect type in the detail events' UPPERCASE form (`transfer.noanswer` ->
    `TRANSFER.NOANSWER` is kept recognisable by `is_transfer`)."""
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().upper()


def epoch_seconds(value: object) -> float | None:
    """Epoch seconds from detail events' epoch-ms ints or the ISO-8601 strings of conversation
    topics and REST (docs/reference/genesys-completion-detection.md §D.3 item 7); None when absent or unparseable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) / 1000.0 if value > 1e11 else float(value)
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value).timestamp()
        except ValueError:
            return None
    return None


@dataclass(frozen=True, slots=True)
class CompletionEvent:
    """One thing that happened to a Genesys conversation, as the dispatcher sees it.

    `conversation_id` is None only for Cognigy's data-action body, which identifies the handover
    by the customer id; `event_time` (epoch seconds) is None when the input carried no time."""

    kind: str
    source: str
    conversation_id: str | None = None
    customer_id: str | None = None
    disconnect_type: str | None = None
    event_time: float | None = None
    participant_id: str | None = None
    organization_id: str | None = None
    media_type: str | None = None
    message_type: str | None = None

    def is_open_messaging(self) -> bool:
        """True unless the input says it is another media / messaging type (absent = unknown)."""
        media_ok = self.media_type in (None, "", "MESSAGE")
        message_ok = self.message_type in (None, "", "OPEN")
        return media_ok and message_ok

    def describe(self) -> str:
        """A short log form without personal data."""
        return (
            f"{self.kind}/{self.source} conversation={self.conversation_id or '-'} "
            f"disconnect={self.disconnect_type or '-'}"
        )
