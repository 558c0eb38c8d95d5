"""`ReorderBuffer`: Genesys webhooks of one customer that arrive close together are stored in
`channel.time` order (message id as tie-break), not in arrival order.

Genesys may deliver two messages of a conversation concurrently, or retry the first after the
second went through, so arrival order is not the agent's order. A delivery is held (its request
waits, before anything is stored, so Genesys gets its 2xx only once the message is durable) until
its `channel.time` is `window` seconds old, and never longer than `window` after it arrived. Whoever
is released first stores every held delivery of the same key that is not later than itself, in
order. A delivery that is already `window` old when it arrives is not held: the usual Genesys
delivery latency eats into the window, so an in-order message waits at most the rest of it.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

STRIPES: Final = 64


def epoch(channel_time: str) -> float | None:
    """Epoch seconds of an ISO-8601 `channel.time` (naive is UTC); None when unparseable."""
    if not channel_time:
        return None
    try:
        moment = datetime.fromisoformat(channel_time.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


@dataclass(order=True)
class _Held:
    sort_key: tuple[float, str]
    store: Callable[[], Any] = field(compare=False)
    done: threading.Event = field(default_factory=threading.Event, compare=False)
    result: Any = field(default=None, compare=False)
    error: BaseException | None = field(default=None, compare=False)


class ReorderBuffer:
    """Holds deliveries per key for up to `window` seconds and stores them in time order."""

    def __init__(self, window: float, clock: Callable[[], float] = time.time) -> None:
        self.window = window
        self._clock = clock
        self._held: dict[str, list[_Held]] = {}
        self._locks = [threading.Lock() for _ in range(STRIPES)]

    def held(self) -> int:
        """How many deliveries are waiting (all keys)."""
        return sum(len(v) for v in list(self._held.values()))

    def submit(self, key: str, channel_time: str, message_id: str, store: Callable[[], Any]) -> Any:
        """Run `store()` for this delivery once no earlier one of `key` may still arrive within
        the window (or at once when the window is off); returns what `store()` returned."""
        at = epoch(channel_time)
        if self.window <= 0 or at is None:
            return store()
        lock = self._locks[hash(key) % STRIPES]
        entry = _Held((at, message_id), store)
        wait = min(self.window, at + self.window - self._clock())
        with lock:
            held = self._held.get(key)
            if wait <= 0 and not held:
                entry.done.set()
            else:
                bisect.insort(self._held.setdefault(key, []), entry)
        if entry.done.is_set():  # the common case: old enough, nothing held for this key
            return store()
        entry.done.wait(max(0.0, wait))
        with lock:
            if not entry.done.is_set():
                self._release(key, entry)
        entry.done.wait()
        if entry.error is not None:
            raise entry.error
        return entry.result

    def _release(self, key: str, upto: _Held) -> None:
        # Under the key's lock: store every held delivery not later than `upto`, in order.
        held = self._held.get(key) or []
        cut = bisect.bisect_right(held, upto)
        ready, rest = held[:cut], held[cut:]
        if rest:
            self._held[key] = rest
        else:
            self._held.pop(key, None)
        for item in ready:
            try:
                item.result = item.store()
            except BaseException as exc:
                item.error = exc
            item.done.set()
