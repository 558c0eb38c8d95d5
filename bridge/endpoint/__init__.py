"""The endpoint channel: Cognigy REST-format input, long-poll / SSE outputs, the webchat page."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import Flask

from om_bridge.bridge.endpoint.hub import OutputHub
from om_bridge.bridge.endpoint.ratelimit import Trusted

if TYPE_CHECKING:
    from om_bridge.bridge.config import Config
    from om_bridge.bridge.handover.engine import HandoverEngine
    from om_bridge.bridge.store import Store

EXTENSION = "om-bridge.endpoint"


@dataclass(frozen=True)
class EndpointDeps:
    """What the endpoint routes work with, given by the composition root (`init_app`)."""

    config: Config
    engine: HandoverEngine
    outputs: OutputHub
    store: Store


def init_app(app: Flask, deps: EndpointDeps, clock: Callable[[], float]) -> None:
    """Register the endpoint routes and the webchat page, working with `deps`."""
    from om_bridge.bridge.endpoint import routes, uploads, webchat
    from om_bridge.bridge.endpoint.ratelimit import InputRateLimiter, NewSessionGate

    app.extensions[EXTENSION] = deps
    settings = deps.config.bridge
    app.extensions[routes.RATE_LIMIT_EXTENSION] = InputRateLimiter(
        settings.input_rate_per_minute, clock
    )
    app.extensions[routes.NEW_SESSIONS_EXTENSION] = NewSessionGate(
        deps.store,
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


__all__ = ["EXTENSION", "EndpointDeps", "OutputHub", "init_app"]
