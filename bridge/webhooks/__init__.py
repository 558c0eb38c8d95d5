"""The Genesys Open Messaging outbound webhook route (`POST /handover/genesysCloudOM`)."""

from __future__ import annotations

from flask import Flask

from om_bridge.bridge.webhooks.routes import (
    MAX_BODY_BYTES,
    bp,
    verifying_provider,
)


def init_app(app: Flask) -> None:
    """Register the webhook route on the bridge app."""
    app.register_blueprint(bp)


__all__ = ["MAX_BODY_BYTES", "init_app", "verifying_provider"]
