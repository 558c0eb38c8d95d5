"""Retry policy for Genesys calls: one small handler per cause plus jittered backoff."""

from __future__ import annotations

import enum
import random
import threading
import time
from collections.abc import Callable, Sequence

from om_bridge.bridge.backoff import backoff

from .errors import (
    DeadlineExceededError,
    GenesysConnectionError,
    GenesysError,
    RateLimitedError,
    ServerError,
)

# The one table of what is retried, by cause. NOW: retried within the call (and, failing that, by
# the outbox); LATER: not within the call, but the durable outbox lanes try again later with the
# same messageId (a 500 or 408 may have half-processed the request); anything else: never (a dead
# letter in the outbox).
GATEWAY_STATUSES = (502, 503, 504)
LATER_STATUSES = frozenset({408})


class Retry(enum.Enum):
    """Whether a failed Genesys call is retried: now (in the call), later (outbox only), never."""

    NOW = "now"
    LATER = "later"
    NEVER = "never"


def retry_of(error: GenesysError) -> Retry:
    """The retry decision for `error`, shared by the client's in-call retries and the outbox."""
    if isinstance(error, (GenesysConnectionError, RateLimitedError)):
        return Retry.NOW
    if isinstance(error, ServerError) and error.status in GATEWAY_STATUSES:
        return Retry.NOW
    if isinstance(error, DeadlineExceededError):
        return Retry.LATER
    status = error.status
    if status is not None and (status >= 500 or status in LATER_STATUSES or status == 429):
        return Retry.LATER
    return Retry.NEVER


class BackoffCalculator:
    """Exponential backoff with full jitter: uniform in [0, min(cap, base * 2**(attempt-1)))."""

    def __init__(
        self, base: float = 0.25, cap: float = 8.0, rng: Callable[[], float] = random.random
    ):
        self.base = base
        self.cap = cap
        self._rng = rng

    def delay(self, attempt: int) -> float:
        """Delay before retry number `attempt` (1 = first retry)."""
        return backoff(attempt, self.base, self.cap, equal=False, rng=self._rng)


class RetryHandler:
    """Decides whether one kind of failure is retried and how long to wait first."""

    cause = "error"
    pauses_client = False

    def can_retry(self, error: GenesysError) -> bool:
        raise NotImplementedError

    def delay(self, error: GenesysError, attempt: int, backoff: BackoffCalculator) -> float:
        return backoff.delay(attempt)


class ConnectionErrorRetryHandler(RetryHandler):
    """Network failures (refused, reset, DNS, timeouts): the request may never have arrived."""

    cause = "connection error"

    def can_retry(self, error: GenesysError) -> bool:
        return isinstance(error, GenesysConnectionError)


class RateLimitRetryHandler(RetryHandler):
    """429: wait Retry-After (capped), or back off when the header is absent or garbage."""

    cause = "rate limited"
    # A 429 means the token's budget is spent, so every call on this client must wait, not just one.
    pauses_client = True

    def __init__(self, max_retry_after: float = 60.0):
        self.max_retry_after = max_retry_after

    def can_retry(self, error: GenesysError) -> bool:
        return isinstance(error, RateLimitedError)

    def delay(self, error: GenesysError, attempt: int, backoff: BackoffCalculator) -> float:
        retry_after = getattr(error, "retry_after", None)
        if retry_after is None:
            return backoff.delay(attempt)
        return min(retry_after, self.max_retry_after)


class ServerErrorRetryHandler(RetryHandler):
    """Gateway errors 502/503/504 are transient; other 5xx (e.g. 500, 501) are not retried."""

    cause = "server error"

    def __init__(self, statuses: Sequence[int] = GATEWAY_STATUSES):
        self.statuses = tuple(statuses)

    def can_retry(self, error: GenesysError) -> bool:
        return isinstance(error, ServerError) and error.status in self.statuses


class ClientPause:
    """A client-wide pause: after a 429 every call waits until the Retry-After moment has passed."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._until = 0.0
        self._lock = threading.Lock()

    def extend(self, seconds: float) -> None:
        with self._lock:
            self._until = max(self._until, self._clock() + seconds)

    def remaining(self) -> float:
        return max(0.0, self._until - self._clock())


class RetryPolicy:
    """Attempts, backoff and deadline for Genesys calls; clock, sleep and rng are injectable."""

    def __init__(
        self,
        max_attempts: int = 6,
        base: float = 0.25,
        cap: float = 8.0,
        deadline: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: Callable[[], float] = random.random,
        handlers: Sequence[RetryHandler] | None = None,
        max_retry_after: float = 60.0,
    ):
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.max_attempts = max_attempts
        self.deadline = deadline
        self.sleep = sleep
        self.clock = clock
        self.backoff = BackoffCalculator(base, cap, rng)
        self.handlers: tuple[RetryHandler, ...] = (
            tuple(handlers)
            if handlers is not None
            else (
                ConnectionErrorRetryHandler(),
                RateLimitRetryHandler(max_retry_after),
                ServerErrorRetryHandler(),
            )
        )

    def handler_for(self, error: GenesysError) -> RetryHandler | None:
        """The handler that retries `error`, or None when it must be raised (e.g. other 4xx)."""
        for handler in self.handlers:
            if handler.can_retry(error):
                return handler
        return None
