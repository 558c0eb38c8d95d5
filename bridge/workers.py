"""`Workers`: the one object that starts and stops every background thread of the app."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Worker:
    """A named background worker: `start()` starts its threads, `stop()` ends and joins them."""

    name: str
    start: Callable[[], None]
    stop: Callable[[], None]


class Workers:
    """Starts the workers in the order given and stops them in reverse; each once.

    A stop that fails is logged and the others are still stopped. Nothing else in the bridge
    starts a thread of its own accord: every long-lived thread belongs to one of these workers.
    """

    def __init__(self, workers: Sequence[Worker]) -> None:
        self._workers = tuple(workers)
        self._started: list[Worker] = []
        self._lock = threading.Lock()

    @property
    def names(self) -> tuple[str, ...]:
        """The workers' names, in start order."""
        return tuple(w.name for w in self._workers)

    def start(self) -> None:
        """Start every worker not yet started; a failure stops those started and re-raises."""
        with self._lock:
            for worker in self._workers:
                if worker in self._started:
                    continue
                try:
                    worker.start()
                except Exception:
                    self._stop_started()
                    raise
                self._started.append(worker)

    def stop(self) -> None:
        """Stop the started workers, the last started first."""
        with self._lock:
            self._stop_started()

    def _stop_started(self) -> None:
        while self._started:
            worker = self._started.pop()
            try:
                worker.stop()
            except Exception:
                log.exception("stopping the %s worker failed", worker.name)
