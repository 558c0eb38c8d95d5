"""Sandbox EventBridge output: conversation detail events delivered as EventBridge envelopes to a
configured API destination (section `[eventbridge]`, see `settings.py`; admin routes in
`routes.py`). `outbound.OutboundWorker` is also the data-action deliverer."""

from __future__ import annotations

from flask import Flask

from om_bridge.sandbox.notifications.lifecycle import on_close

from .destination import EventBridgeDestination
from .envelope import build_envelope, topic_pattern
from .settings import EventBridgeSettings

__all__ = [
    "EventBridgeDestination",
    "EventBridgeSettings",
    "build_envelope",
    "init_app",
    "topic_pattern",
]


def init_app(app: Flask) -> None:
    """Register the EventBridge output on the sandbox app."""
    from .routes import bp

    state = app.extensions["sandbox"]
    settings = EventBridgeSettings.from_section(state.config.sections.get("eventbridge"))
    dest = EventBridgeDestination(settings, state.faults, lambda: state.org_id)
    app.extensions["sandbox.eventbridge"] = dest
    state.bus.subscribe(dest.on_event)
    on_close(state, dest.close)
    app.register_blueprint(bp)
