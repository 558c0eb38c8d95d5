"""Gauges read at scrape time (a Prometheus collector): open handovers by status, the
notifications listener's leadership and sockets, the outbox's depth and the age of its oldest
item. Label values come from fixed sets only."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Final

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from om_bridge.bridge.completion import CompletionService
    from om_bridge.bridge.store import Store

log = logging.getLogger(__name__)
OPEN_STATUSES: Final = ("requested", "queue", "active")
QUEUES: Final = ("outbox", "inbound")


class StateCollector(Collector):
    """Yields the state gauges from the store and the listeners on each scrape."""

    def __init__(
        self, store: Store, completion: CompletionService | None, clock: Callable[[], float]
    ) -> None:
        self.store, self.completion, self.clock = store, completion, clock

    def collect(self) -> Iterator[Any]:
        yield from self._handovers()
        yield from self._queues()
        yield from self._listeners()

    def _handovers(self) -> Iterator[Any]:
        gauge = GaugeMetricFamily(
            "om_bridge_open_handovers", "Open handovers by status", labels=["status"]
        )
        counts = dict.fromkeys(OPEN_STATUSES, 0)
        try:
            for h in self.store.open_handovers():
                if h.status in counts:
                    counts[h.status] += 1
        except Exception:
            log.debug("open handovers not counted", exc_info=True)
            return
        for status, n in counts.items():
            gauge.add_metric([status], n)
        yield gauge

    def _queues(self) -> Iterator[Any]:
        depth = GaugeMetricFamily(
            "om_bridge_queue_depth",
            "Items waiting: outbox (calls to Genesys) and inbound (accepted webhooks)",
            labels=["queue"],
        )
        age = GaugeMetricFamily(
            "om_bridge_queue_oldest_age_seconds",
            "Age of the oldest waiting item (0 when empty)",
            labels=["queue"],
        )
        now = self.clock()
        for name, read in (
            ("outbox", self.store.outbox_pending),
            ("inbound", self.store.inbound_pending),
        ):
            try:
                items = read()
            except Exception:
                log.debug("%s not measured", name, exc_info=True)
                continue
            depth.add_metric([name], len(items))
            oldest = min((i.created_at for i in items), default=None)
            age.add_metric([name], max(0.0, now - oldest) if oldest is not None else 0.0)
        yield depth
        yield age

    def _listeners(self) -> Iterator[Any]:
        listeners = self.completion.listeners if self.completion is not None else {}
        if not listeners:
            return
        leader = GaugeMetricFamily(
            "om_bridge_listener_leader",
            "1 when this process holds the notifications listener lock of the provider",
            labels=["provider"],
        )
        sockets = GaugeMetricFamily(
            "om_bridge_listener_sockets",
            "Notifications channels of the listener by socket state",
            labels=["provider", "state"],
        )
        for listener in listeners.values():
            health = listener.health()
            # The provider id is configuration (bounded), never a client id or a secret.
            provider = listener.provider_ids[0] if listener.provider_ids else "-"
            leader.add_metric([provider], 1.0 if health["leader"] else 0.0)
            sockets.add_metric([provider, "open"], health["open"])
            sockets.add_metric([provider, "down"], health["channels"] - health["open"])
        yield leader
        yield sockets
