"""In-process coordination shared by the backends: per-key locks and per-key output wake-ups."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class KeyedLocks:
    """Process-local mutexes by key, created on demand and dropped when nobody holds or waits."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, list] = {}  # key -> [lock, users]

    def acquire(self, key: str, timeout: float) -> bool:
        """Take the lock of `key` within `timeout` seconds; False on timeout."""
        with self._guard:
            entry = self._locks.setdefault(key, [threading.Lock(), 0])
            entry[1] += 1
        if entry[0].acquire(timeout=max(timeout, 0.0)):
            return True
        self._drop(key)
        return False

    def release(self, key: str) -> None:
        """Release the lock of `key` taken by `acquire`."""
        with self._guard:
            entry = self._locks[key]
        entry[0].release()
        self._drop(key)

    def _drop(self, key: str) -> None:
        with self._guard:
            entry = self._locks[key]
            entry[1] -= 1
            if entry[1] == 0:
                del self._locks[key]


class Waiters:
    """Per-key wake-ups for output waiters. A waiter registers with `watch(key)` *before* it
    checks the store, so a notify between its check and its wait is never lost."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # key -> [condition, number of watchers, change counter]; only keys somebody watches,
        # so idle sessions cost nothing here. One condition per key: no herd wake-ups.
        self._entries: dict[str, list] = {}

    def keys(self) -> list[str]:
        """The keys somebody waits on right now."""
        with self._lock:
            return list(self._entries)

    def count(self) -> int:
        """Waiters registered right now (pending long-polls and open SSE streams between
        events)."""
        with self._lock:
            return sum(entry[1] for entry in self._entries.values())

    def notify(self, key: str) -> None:
        """Record a change of `key` and wake its watchers."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                entry[2] += 1
                entry[0].notify_all()

    @contextmanager
    def watch(self, key: str) -> Iterator[Watch]:
        """Register interest in `key` for the duration of the block."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                entry = self._entries[key] = [threading.Condition(self._lock), 0, 0]
            entry[1] += 1
            watch = Watch(self._lock, entry)
        try:
            yield watch
        finally:
            with self._lock:
                entry[1] -= 1
                if entry[1] == 0:
                    del self._entries[key]


class Watch:
    """One watcher's view of a key: `wait` returns once the key changed since the last look."""

    def __init__(self, lock: threading.Lock, entry: list) -> None:
        self._lock = lock
        self._entry = entry
        self._seen = entry[2]

    def wait(self, timeout: float) -> bool:
        """Block until a change after the last look or `timeout`; True if something changed."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._entry[2] == self._seen:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._entry[0].wait(remaining)
            self._seen = self._entry[2]
            return True
