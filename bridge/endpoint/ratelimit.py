"""Rate limits of `POST /endpoint/<urlToken>`: the per-session input rate (a token bucket per
session), and the gate for new sessions (per client address, per endpoint, and a cap on stored
sessions without an open handover).

Each session may send `per_minute` inputs per minute, in bursts of up to `per_minute`; more are
answered 429 with `Retry-After` and change nothing. The buckets live in the process (with several
workers each one counts its own share); at most `MAX_SESSIONS` are kept, least recently used
first forgotten (a forgotten bucket is a full one).
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from om_bridge.bridge.endpoint import messages
from om_bridge.bridge.store import SessionKey, Store

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


# -- new sessions ---------------------------------------------------------------------------
# Defaults (docs/configuration.md): an office of a few hundred people behind one NAT address
# starts far fewer than 120 conversations a minute, and a flood from one address gets at most
# 120 of them a minute; all addresses together at most 600 new sessions a minute per endpoint.
NEW_SESSIONS_PER_ADDRESS: Final = 120
NEW_SESSIONS_PER_ENDPOINT: Final = 600
MAX_SESSIONS_WITHOUT_HANDOVER: Final = 100_000
# The stored count of sessions without an open handover is read again this often (between two
# reads this process adds the sessions it admitted itself).
SESSION_COUNT_REFRESH_SECONDS: Final = 1.0
# Sessions this process remembers as existing, so an input of a known session costs no store read.
KNOWN_SESSIONS: Final = 100_000


@dataclass(frozen=True)
class Refusal:
    """Why a new session was refused: the HTTP status, the error code, the message and the
    seconds after which to try again."""

    status: int
    code: str
    message: str
    retry_after: int


class NewSessionGate:
    """Admits new sessions: at most `per_address` a minute from one client address (across all
    endpoints), `per_endpoint` a minute to one endpoint, and none while the store keeps
    `max_without_handover` sessions without an open handover. Each limit is off at 0.

    The windows are moving windows of the `limits` library: in any 60 s, never more than the
    limit. Their counters are in this process (`memory://`), or in Redis when the store is Redis,
    so every worker and machine shares them.
    """

    def __init__(
        self,
        store: Store,
        *,
        per_address: int = NEW_SESSIONS_PER_ADDRESS,
        per_endpoint: int = NEW_SESSIONS_PER_ENDPOINT,
        max_without_handover: int = MAX_SESSIONS_WITHOUT_HANDOVER,
        trusted: Trusted | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.trusted = trusted or Trusted()
        self.per_address, self.per_endpoint = per_address, per_endpoint
        self.max_without_handover = max_without_handover
        self._limiter = MovingWindowRateLimiter(_storage(store))
        self._address_item = RateLimitItemPerMinute(max(per_address, 1))
        self._endpoint_item = RateLimitItemPerMinute(max(per_endpoint, 1))
        self._clock = clock
        self._lock = threading.Lock()
        self._count: int | None = None
        self._count_at = 0.0
        self._known: OrderedDict[str, None] = OrderedDict()

    def is_new(self, key: SessionKey) -> bool:
        """True when the store keeps no state of this session (remembered once it had some)."""
        skey = key.as_str()
        with self._lock:
            if skey in self._known:
                self._known.move_to_end(skey)
                return False
        if self.store.load_session(key) is None:
            return True
        self.remember(key)
        return False

    def remember(self, key: SessionKey) -> None:
        """Remember a session as existing (after its first input was handled)."""
        with self._lock:
            self._known[key.as_str()] = None
            self._known.move_to_end(key.as_str())
            while len(self._known) > KNOWN_SESSIONS:
                self._known.popitem(last=False)

    def admit(self, url_token: str, address: str) -> Refusal | None:
        """Count one new session from `address` to `url_token`; None when admitted."""
        if self.max_without_handover > 0 and self._stored() >= self.max_without_handover:
            return Refusal(
                503,
                "session_capacity",
                messages.SESSION_CAPACITY.format(limit=self.max_without_handover),
                60,
            )
        if self.per_address > 0 and not self._limiter.hit(self._address_item, "addr", address):
            wait = self._wait(self._address_item, "addr", address)
            text = messages.NEW_SESSIONS_ADDRESS.format(limit=self.per_address, wait=wait)
            return Refusal(429, "rate_limited", text, wait)
        if self.per_endpoint > 0 and not self._limiter.hit(
            self._endpoint_item, "endpoint", url_token
        ):
            wait = self._wait(self._endpoint_item, "endpoint", url_token)
            text = messages.NEW_SESSIONS_ENDPOINT.format(limit=self.per_endpoint, wait=wait)
            return Refusal(429, "rate_limited", text, wait)
        with self._lock:
            if self._count is not None:
                self._count += 1
        return None

    def _stored(self) -> int:
        now = self._clock()
        with self._lock:
            if self._count is not None and now - self._count_at < SESSION_COUNT_REFRESH_SECONDS:
                return self._count
        count = self.store.count_sessions_without_handover()
        with self._lock:
            self._count, self._count_at = count, now
        return count

    def _wait(self, item: RateLimitItem, *ids: str) -> int:
        stats = self._limiter.get_window_stats(item, *ids)
        return min(60, max(1, math.ceil(stats.reset_time - time.time())))


def _storage(store: Store) -> Storage:
    """The limits' counters: in Redis next to the store's keys when the store is Redis."""
    client = getattr(store, "_r", None)
    if client is not None and hasattr(store, "prefix"):
        return RedisStorage(
            "redis://", connection_pool=client.connection_pool, key_prefix=store.prefix + "limits"
        )
    return MemoryStorage()


def client_address(remote_addr: str | None, forwarded_for: str | None, trusted: Trusted) -> str:
    """The client's address: the peer's, or, when the peer is a trusted proxy, the nearest
    address in `X-Forwarded-For` (read from the right) that is not a trusted proxy itself."""
    peer = (remote_addr or "").strip()
    if not trusted.covers(peer) or not forwarded_for:
        return peer or "unknown"
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not trusted.covers(hop):
            return hop
    return hops[0] if hops else peer


class Trusted:
    """The configured trusted proxies (`[bridge] trusted_proxies`): addresses and networks."""

    def __init__(self, entries: Sequence[str] = ()) -> None:
        self.networks = [ipaddress.ip_network(e.strip(), strict=False) for e in entries]

    def covers(self, address: str) -> bool:
        """True when `address` (an IP address) is one of the trusted proxies."""
        if not self.networks:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self.networks if net.version == ip.version)
