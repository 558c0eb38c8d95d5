"""`ConditionWorker`: one daemon thread that sleeps on a condition until it is due or stopped."""

from __future__ import annotations

import threading


class ConditionWorker:
    """Runs `_run` on a daemon thread named `thread_name`. `_run` waits on `self._cond` and returns
    once `self._stop` is set; `stop()` sets it, wakes the thread and waits for it (5 s at most)."""

    thread_name = "om-worker"

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (once; a second call while it runs does nothing)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and wait for it."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        raise NotImplementedError
