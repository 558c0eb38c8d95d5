"""Sandbox Notifications API: channels and topic subscriptions over REST, the channel WebSocket,
and admin routes to force `socket_closing`, dropped sockets and expiry.

Configured by the `[notifications]` section (see `settings.py`). `init_app` subscribes the hub to
the sandbox bus, so every topic the conversation engine publishes reaches subscribed sockets.
"""

from __future__ import annotations

from flask import Flask

from .hub import NotificationHub, event_frame
from .lifecycle import on_close
from .settings import NotificationSettings

__all__ = ["NotificationHub", "NotificationSettings", "event_frame", "init_app"]


def init_app(app: Flask) -> None:
    """Register the Notifications API on the sandbox app (needs `app.extensions["sandbox"]`)."""
    from .routes import bp

    state = app.extensions["sandbox"]
    settings = NotificationSettings.from_section(state.config.sections.get("notifications"))
    hub = NotificationHub(settings, faults=state.faults)
    app.extensions["sandbox.notifications"] = hub
    state.bus.subscribe(hub.on_event)
    on_close(state, hub.close)
    app.register_blueprint(bp)
