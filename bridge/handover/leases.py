"""Keeps the store leases of queue items in hand alive while they are worked on.

Leases are short (`[bridge] lease_seconds`, default 10 s), so what a killed process held is
picked up by another within seconds; while this process works on an item, a background thread
renews its lease every third of its length, so a slow Genesys call never loses it. A renewal that
fails means another owner took the item over: it is dropped from the set (the fenced done/retry
of the old owner then changes nothing).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

Renew = Callable[[int, str, float], bool]


class LeaseKeeper:
    """Renews the leases registered with it until they are released."""

    def __init__(self, renew: Renew, lease_seconds: float, name: str) -> None:
        self._renew = renew
        self.lease_seconds = lease_seconds
        self._held: dict[int, str] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._name = name

    def hold(self, item_id: int, owner: str) -> None:
        """Keep renewing `owner`'s lease of an item until `release`."""
        with self._lock:
            self._held[item_id] = owner
            if self._thread is None:
                self._stopping.clear()
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()

    def release(self, item_id: int) -> None:
        """Stop renewing an item's lease."""
        with self._lock:
            self._held.pop(item_id, None)

    def stop(self) -> None:
        """Stop the renewing thread (held leases then run out by themselves)."""
        with self._lock:
            thread, self._thread = self._thread, None
        self._stopping.set()
        if thread is not None:
            thread.join(5)

    def _run(self) -> None:
        interval = max(self.lease_seconds / 3.0, 0.05)
        while not self._stopping.wait(interval):
            with self._lock:
                held = list(self._held.items())
            for item_id, owner in held:
                try:
                    kept = self._renew(item_id, owner, self.lease_seconds)
                except Exception as exc:  # a store hiccup: the next round tries again
                    log.warning("renewing the lease of item %s failed: %s", item_id, exc)
                    continue
                if not kept:
                    with self._lock:
                        if self._held.get(item_id) == owner:
                            del self._held[item_id]
