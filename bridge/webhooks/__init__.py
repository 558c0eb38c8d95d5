"""The Genesys Open Messaging outbound webhook route (`POST /handover/genesysCloudOM`)."""

from __future__ import annotations

from flask import Flask

from om_bridge.bridge.webhooks.reorder import ReorderBuffer
from om_bridge.bridge.webhooks.routes import (
    MAX_BODY_BYTES,
    REORDER_EXTENSION,
    bp,
    verifying_provider,
)


def init_app(app: Flask) -> None:
    """Register the webhook route on the bridge app, with its reorder buffer."""
    ctx = app.extensions["om-bridge"]
    window_ms = getattr(ctx.config.bridge, "webhook_reorder_window_ms", 0) or 0
    app.extensions[REORDER_EXTENSION] = ReorderBuffer(window_ms / 1000.0, ctx.clock)
    app.register_blueprint(bp)


__all__ = ["MAX_BODY_BYTES", "init_app", "verifying_provider"]
