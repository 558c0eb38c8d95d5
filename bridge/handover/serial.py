"""`KeyedExecutor`: a small thread pool that runs tasks of the same key one at a time, in order.

Webhooks are answered before they are processed (Genesys times out at 10 s), but two messages of one
conversation must still reach the user in the order Genesys sent them.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)


class KeyedExecutor:
    """Runs callables on a pool; callables sharing a key never overlap and keep their order."""

    def __init__(self, workers: int = 8, name: str = "om-keyed") -> None:
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix=name)
        self._queues: dict[str, deque[Callable[[], None]]] = {}
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._closed = False

    def submit(self, key: str, task: Callable[[], None]) -> None:
        """Queue `task` behind earlier tasks of `key`."""
        with self._lock:
            if self._closed:
                raise RuntimeError("executor is shut down")
            queue = self._queues.get(key)
            if queue is not None:
                queue.append(task)
                return
            self._queues[key] = deque([task])
        self._pool.submit(self._drain, key)

    def _drain(self, key: str) -> None:
        while True:
            with self._lock:
                queue = self._queues[key]
                if not queue:
                    del self._queues[key]
                    self._idle.notify_all()
                    return
                task = queue[0]
            try:
                task()
            except Exception:
                log.exception("task for %s failed", key)
            with self._lock:
                queue.popleft()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until no task is queued or running (tests and shutdown); False on timeout."""
        with self._lock:
            return self._idle.wait_for(lambda: not self._queues, timeout)

    def shutdown(self, timeout: float = 10.0) -> None:
        """Refuse new tasks, let queued ones finish (bounded), stop the threads."""
        with self._lock:
            self._closed = True
        self.wait_idle(timeout)
        self._pool.shutdown(wait=True)
