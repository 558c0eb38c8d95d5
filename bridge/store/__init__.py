"""The bridge's state: sessions, handovers, dedupe keys, the Genesys outbox, outputs and leader
locks, behind one `Store` interface with an embedded SQLite and a Redis backend (docs/design.md §10).

    store = open_store("sqlite:///./.om-bridge/om-bridge.db")   # or "redis://host:6379/0",
    # "redis+sentinel://s1:26379,s2:26379,s3:26379/mymaster/0" (bridge/store/redis_client.py)
"""

from __future__ import annotations

import importlib
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from om_bridge.bridge.config.secret import redact_url
from om_bridge.bridge.store import messages
from om_bridge.bridge.store.base import Store
from om_bridge.bridge.store.errors import (
    LockTimeout,
    NotFound,
    StoreConflict,
    StoreError,
    StoreUnavailable,
    unreachable,
)
from om_bridge.bridge.store.records import (
    END_STATUSES,
    OPEN_STATUSES,
    STATUSES,
    UPDATABLE_FIELDS,
    Handover,
    InboundCompletion,
    OutboxItem,
    SessionKey,
    UploadQuota,
    UploadUsage,
    new_customer_id,
)

__all__ = [
    "END_STATUSES",
    "OPEN_STATUSES",
    "STATUSES",
    "UPDATABLE_FIELDS",
    "Handover",
    "InboundCompletion",
    "LockTimeout",
    "NotFound",
    "OutboxItem",
    "SessionKey",
    "Store",
    "StoreConflict",
    "StoreError",
    "StoreUnavailable",
    "UploadQuota",
    "UploadUsage",
    "check_store_available",
    "new_customer_id",
    "open_store",
    "redact_url",
    "sqlite_path",
    "unreachable",
]

REDIS_SCHEMES = ("redis://", "rediss://", "unix://", "redis+sentinel://")


def sqlite_path(url: str) -> str:
    """The file path (or ":memory:") of a sqlite:// URL: `sqlite:///rel/or/abs.db` (the path
    after the third slash, so `sqlite:////abs.db` is absolute) and `sqlite://:memory:`."""
    rest = url[len("sqlite://") :]
    if rest in (":memory:", "/:memory:"):
        return ":memory:"
    if not rest.startswith("/") or len(rest) < 2:
        raise StoreError(messages.UNSUPPORTED_URL.format(url=url))
    return rest[1:]


def open_store(url: str, *, key_prefix: str | None = None) -> Store:
    """Open the store a URL names: `sqlite:///path.db`, `sqlite:////abs/path.db`,
    `sqlite://:memory:`, `redis://[:password@]host:port/db` (`rediss://` for TLS, `unix://` for
    a socket) or `redis+sentinel://[:password@]host:port,host:port/service/db` (the master a
    group of Sentinels names, followed through failovers; `bridge/store/redis_client.py`). The
    Redis key prefix, default "om-bridge:", comes from `key_prefix` or a `?prefix=` query
    parameter."""
    if url.startswith("sqlite://"):
        from om_bridge.bridge.store.sqlite import SqliteStore

        return SqliteStore(sqlite_path(url))
    if url.startswith(REDIS_SCHEMES):
        check_store_available(url)
        from om_bridge.bridge.store.redis_store import DEFAULT_PREFIX, RedisStore

        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        prefix = next((v for k, v in query if k == "prefix"), None)
        clean = urlunsplit(
            parts._replace(query=urlencode([(k, v) for k, v in query if k != "prefix"]))
        )
        return RedisStore(clean, prefix=key_prefix or prefix or DEFAULT_PREFIX)
    raise StoreError(messages.UNSUPPORTED_URL.format(url=redact_url(url)))


def check_store_available(url: str) -> None:
    """StoreError when this installation cannot open the store `url` names: the Redis store
    needs the `redis` distribution (the `redis` extra), which a plain install does not bring."""
    if url.startswith(REDIS_SCHEMES):
        try:
            importlib.import_module("redis")
        except ImportError:
            raise StoreError(messages.REDIS_NOT_INSTALLED) from None
