"""Handover completion detection (docs/design.md §7): EventBridge events, Triggers + Web Services Data
Actions, and the Notifications API WebSocket, all turned into one internal event that a single
dispatcher decides on."""

from __future__ import annotations

from typing import Any

from .dispatcher import CompletionDispatcher, Decision
from .events import CompletionEvent
from .listener import ListenerSettings, NotificationsListener, TopicBudgetExceeded
from .service import CompletionService, CompletionSettings
from .wiring import WiringCheck, wiring_status


def init_app(app: Any, completion: CompletionService) -> None:
    """Register `POST /handover/genesysCloudOM/eventbridge`, answered by `completion`."""
    from .eventbridge import EXTENSION, bp

    app.extensions[EXTENSION] = completion
    app.register_blueprint(bp)


__all__ = [
    "CompletionDispatcher",
    "CompletionEvent",
    "CompletionService",
    "CompletionSettings",
    "Decision",
    "ListenerSettings",
    "NotificationsListener",
    "TopicBudgetExceeded",
    "WiringCheck",
    "init_app",
    "wiring_status",
]
