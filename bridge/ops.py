"""Operator routes (/healthz, /readyz, /metrics), request ids and the Prometheus `Metrics` wrapper."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from prometheus_client import (
    CONTENT_TYPE_LATEST,
)

from om_bridge.bridge import messages
from om_bridge.bridge.logs import redaction_filter, request_id_var
from om_bridge.bridge.metrics import HTTP_METHODS, Metrics, bounded, status_label

if TYPE_CHECKING:
    from om_bridge.bridge.completion import CompletionService
    from om_bridge.bridge.config import Config
    from om_bridge.bridge.genesys.clients import ClientRegistry
    from om_bridge.bridge.store import Store

METRICS_EXTENSION = "om-bridge.metrics"
READY_CACHE_SECONDS = 5.0
# Genesys counts as reachable this long after it last answered a call; past it, one probe.
READY_RECENT_SECONDS = 30.0
# A notifications socket may be down this long (reconnecting) before the bridge is not ready.
LISTENER_GRACE_SECONDS = 20.0


class Readiness:
    """Readiness: the store answers, each provider's Genesys answered recently, and each
    notifications listener this process leads has its sockets open.

    Genesys reachability is read from the outcome of the calls the bridge makes anyway
    (`GenesysClient.reachability`): a failure newer than the last success is "not ready" at once;
    a success within `recent` seconds is "ready" with no call; only when Genesys has not been
    called for `recent` seconds does a probe make one light call. Results are cached `ttl` seconds.
    """

    def __init__(
        self,
        store: Store,
        config: Config,
        clients: ClientRegistry,
        completion: CompletionService | None,
        ttl: float = READY_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        recent: float = READY_RECENT_SECONDS,
        listener_grace: float = LISTENER_GRACE_SECONDS,
    ) -> None:
        self._store, self._config, self._clients = store, config, clients
        self._completion = completion
        self.ttl, self._clock = ttl, clock
        self.recent, self.listener_grace = recent, listener_grace
        self._lock = threading.Lock()
        self._cached: tuple[float, list[dict]] | None = None

    def checks(self) -> list[dict]:
        """`[{name, ok, detail}]`, recomputed at most once per `ttl` seconds (one caller at a time)."""
        with self._lock:
            now = self._clock()
            if self._cached and now - self._cached[0] < self.ttl:
                return self._cached[1]
            result = self._run()
            self._cached = (self._clock(), result)
            return result

    def _run(self) -> list[dict]:
        results = []
        try:
            ok = bool(self._store.ping())
        except Exception:
            ok = False
        results.append(
            {
                "name": "store",
                "ok": ok,
                "detail": messages.READY_OK if ok else messages.READY_STORE_FAILED,
            }
        )
        for provider_id in self._config.providers:
            ok, detail = self._provider(provider_id)
            results.append({"name": f"provider:{provider_id}", "ok": ok, "detail": detail})
        completion = self._completion
        for listener in (getattr(completion, "listeners", None) or {}).values():
            health = listener.health()
            down = health["leader"] and health["down_seconds"] > self.listener_grace
            detail = messages.READY_LISTENER.format(
                role="leader" if health["leader"] else "standby",
                open=health["open"],
                channels=health["channels"],
            )
            if down:
                detail += messages.READY_LISTENER_DOWN.format(seconds=int(health["down_seconds"]))
            results.append(
                {"name": f"listener:{listener.client_id}", "ok": not down, "detail": detail}
            )
        return results

    def _provider(self, provider_id: str) -> tuple[bool, str]:
        try:
            client = self._clients.for_provider(provider_id)
            seen = client.reachability
            now = seen.clock()
            failed_last = seen.last_failure is not None and (
                seen.last_ok is None or seen.last_failure >= seen.last_ok
            )
            if failed_last and now - seen.last_failure < self.recent:
                return False, self._failed(provider_id, seen.failure)
            if not failed_last and seen.last_ok is not None and now - seen.last_ok < self.recent:
                return True, messages.READY_OK
            try:
                client.probe()
            except Exception as exc:
                if seen.last_failure is not None and (
                    seen.last_ok is None or seen.last_failure >= seen.last_ok
                ):
                    return False, self._failed(provider_id, exc)
                # Genesys answered (e.g. 403 for a permission this call needs): reachable.
            return True, messages.READY_OK
        except Exception as exc:
            return False, self._failed(provider_id, exc)

    @staticmethod
    def _failed(provider_id: str, error: object) -> str:
        return redaction_filter().redact(
            messages.READY_PROVIDER_FAILED.format(provider=provider_id, error=error)
        )


bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    checks = current_app.extensions["om-bridge.readiness"].checks()
    failing = [c["name"] for c in checks if not c["ok"]]
    body = {"status": "unavailable" if failing else "ready", "failing": failing, "checks": checks}
    return jsonify(body), 503 if failing else 200


@bp.get("/metrics")
def metrics() -> ResponseReturnValue:
    # `content_type`, not `mimetype`: CONTENT_TYPE_LATEST already names its charset, and
    # Flask adds a second one to a mimetype (Prometheus may refuse that header).
    return Response(
        current_app.extensions[METRICS_EXTENSION].render(), content_type=CONTENT_TYPE_LATEST
    )


def init_app(app: Flask, metrics: Metrics, readiness: Readiness) -> None:
    """Register the ops routes, request ids and the per-request metrics."""
    app.extensions["om-bridge.readiness"] = readiness
    app.extensions[METRICS_EXTENSION] = metrics
    app.register_blueprint(bp)
    requests_total = metrics.counter(
        "http_requests_total", "HTTP requests served", ["route", "method", "status"]
    )
    latency = metrics.histogram(
        "http_request_seconds",
        "HTTP request latency",
        ["route", "method"],
        buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    )

    @app.before_request
    def _start() -> None:
        # Accept a caller's id (a proxy's X-Request-Id) when it is sane, else make one.
        incoming = request.headers.get("X-Request-Id", "")
        rid = (
            incoming
            if 0 < len(incoming) <= 64 and incoming.isprintable()
            else uuid.uuid4().hex[:16]
        )
        g.request_id = rid
        g.request_started = time.perf_counter()
        g.request_id_token = request_id_var.set(rid)

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers["X-Request-Id"] = g.get("request_id", "-")
        # The route pattern, never the concrete path: paths carry user and session ids.
        route = request.url_rule.rule if request.url_rule else "unmatched"
        method = bounded(request.method, HTTP_METHODS)
        requests_total.labels(route, method, status_label(response.status_code)).inc()
        started = g.get("request_started")
        if started is not None:
            latency.labels(route, method).observe(time.perf_counter() - started)
        return response

    @app.teardown_request
    def _reset(_exc: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            try:
                request_id_var.reset(token)
            except ValueError:  # streamed responses finish in another context
                pass
