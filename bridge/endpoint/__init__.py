"""The endpoint channel: Cognigy REST-format input, long-poll / SSE outputs, the webchat page."""

from __future__ import annotations

from collections.abc import Sequence

from flask import Flask

from om_bridge.bridge.endpoint.hub import OutputHub
from om_bridge.bridge.endpoint.ratelimit import Trusted


def init_app(app: Flask) -> None:
    """Register the endpoint routes and the webchat page."""
    from om_bridge.bridge.endpoint import routes, uploads, webchat
    from om_bridge.bridge.endpoint.ratelimit import InputRateLimiter, NewSessionGate

    ctx = app.extensions["om-bridge"]
    settings = ctx.config.bridge
    per_minute = int(getattr(settings, "input_rate_per_minute", 0) or 0)
    app.extensions[routes.RATE_LIMIT_EXTENSION] = InputRateLimiter(per_minute, ctx.clock)
    app.extensions[routes.NEW_SESSIONS_EXTENSION] = NewSessionGate(
        ctx.store,
        per_address=settings.new_sessions_per_minute_per_address,
        per_endpoint=settings.new_sessions_per_minute_per_endpoint,
        max_without_handover=settings.max_sessions_without_handover,
        trusted=trusted_proxies(settings.trusted_proxies),
    )
    app.register_blueprint(routes.bp)
    app.register_blueprint(uploads.bp)
    app.register_blueprint(webchat.bp)


def trusted_proxies(entries: Sequence[str]) -> Trusted:
    """`[bridge] trusted_proxies` as networks; ConfigError naming an entry that is none."""
    from om_bridge.bridge.config import ConfigError

    for i, entry in enumerate(entries):
        try:
            Trusted([entry])
        except ValueError as exc:
            raise ConfigError(f"bridge.trusted_proxies[{i}]: {exc}") from None
    return Trusted(entries)


__all__ = ["OutputHub", "init_app"]
