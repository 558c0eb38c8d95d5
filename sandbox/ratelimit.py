"""Per-access-token rate limit (Genesys: 300 requests per minute per client-credentials token)."""

from __future__ import annotations

import math
import threading
import time
from typing import Callable


class RateLimiter:
    """Fixed one-minute windows per token: the window opens at a token's first request; requests
    beyond `per_minute` inside it are refused with the seconds left until it closes."""

    def __init__(self, per_minute: int = 300, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def set_limit(self, per_minute: int) -> None:
        """Change the limit (0 disables it) and forget the current windows."""
        with self._lock:
            self.per_minute = per_minute
            self._windows.clear()

    def hit(self, key: str) -> int | None:
        """Count one request for `key`; None when allowed, else the Retry-After seconds (>= 1)."""
        with self._lock:
            if self.per_minute <= 0:
                return None
            now = self._clock()
            start, used = self._windows.get(key, (now, 0))
            if now - start >= 60.0:
                start, used = now, 0
            if used >= self.per_minute:
                return max(1, math.ceil(60.0 - (now - start)))
            self._windows[key] = (start, used + 1)
            if len(self._windows) > 10000:  # forget expired windows now and then
                self._windows = {k: v for k, v in self._windows.items() if now - v[0] < 60.0}
            return None
