"""Errors raised by the store."""

from __future__ import annotations

import sqlite3

from om_bridge.bridge.errors import Unavailable


class StoreError(Exception):
    """Base of every store error."""


class StoreConflict(StoreError):
    """The write contradicts what is stored (e.g. a second open handover for one session)."""


class NotFound(StoreError, KeyError):
    """The record asked for does not exist."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class LockTimeout(StoreError, TimeoutError):
    """A session lock could not be taken within its timeout."""


class StoreUnavailable(StoreError, Unavailable):
    """The store cannot be reached (e.g. the Redis server is down): 503 with `Retry-After`."""

    code = "store_unavailable"


def unreachable(exc: BaseException) -> bool:
    """True when `exc` says the store's server or file cannot be reached (not a bad request):
    a Redis connection or timeout error, or SQLite unable to open or read its file."""
    if isinstance(exc, StoreUnavailable):
        return True
    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError
    except ImportError:  # the `redis` extra is not installed: no Redis store either
        pass
    else:
        if isinstance(exc, (RedisConnectionError, RedisTimeoutError)):
            return True
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc).lower()
        return "unable to open" in text or "disk i/o error" in text
    return False
