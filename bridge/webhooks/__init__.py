"""The Genesys Open Messaging outbound webhook route (`POST /handover/genesysCloudOM`)."""

from __future__ import annotations

from flask import Flask

from om_bridge.bridge.webhooks.routes import (
    EXTENSION,
    MAX_BODY_BYTES,
    WebhookDeps,
    bp,
    verifying_provider,
)


def init_app(app: Flask, deps: WebhookDeps) -> None:
    """Register the webhook route on the bridge app, working with `deps`."""
    app.extensions[EXTENSION] = deps
    app.register_blueprint(bp)


__all__ = ["MAX_BODY_BYTES", "WebhookDeps", "init_app", "verifying_provider"]
