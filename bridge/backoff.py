"""Exponential backoff with jitter, written once for every retry loop of the bridge.

`ceiling(attempt)` doubles from `base` up to `cap`; "full" jitter draws uniformly below it (many
clients spread out, used for calls in a request), "equal" jitter draws in its upper half (never
zero, so a component that is down is not hammered: the outbox, the inbound queue, callbacks,
reconnects).
"""

from __future__ import annotations

import random
from collections.abc import Callable

Rng = Callable[[], float]


def ceiling(attempt: int, base: float, cap: float) -> float:
    """The un-jittered delay before retry number `attempt` (1 = first retry): base·2^(n-1), capped."""
    return min(cap, base * (2 ** max(0, attempt - 1)))


def full_jitter(delay: float, rng: Rng = random.random) -> float:
    """Uniform in [0, delay)."""
    return rng() * delay


def equal_jitter(delay: float, rng: Rng = random.random) -> float:
    """Uniform in [delay/2, delay): never zero."""
    return delay / 2 + rng() * delay / 2


def backoff(
    attempt: int, base: float, cap: float, *, equal: bool = True, rng: Rng = random.random
) -> float:
    """The jittered delay before retry number `attempt`."""
    top = ceiling(attempt, base, cap)
    return equal_jitter(top, rng) if equal else full_jitter(top, rng)


__all__ = ["backoff", "ceiling", "equal_jitter", "full_jitter"]
