"""The endpoint channel: Cognigy REST-format input, long-poll / SSE outputs, the webchat page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import Flask

from om_bridge.bridge.endpoint.hub import OutputHub

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
    from om_bridge.bridge.endpoint.ratelimit import InputRateLimiter

    app.extensions[EXTENSION] = deps
    per_minute = deps.config.bridge.input_rate_per_minute
    app.extensions[routes.RATE_LIMIT_EXTENSION] = InputRateLimiter(per_minute, clock)
    app.register_blueprint(routes.bp)
    app.register_blueprint(uploads.bp)
    app.register_blueprint(webchat.bp)


__all__ = ["EXTENSION", "EndpointDeps", "OutputHub", "init_app"]
