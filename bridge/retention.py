"""Retention: what the store keeps, and the sweeper that deletes the rest on SQLite.

`[bridge] session_retention_hours` (idle sessions with their outputs; a session with an open
handover is kept) and `ended_handover_retention_hours` (ended handovers) are handed to the store:
Redis applies them as key TTLs on every write (dedupe keys carry their own), SQLite through
`Store.purge`, which `RetentionSweeper` runs every `sweep_interval_seconds`, followed by
`Store.reclaim_space` (SQLite's incremental vacuum), so the file shrinks back after a flood.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from om_bridge.bridge.config import BridgeSettings
    from om_bridge.bridge.metrics import Metrics
    from om_bridge.bridge.store import Store

log = logging.getLogger(__name__)
HOUR = 3600.0


def apply_retention(store: Store, settings: BridgeSettings) -> None:
    """Hand the `[bridge]` retention settings to the store."""
    store.set_retention(
        settings.session_retention_hours * HOUR,
        settings.ended_handover_retention_hours * HOUR,
    )


class RetentionSweeper:
    """A daemon thread running `store.purge` every `interval` seconds (and once at start)."""

    def __init__(
        self,
        store: Store,
        metrics: Metrics,
        interval: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store, self._clock, self.interval = store, clock, interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._purged = metrics.counter(
            "store_purged_total", "Store records deleted by retention", ["kind"]
        )
        self._reclaimed = metrics.counter(
            "store_reclaimed_bytes_total",
            "Bytes of the store's file given back to the file system after retention sweeps",
        )

    def sweep(self) -> dict[str, int]:
        """One purge; the rows deleted per kind."""
        counts = self._store.purge(self._clock())
        for kind, n in counts.items():
            if n:
                self._purged.labels(kind).inc(n)
        if any(counts.values()):
            log.info("retention: deleted %s", ", ".join(f"{n} {k}" for k, n in counts.items()))
        # After every sweep, not only one that deleted something: space a previous one could not
        # give back (the process stopped between the two) is given back too.
        freed = self._store.reclaim_space()
        if freed:
            self._reclaimed.inc(freed)
            log.info("retention: gave %d bytes back to the file system", freed)
        return counts

    def start(self) -> None:
        """Start the thread; idempotent."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="om-retention", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread (a purge in progress finishes)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.sweep()
            except Exception:
                log.exception("retention sweep failed; retrying in %s s", self.interval)
            self._stop.wait(self.interval)
