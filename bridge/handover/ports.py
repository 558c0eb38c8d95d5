"""The narrow ports the handover core works through, each given in a constructor by the
composition root (`bridge/compose.py`). The core imports these protocols, never the adapters
that implement them (the output hub, completion detection)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable

    from om_bridge.bridge.store import Handover, SessionKey


class Outputs(Protocol):
    """Where the session's outputs go (the output hub: store, SSE, long-poll, callback URL)."""

    def emit(self, session_key: SessionKey, output: dict[str, Any]) -> int: ...


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
