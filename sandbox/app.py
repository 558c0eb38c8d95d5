"""The sandbox Flask app factory and the `Sandbox` state object shared by every sandbox module.

Other modules reach the state with `current_app.extensions["sandbox"]` (a `Sandbox`):
`.config` (`SandboxConfig`), `.bus` (`sandbox.bus.EventBus`), `.faults` (`FaultRegistry`),
`.rate_limiter`, `.tokens`, `.store` (`sandbox.state.Store`: org, roles, clients, users, queues,
flows, integrations, conversations, messages; mutate only under `store.lock`), `.engine`
(conversation engine), `.webhooks` (outbound webhook dispatcher), `.media` (agent uploads), `.base_url` (set by
`SandboxServer` once serving, else derived from the first request) and `.add_closer(fn)` to have a
module's threads stopped by `Sandbox.close()` (called by `SandboxServer.stop()`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, Response, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException

from om_bridge.sandbox import auth, bus, faults, ratelimit
from om_bridge.sandbox.config import SandboxConfig
from om_bridge.sandbox.errors import error_body
from om_bridge.sandbox.seed import build_seed
from om_bridge.sandbox.state import Store

log = logging.getLogger(__name__)


class Sandbox:
    """App-lifetime state of one sandbox instance."""

    def __init__(self, config: SandboxConfig) -> None:
        from om_bridge.sandbox.engine import ConversationEngine
        from om_bridge.sandbox.webhooks import WebhookDispatcher

        self.config = config
        self.bus = bus.EventBus()
        self.faults = faults.FaultRegistry()
        for item in config.faults:
            self.faults.add(item)
        self.rate_limiter = ratelimit.RateLimiter(config.rate_limit_per_minute)
        self.tokens = auth.TokenStore()
        self.store = Store(build_seed(config.seed))
        self.base_url: str | None = None
        self.webhooks = WebhookDispatcher(self)
        self.engine = ConversationEngine(self)
        self._closers: list[Callable[[], None]] = []
        self._closed = False

    def add_closer(self, closer: Callable[[], None]) -> None:
        """Register a callback run by `close()` (e.g. a module stopping its own threads)."""
        self._closers.append(closer)

    @property
    def org_id(self) -> str:
        return self.store.org["id"]

    def close(self) -> None:
        """Stop background workers: registered closers first, then webhook delivery. Idempotent."""
        if self._closed:
            return
        self._closed = True
        for closer in reversed(self._closers):
            try:
                closer()
            except Exception:
                log.exception("sandbox closer failed")
        self.webhooks.close()


def create_app(config: SandboxConfig | dict | str | None = None) -> Flask:
    """Build the sandbox app: login host, API routes, admin routes, and the end-detection modules
    (notifications, EventBridge, data actions) and agent console registered through `init_app`."""
    from om_bridge.sandbox import (
        admin,
        console,
        conversations_api,
        dataactions,
        eventbridge,
        notifications,
        oauth,
        openmessaging,
        routing_api,
        users_api,
    )

    cfg = SandboxConfig.load(config)
    app = Flask(__name__)
    assert isinstance(app.json, DefaultJSONProvider)  # Flask's default json_provider_class
    app.json.sort_keys = False
    app.json.compact = True
    # Genesys `request.bytes.max`; also covers chunked bodies without Content-Length
    app.config["MAX_CONTENT_LENGTH"] = auth.MAX_REQUEST_BYTES
    sandbox = Sandbox(cfg)
    app.extensions["sandbox"] = sandbox
    auth.install(app)

    @app.before_request
    def _remember_base_url() -> None:
        if sandbox.base_url is None:
            sandbox.base_url = request.host_url.rstrip("/")

    for module in (oauth, admin, openmessaging, conversations_api, users_api, routing_api):
        module.init_app(app)
    for module in (notifications, eventbridge, dataactions, console):
        module.init_app(app)

    @app.errorhandler(404)
    def _not_found(_exc: HTTPException) -> Response:
        return error_body(404, "not.found")

    @app.errorhandler(405)
    def _not_allowed(_exc: HTTPException) -> Response:
        return error_body(405, "method.not.allowed")

    @app.errorhandler(413)
    def _too_large(_exc: HTTPException) -> Response:
        return error_body(
            413,
            "request.entity.too.large",
            f"The request is over the size limit. Maximum bytes: {auth.MAX_REQUEST_BYTES}",
        )

    return app
