"""The narrow ports the handover core works through, each given in a constructor by the
composition root (`bridge/compose.py`). The core imports these protocols, never the adapters
that implement them (the output hub, completion detection)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from om_bridge.bridge.flow import Output, SessionState
    from om_bridge.bridge.handover.events import BotMessage
    from om_bridge.bridge.store import Handover, InboundCompletion, SessionKey


class Outputs(Protocol):
    """Where the session's outputs go (the output hub: store, SSE, long-poll, callback URL).
    `receipt` names the agent message whose Delivered/Failed receipt waits for a Cognigy Notify."""

    def emit(
        self,
        session_key: SessionKey,
        output: dict[str, Any],
        *,
        receipt: Mapping[str, Any] | None = None,
    ) -> int: ...


class FlowHost(Protocol):
    """Where a session's flow runs, chosen per endpoint: the bridge's own flow runtime
    (`bridge/handover/local_flow.py`) or a Cognigy flow reached through Inject/Notify
    (`bridge/cognigy/flow.py`)."""

    def handover_event(
        self, handover: Handover, event: dict[str, Any], data: dict[str, Any] | None
    ) -> None:
        """Hand a handover event (queue / active, ...) to the session's flow."""

    def ended(
        self, key: SessionKey, state: SessionState, event: dict[str, Any]
    ) -> tuple[list[Output], SessionState]:
        """The handover ended with outcome `event`: resume the flow (session lock held);
        the outputs for the user that the resumed flow said."""

    def bot_message(
        self, handover: Handover, event: BotMessage, completion: InboundCompletion | None
    ) -> None:
        """A Genesys bot message, into the flow (its webhook retired with it)."""

    def deliver(
        self,
        handover: Handover,
        output: dict[str, Any],
        receipt: Mapping[str, Any],
        completion: InboundCompletion | None,
    ) -> bool:
        """Show an agent output (its webhook retired with it); True when its Delivered
        receipt is due now, False when the host sends it once the user has it."""


class ConversationWatch(Protocol):
    """Completion detection, as the core sees it: watch a handover's conversation."""

    def track(self, handover: Handover) -> None: ...

    def conversation_changed(self, handover: Handover, old_conversation_id: str | None) -> None: ...

    def untrack(self, handover: Handover) -> None: ...


def iso_now(clock: Callable[[], float]) -> str:
    """ISO-8601 UTC with milliseconds and `Z` (the format Genesys uses, so times read alike)."""
    return (
        datetime.fromtimestamp(clock(), UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )
