"""The bridge's Flask app factory (`create_app`): settings, the store, the object graph built by
the composition root (`bridge/compose.py`), the routes and the one error handler."""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from flask import Flask, Response, g, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException

from om_bridge.bridge import messages
from om_bridge.bridge.compose import Bridge, build
from om_bridge.bridge.config import Config, ConfigError, Secret, load_config
from om_bridge.bridge.config.model import MIN_WEBHOOK_SECRET_LENGTH
from om_bridge.bridge.errors import BridgeError, error_response
from om_bridge.bridge.flags import Flags
from om_bridge.bridge.genesys.clients import ClientRegistry
from om_bridge.bridge.genesys.clients import reveal as _reveal
from om_bridge.bridge.logs import redaction_filter, setup_logging
from om_bridge.bridge.retention import apply_retention
from om_bridge.bridge.store import (
    StoreError,
    StoreUnavailable,
    check_store_available,
    open_store,
    sqlite_path,
    unreachable,
)

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)
DEFAULT_CONFIG = "om-bridge.toml"
CONFIG_ENV = "OM_BRIDGE_CONFIG"
# What a 503 for an unreachable store tells the client to wait before trying again.
STORE_RETRY_AFTER_SECONDS = 5


class StartupError(ConfigError):
    """The bridge must not start: the message says what to fix."""


def collect_secrets(obj: Any, _seen: set[int] | None = None) -> list[str]:
    """Every `Secret` value reachable from `obj` (dataclasses, mappings, sequences, attributes)."""
    seen = _seen if _seen is not None else set()
    if id(obj) in seen or obj is None or isinstance(obj, (str, bytes, int, float, bool)):
        return []
    seen.add(id(obj))
    if isinstance(obj, Secret):
        return [obj.reveal()] if obj.reveal() else []
    if isinstance(obj, Mapping):
        children = list(obj.values())
    elif isinstance(obj, (list, tuple, set, frozenset)):
        children = list(obj)
    elif dataclasses.is_dataclass(obj):
        children = [getattr(obj, f.name) for f in dataclasses.fields(obj)]
    elif hasattr(obj, "__dict__"):
        children = list(vars(obj).values())
    else:
        return []
    found: list[str] = []
    for child in children:
        found.extend(collect_secrets(child, seen))
    return found


def check_startup(config: Config, flags: Flags) -> None:
    """Production-safety checks beyond the schema: every provider secret set; the EventBridge key when needed.

    There is deliberately no setting that turns webhook signature verification off.
    """
    try:  # before forking workers: the Redis store needs the `redis` extra installed
        check_store_available(config.bridge.store)
    except StoreError as exc:
        raise StartupError(messages.STORE_OPEN_FAILED.format(error=exc)) from None
    for pid, p in config.providers.items():
        for key, secret in (
            ("client_secret", p.client_secret),
            ("webhook_secret", p.webhook_secret),
        ):
            if not _reveal(secret):
                raise StartupError(messages.MISSING_PROVIDER_SECRET.format(provider=pid, key=key))
        length = len(_reveal(p.webhook_secret))
        if length < MIN_WEBHOOK_SECRET_LENGTH:
            raise StartupError(
                messages.SHORT_WEBHOOK_SECRET.format(
                    provider=pid, minimum=MIN_WEBHOOK_SECRET_LENGTH, length=length
                )
            )
    check_flows(config)
    if flags.use_http_end_handover_request and not _reveal(flags.eventbridge_api_key):
        users = [pid for pid, p in config.providers.items() if p.completion_mode == "eventbridge"]
        raise StartupError(
            messages.MISSING_EVENTBRIDGE_KEY.format(provider=", ".join(users) or "*")
        )


def check_flows(config: Config) -> None:
    """Every endpoint's flow loads and every node config in it validates; else a StartupError
    naming the endpoint (and the node), instead of a failure on every message later."""
    from om_bridge.bridge.flow import ChartError, config_problems, load_chart

    problems = []
    for index, (token, endpoint) in enumerate(config.endpoints.items()):
        try:
            chart = load_chart(endpoint.flow)
        except (ChartError, OSError) as exc:
            problems.append(
                messages.ENDPOINT_FLOW_FAILED.format(index=index, endpoint=token, error=exc)
            )
            continue
        for problem in config_problems(chart):
            problems.append(
                messages.ENDPOINT_FLOW_FAILED.format(
                    index=index, endpoint=token, error=f"flow {endpoint.flow!r}: {problem}"
                )
            )
    if problems:
        raise StartupError("; ".join(problems))


def load_settings(
    test_config: Mapping[str, Any] | None = None,
) -> tuple[Config, Flags, Mapping[str, str]]:
    """Config + flags as `create_app` resolves them (also used by `serve` to fail fast before forking)."""
    tc = dict(test_config or {})
    given_environ = tc.get("environ")
    environ: Mapping[str, str] = given_environ if given_environ is not None else os.environ
    path = tc.get("config_path") or environ.get(CONFIG_ENV) or None
    config = load_config(path, environ=environ, overrides=tc.get("config"))
    try:
        flags = Flags.from_config(config, environ)
    except ValueError as exc:
        raise StartupError(messages.BAD_FLAGS.format(error=exc)) from None
    check_startup(config, flags)
    return config, flags, environ


def ensure_store_dir(store_url: str) -> None:
    """Create the directory of a SQLite store file (the data dir) when missing."""
    if not store_url.startswith("sqlite://"):
        return
    try:
        file = sqlite_path(store_url)
    except StoreError as exc:
        raise StartupError(str(exc)) from None
    if file == ":memory:":
        return
    path = Path(file)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StartupError(messages.STORE_DIR_FAILED.format(path=path.parent, error=exc)) from None


def configure_logging(config: Config, flags: Flags, stream: TextIO | None = None) -> None:
    """For entry points only (`serve`, `demo`, `listener`): the root logger at the configured
    level with one handler whose filter masks every secret of `config` and `flags`.

    `create_app` never calls this, so an application embedding the bridge keeps its own logging;
    it adds `om_bridge.bridge.logs.redaction_filter()` to its handlers to get the same masking.
    """
    setup_logging(
        config.bridge.log_level or "INFO",
        collect_secrets(config) + collect_secrets(flags),
        stream=stream,
        log_format=config.bridge.log_format or "text",
    )


def create_app(test_config: dict | None = None) -> Flask:
    """Build the bridge app (Flask tutorial style); raises `ConfigError`/`StartupError` naming what to fix.

    `test_config` keys: `config_path`, `config` (dict merged over the file), `environ` (instead of
    os.environ), `start_workers` (default True), `sse_keepalive` (seconds).

    The factory changes no process-wide state: it does not configure logging (entry points call
    `configure_logging`) and registers no exit handler (whoever creates the app stops it with
    `shutdown(app)`; under `om-bridge serve` gunicorn's `worker_exit` hook does). It only adds the
    configuration's secrets to the redaction filter, `om_bridge.bridge.logs.redaction_filter()`.
    """
    tc = dict(test_config or {})
    config, flags, _environ = load_settings(tc)
    redaction_filter().add_secrets(collect_secrets(config) + collect_secrets(flags))
    ensure_store_dir(config.bridge.store)
    try:
        store = open_store(config.bridge.store)
    except StoreError as exc:
        raise StartupError(messages.STORE_OPEN_FAILED.format(error=exc)) from None
    clock = tc.get("clock", time.time)
    apply_retention(store, config.bridge)
    try:
        bridge = build(config, flags, store, clock)
    except Exception:
        store.close()
        raise
    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.config["SSE_KEEPALIVE_SECONDS"] = float(tc.get("sse_keepalive", 15.0))
    assert isinstance(app.json, DefaultJSONProvider)  # Flask's default json_provider_class
    app.json.sort_keys = False
    app.extensions["om-bridge"] = bridge
    try:
        _routes(app, bridge)
    except Exception:
        bridge.close()
        raise
    if tc.get("start_workers", True):
        bridge.workers.start()
    return app


def _routes(app: Flask, bridge: Bridge) -> None:
    """Register every blueprint with the objects it works with (and nothing else)."""
    from om_bridge.bridge import completion, endpoint, limits, ops, webhooks

    ops.init_app(app, bridge.metrics, bridge.readiness)
    endpoint.init_app(
        app,
        endpoint.EndpointDeps(bridge.config, bridge.engine, bridge.outputs, bridge.store),
        bridge.clock,
    )
    webhooks.init_app(
        app,
        webhooks.WebhookDeps(
            bridge.config, bridge.engine, bridge.completion, bridge.metrics, bridge.clock
        ),
    )
    completion.init_app(app, bridge.completion)
    _extension_route(app, bridge)
    limits.init_app(app)
    _error_handlers(app)


def _extension_route(app: Flask, bridge: Bridge) -> None:
    """Serve the om-bridge Cognigy extension's node calls, only when an API key protects them.

    The extension's nodes run in Cognigy: the Handover node's request starts a handover for the
    Cognigy session through the engine (`[[cognigy_endpoints]]`), the Relay node's inputs reach
    the agent (docs/design.md §12).
    """
    key = bridge.config.bridge.extension_api_key
    if key is None or not key.reveal():
        if bridge.config.cognigy_endpoints:
            log.warning(messages.EXTENSION_KEY_MISSING)
        return
    from om_bridge.bridge.cognigy.remote import blueprint

    hosted = bridge.engine.hosted
    app.register_blueprint(
        blueprint(api_key=key.reveal(), on_handover=hosted.start, on_relay=hosted.relay)
    )


def _error_handlers(app: Flask) -> None:
    """One handler for every route: a `BridgeError` (or a werkzeug HTTP error, or an unreachable
    store) becomes the one JSON error body `{"error": code, "message": ..., ...extra}`."""

    @app.errorhandler(BridgeError)
    def _bridge(exc: BridgeError) -> Response:
        return error_response(exc)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        from om_bridge.bridge.limits import too_large_message

        message = too_large_message() if exc.code == 413 else exc.description or exc.name
        code = (exc.name or "error").lower().replace(" ", "_")
        return error_response(BridgeError(message, status=exc.code or 500, code=code))

    @app.errorhandler(Exception)
    def _unhandled(exc: Exception) -> Response:
        rid = g.get("request_id", "-")
        if unreachable(exc):
            # One line, no traceback: the store being down is an outage, not a bug.
            log.warning(
                messages.LOG_STORE_UNAVAILABLE,
                request.method,
                request.path,
                rid,
                type(exc).__name__,
            )
            seconds = STORE_RETRY_AFTER_SECONDS
            return error_response(
                StoreUnavailable(
                    messages.STORE_UNAVAILABLE.format(seconds=seconds, request_id=rid),
                    headers={"Retry-After": str(seconds)},
                )
            )
        log.exception(messages.LOG_UNHANDLED, request.method, request.path)
        return error_response(
            BridgeError(
                messages.INTERNAL_ERROR.format(request_id=rid), status=500, code="internal_error"
            )
        )


def shutdown(app: Flask) -> None:
    """Stop an app made by `create_app` (workers, outputs, clients, store)."""
    app.extensions["om-bridge"].close()


__all__ = [
    "Bridge",
    "ClientRegistry",
    "StartupError",
    "configure_logging",
    "create_app",
    "redaction_filter",
    "shutdown",
]
