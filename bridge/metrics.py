"""`Metrics`: the app's Prometheus registry, and the helpers that keep label values bounded."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from om_bridge.bridge.logs import redaction_filter

PREFIX = "om_bridge_"
# Label values are a fixed set: anything else a client can send (an invented HTTP method, a
# provider's status string) is counted as OTHER, so the number of series stays bounded.
OTHER = "other"
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def bounded(value: object, allowed: frozenset[str] | set[str]) -> str:
    """`value` as a metric label when it is one of `allowed`, else "other"."""
    text = str(value)
    return text if text in allowed else OTHER


def status_label(status: object) -> str:
    """An HTTP status as a label: the three digits of 100–599, else "other"."""
    try:
        code = int(str(status))
    except ValueError:
        return OTHER
    return str(code) if 100 <= code <= 599 else OTHER


class Metrics:
    """One Prometheus registry per app; `counter`/`histogram`/`gauge` get-or-create by name.

    Names get the `om_bridge_` prefix when they lack it. Label values must never carry secrets or
    user text: callers pass routes, statuses and kinds only.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._lock = threading.Lock()
        self._metrics: dict[str, object] = {}

    def _get(self, kind: type, name: str, documentation: str, labelnames: Sequence[str], **kw):
        full = name if name.startswith(PREFIX) else PREFIX + name
        with self._lock:
            metric = self._metrics.get(full)
            if metric is None:
                metric = kind(
                    full, documentation or full, list(labelnames), registry=self.registry, **kw
                )
                self._metrics[full] = metric
            elif not isinstance(metric, kind):
                raise ValueError(f"metric {full} already registered as {type(metric).__name__}")
            return metric

    def counter(
        self, name: str, documentation: str = "", labelnames: Sequence[str] = ()
    ) -> Counter:
        """A counter (`.labels(...).inc()`); the same object for the same name."""
        return self._get(Counter, name, documentation, labelnames)

    def histogram(
        self,
        name: str,
        documentation: str = "",
        labelnames: Sequence[str] = (),
        buckets: Sequence[float] | None = None,
    ) -> Histogram:
        """A histogram (`.labels(...).observe(v)`); the same object for the same name."""
        kw = {"buckets": tuple(buckets)} if buckets else {}
        return self._get(Histogram, name, documentation, labelnames, **kw)

    def gauge(self, name: str, documentation: str = "", labelnames: Sequence[str] = ()) -> Gauge:
        """A gauge (`.set(v)`, or `.set_function(f)` for values read at scrape time)."""
        return self._get(Gauge, name, documentation, labelnames)

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric, secrets masked as a last line of defence."""
        text = generate_latest(self.registry).decode("utf-8")
        return redaction_filter().redact(text).encode("utf-8")
