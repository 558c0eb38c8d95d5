"""The composition root: builds every app-lifetime object with its collaborators as constructor
arguments, and the one `Workers` object that starts and stops their threads.

Nothing else in the bridge builds these objects or looks them up: each object gets what it
works with here. `Bridge` holds the built graph for the app factory, entry points and tests
(`app.extensions["om-bridge"]`); no subsystem reads it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from om_bridge.bridge.cognigy import CognigyReturn
from om_bridge.bridge.cognigy.flow import CognigyFlow
from om_bridge.bridge.completion import CompletionService
from om_bridge.bridge.config import Config
from om_bridge.bridge.endpoint.hub import OutputHub
from om_bridge.bridge.flags import Flags
from om_bridge.bridge.gauges import StateCollector
from om_bridge.bridge.genesys.clients import ClientRegistry
from om_bridge.bridge.handover.backfill import Backfill
from om_bridge.bridge.handover.engine import HandoverEngine
from om_bridge.bridge.metrics import Metrics
from om_bridge.bridge.ops import Readiness
from om_bridge.bridge.retention import RetentionSweeper
from om_bridge.bridge.store import Store
from om_bridge.bridge.workers import Worker, Workers

log = logging.getLogger(__name__)


@dataclass
class Bridge:
    """The built object graph of one app; `close()` stops the workers and releases the rest."""

    config: Config
    flags: Flags
    store: Store
    clients: ClientRegistry
    outputs: OutputHub
    engine: HandoverEngine
    backfill: Backfill
    completion: CompletionService
    metrics: Metrics
    readiness: Readiness
    sweeper: RetentionSweeper
    workers: Workers
    clock: Callable[[], float]
    _closed: bool = field(default=False, repr=False)
    _close_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def close(self) -> None:
        """Stop the workers, drain outputs, close clients and the store; safe to call twice."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        self.workers.stop()
        for name, close in (
            ("cognigy", self.engine.cognigy.close),
            ("outputs", self.outputs.close),
            ("clients", self.clients.close),
        ):
            try:
                close()
            except Exception:
                log.exception("closing %s failed", name)
        self.store.close()


def build(config: Config, flags: Flags, store: Store, clock: Callable[[], float]) -> Bridge:
    """Every object of the app, wired through constructors (docs/architecture.md)."""
    metrics = Metrics()
    clients = ClientRegistry(config)
    cognigy = CognigyReturn(config, metrics)
    forward = cognigy.forward if config.cognigy_endpoints else None
    outputs = OutputHub(store, config, metrics, clock, forward=forward)
    engine = HandoverEngine(
        config=config,
        flags=flags,
        store=store,
        clients=clients,
        outputs=outputs,
        metrics=metrics,
        clock=clock,
        cognigy=cognigy,
        hosted_flows=dict.fromkeys(config.cognigy_endpoints, CognigyFlow(cognigy, store, outputs)),
    )
    completion = CompletionService(
        config=config,
        flags=flags,
        store=store,
        clients=clients,
        metrics=metrics,
        clock=clock,
        handovers=engine,
    )
    engine.watch_with(completion)
    metrics.registry.register(StateCollector(store, completion, clock))
    # Agent messages Genesys gave up delivering while the bridge was unreachable: read back
    # through the same inbound lane and dedupe as a webhook (docs/reliability.md).
    backfill = Backfill(
        engine.accept_genesys_message, store=store, clients=clients, metrics=metrics, clock=clock
    )
    sweeper = RetentionSweeper(store, metrics, config.bridge.sweep_interval_seconds, clock)
    workers = Workers(
        [
            # First started, last stopped: the others take session locks and wait on outputs.
            Worker("store", store.start, store.stop),
            Worker("callbacks", outputs.start, outputs.close),
            Worker("retention", sweeper.start, sweeper.stop),
            Worker("handover", engine.start, engine.stop),
            Worker("backfill", backfill.start, backfill.stop),
            Worker("completion", completion.start, completion.stop),
        ]
    )
    return Bridge(
        config=config,
        flags=flags,
        store=store,
        clients=clients,
        outputs=outputs,
        engine=engine,
        backfill=backfill,
        completion=completion,
        metrics=metrics,
        readiness=Readiness(store, config, clients, completion),
        sweeper=sweeper,
        workers=workers,
        clock=clock,
    )


__all__ = ["Bridge", "build"]
