"""The bridge's Flask app factory (`create_app`) and the app-lifetime objects it wires (`BridgeContext`)."""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from flask import Flask, Response, g, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException

from om_bridge.bridge import messages
from om_bridge.bridge.config import Config, ConfigError, Secret, load_config
from om_bridge.bridge.config.model import MIN_WEBHOOK_SECRET_LENGTH
from om_bridge.bridge.endpoint.hub import OutputHub
from om_bridge.bridge.errors import BridgeError, error_response
from om_bridge.bridge.flags import Flags
from om_bridge.bridge.genesys.client import GenesysClient
from om_bridge.bridge.logs import redaction_filter, setup_logging
from om_bridge.bridge.ops import Metrics
from om_bridge.bridge.retention import RetentionSweeper, apply_retention
from om_bridge.bridge.store import (
    Store,
    StoreError,
    StoreUnavailable,
    check_store_available,
    open_store,
    sqlite_path,
    unreachable,
)

if TYPE_CHECKING:
    from om_bridge.bridge.completion import CompletionService
    from om_bridge.bridge.handover.engine import HandoverEngine

log = logging.getLogger(__name__)
DEFAULT_CONFIG = "om-bridge.toml"
CONFIG_ENV = "OM_BRIDGE_CONFIG"
# What a 503 for an unreachable store tells the client to wait before trying again.
STORE_RETRY_AFTER_SECONDS = 5


class StartupError(ConfigError):
    """The bridge must not start: the message says what to fix."""


class ClientRegistry:
    """One `GenesysClient` per handover provider, built on first use (thread-safe)."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self._clients: dict[str, GenesysClient] = {}
        self._lock = threading.Lock()

    def for_provider(self, provider_id: str) -> GenesysClient:
        """The provider's client; raises the configuration's error for an unknown provider id."""
        with self._lock:
            client = self._clients.get(provider_id)
            if client is None:
                p = self._config.provider(provider_id)
                client = GenesysClient(
                    p.host or None,
                    p.client_id,
                    _reveal(p.client_secret),
                    base_url=p.base_url or None,
                )
                self._clients[provider_id] = client
            return client

    def close(self) -> None:
        """Close every client's connection pool."""
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()


@dataclass
class BridgeContext:
    """Everything that lives as long as the app: config, flags, store, clients, outputs, engine, metrics."""

    config: Config
    flags: Flags
    store: Store
    clients: ClientRegistry
    outputs: OutputHub
    engine: HandoverEngine
    completion: CompletionService | None
    metrics: Metrics
    clock: Callable[[], float] = time.time
    sweeper: RetentionSweeper | None = None
    _closed: bool = field(default=False, repr=False)
    _close_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def close(self) -> None:
        """Stop the workers, drain outputs, close clients and the store; safe to call twice."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        for stop in (
            getattr(self.completion, "stop", None),
            getattr(self.engine, "stop", None),
            getattr(self.sweeper, "stop", None),
        ):
            if stop is not None:
                try:
                    stop()
                except Exception:
                    log.exception("stopping %s failed", stop)
        self.outputs.close()
        self.clients.close()
        self.store.close()


def _reveal(value: Any) -> str:
    if value is None:
        return ""
    return value.reveal() if isinstance(value, Secret) else str(value)


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
        for key in ("client_secret", "webhook_secret"):
            if not _reveal(getattr(p, key, None)):
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
        getattr(config.bridge, "log_level", "INFO") or "INFO",
        collect_secrets(config) + collect_secrets(flags),
        stream=stream,
        log_format=getattr(config.bridge, "log_format", "text") or "text",
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
    metrics = Metrics()
    clock = tc.get("clock", time.time)
    apply_retention(store, config.bridge)
    ctx = BridgeContext(
        config=config,
        flags=flags,
        store=store,
        clients=ClientRegistry(config),
        outputs=OutputHub(store, config, metrics, clock),
        engine=None,  # type: ignore[arg-type]
        completion=None,
        metrics=metrics,
        clock=clock,
    )

    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.config["SSE_KEEPALIVE_SECONDS"] = float(tc.get("sse_keepalive", 15.0))
    assert isinstance(app.json, DefaultJSONProvider)  # Flask's default json_provider_class
    app.json.sort_keys = False
    app.extensions["om-bridge"] = ctx
    try:
        _wire(app, ctx)
    except Exception:
        ctx.close()
        raise
    if tc.get("start_workers", True):
        ctx.sweeper = RetentionSweeper(
            store, metrics, float(getattr(config.bridge, "sweep_interval_seconds", 300.0)), clock
        )
        ctx.sweeper.start()
        ctx.engine.start()
        if ctx.completion is not None:
            ctx.completion.start()
    return app


def _wire(app: Flask, ctx: BridgeContext) -> None:
    # Imported here: each subsystem imports BridgeContext from this module.
    from om_bridge.bridge import completion, endpoint, limits, ops, webhooks
    from om_bridge.bridge.handover.engine import HandoverEngine

    ctx.engine = HandoverEngine(ctx)
    ops.init_app(app, ctx)
    endpoint.init_app(app)
    webhooks.init_app(app)
    completion.init_app(app)
    _extension_route(app, ctx)
    limits.init_app(app)
    _error_handlers(app)


def _extension_route(app: Flask, ctx: BridgeContext) -> None:
    """Serve the om-bridge Cognigy extension's node calls, only when an API key protects them.

    The extension's nodes run in Cognigy: the Handover node's request starts a handover for the
    Cognigy session through the engine (`[[cognigy_endpoints]]`), the Relay node's inputs reach
    the agent (docs/design.md §12).
    """
    key = ctx.config.bridge.extension_api_key
    if key is None or not key.reveal():
        if ctx.config.cognigy_endpoints:
            log.warning(messages.EXTENSION_KEY_MISSING)
        return
    from om_bridge.extension.remote import blueprint

    hosted = ctx.engine.hosted
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
    "BridgeContext",
    "ClientRegistry",
    "StartupError",
    "configure_logging",
    "create_app",
    "redaction_filter",
    "shutdown",
]
