"""Per-access-token rate limit (Genesys: 300 requests per minute per client-credentials token)."""

from __future__ import annotations

import collections
import math
import threading
import time
from collections.abc import Callable

WINDOW_SECONDS = 60.0


class RateLimiter:
    """Fixed one-minute windows per token: the window opens at a token's first request; requests
    beyond `per_minute` inside it are refused with the seconds left until it closes.

    Windows are kept in the order they opened (the clock is monotonic), so the lapsed ones are
    always at the front and are dropped there as time passes: O(1) amortised per request, and the
    table never holds more than the tokens seen in the last minute."""

    def __init__(self, per_minute: int = 300, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        # key -> [window start, requests counted], oldest window first
        self._windows: collections.OrderedDict[str, list] = collections.OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._windows)

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
            self._expire(now)
            window = self._windows.get(key)
            if window is None:
                # a new window opens now, so it belongs at the end of the start-time order
                self._windows[key] = [now, 1]
                return None
            start, used = window
            if used >= self.per_minute:
                return max(1, math.ceil(WINDOW_SECONDS - (now - start)))
            window[1] = used + 1
            return None

    def _expire(self, now: float) -> None:
        """Drop the windows that closed (each is dropped once: amortised O(1) per request)."""
        windows = self._windows
        while windows:
            _key, (start, _used) = next(iter(windows.items()))
            if now - start < WINDOW_SECONDS:
                return
            windows.popitem(last=False)
