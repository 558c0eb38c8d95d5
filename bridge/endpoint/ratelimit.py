"""Per-session input rate limit on `POST /endpoint/<urlToken>` (a token bucket per session).

Each session may send `per_minute` inputs per minute, in bursts of up to `per_minute`; more are
answered 429 with `Retry-After` and change nothing. The buckets live in the process (with several
workers each one counts its own share); at most `MAX_SESSIONS` are kept, least recently used
first forgotten (a forgotten bucket is a full one).
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Final

MAX_SESSIONS: Final = 100_000


class InputRateLimiter:
    """`take(key)` → None when allowed, else the seconds to wait before the next input."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.time) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> tokens, at
        self._lock = threading.Lock()

    def take(self, key: str) -> int | None:
        """Spend one input of `key`'s budget; None when allowed, else whole seconds to wait."""
        if self.per_minute <= 0:
            return None
        rate = self.per_minute / 60.0
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.get(key, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - at) * rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                self._buckets.move_to_end(key)
                return max(1, math.ceil((1.0 - tokens) / rate))
            self._buckets[key] = (tokens - 1.0, now)
            self._buckets.move_to_end(key)
            while len(self._buckets) > MAX_SESSIONS:
                self._buckets.popitem(last=False)
        return None
