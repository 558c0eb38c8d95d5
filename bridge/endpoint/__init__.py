"""The endpoint channel: Cognigy REST-format input, long-poll / SSE outputs, the webchat page."""

from __future__ import annotations

from flask import Flask

from om_bridge.bridge.endpoint.hub import OutputHub


def init_app(app: Flask) -> None:
    """Register the endpoint routes and the webchat page."""
    from om_bridge.bridge.endpoint import routes, uploads, webchat
    from om_bridge.bridge.endpoint.ratelimit import InputRateLimiter

    ctx = app.extensions["om-bridge"]
    per_minute = int(getattr(ctx.config.bridge, "input_rate_per_minute", 0) or 0)
    app.extensions[routes.RATE_LIMIT_EXTENSION] = InputRateLimiter(per_minute, ctx.clock)
    app.register_blueprint(routes.bp)
    app.register_blueprint(uploads.bp)
    app.register_blueprint(webchat.bp)


__all__ = ["OutputHub", "init_app"]
