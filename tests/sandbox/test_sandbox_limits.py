"""Bounded bookkeeping of the sandbox's token store and per-token rate limiter: lapsed tokens and
closed windows are forgotten as time passes, at constant cost per request."""

from __future__ import annotations

import requests
from sandbox_testkit import BRIDGE, auth, start, token

from om_bridge.sandbox.auth import TokenStore
from om_bridge.sandbox.ratelimit import RateLimiter

LIST = "/api/v2/conversations/messaging/integrations/open"


class Clock:
    """A settable clock."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class CountingKey:
    """A token stand-in that counts how often the limiter hashes it (any touch of its window)."""

    touched = 0

    def __init__(self, name: str) -> None:
        self.name = name

    def __hash__(self) -> int:
        CountingKey.touched += 1
        return hash(self.name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CountingKey) and other.name == self.name


def _issue(tokens: TokenStore, expires_in: int = 60) -> str:
    return tokens.issue("client", None, "org", frozenset(), expires_in, "client_credentials").token


def test_expired_tokens_are_forgotten_when_new_ones_are_issued():
    clock = Clock()
    tokens = TokenStore(clock=clock)
    old = [_issue(tokens) for _ in range(50)]
    clock.now += 60 + TokenStore.EXPIRED_KEPT_SECONDS / 2
    # expired but still known: the API can still say `credentials.expired`
    fresh = _issue(tokens)
    assert tokens.get(old[0]) is not None and len(tokens) == 51
    clock.now += TokenStore.EXPIRED_KEPT_SECONDS / 2
    newest = _issue(tokens)
    assert len(tokens) == 2, "lapsed tokens must not pile up"
    assert all(tokens.get(t) is None for t in old)
    assert tokens.get(fresh) is not None and tokens.get(newest) is not None


def test_token_store_size_stays_flat_under_a_steady_token_rate():
    clock = Clock()
    tokens = TokenStore(clock=clock)
    sizes = []
    for _ in range(2000):
        _issue(tokens, expires_in=10)
        clock.now += 1.0
        sizes.append(len(tokens))
    # one token a second, each known for 10 s + the expired grace
    assert max(sizes) <= 10 + TokenStore.EXPIRED_KEPT_SECONDS + 1


def test_expired_token_over_http_still_names_the_expiry():
    server = start({"auth": {"expires_in": 86400}})
    try:
        tok = token(server.url, BRIDGE)
        principal = server.sandbox.tokens.get(tok)
        principal.expires_at = 0  # lapsed, but within the kept grace of the store
        resp = requests.get(server.url + LIST, headers=auth(tok), timeout=5)
        assert resp.status_code == 401 and resp.json()["code"] == "credentials.expired"
    finally:
        server.stop()


def test_rate_limiter_forgets_closed_windows():
    clock = Clock()
    limiter = RateLimiter(per_minute=2, clock=clock)
    for i in range(5000):
        assert limiter.hit(f"token-{i}") is None
    assert len(limiter) == 5000
    clock.now += 61
    assert limiter.hit("late") is None
    assert len(limiter) == 1, "windows that closed must be dropped"


def test_rate_limiter_keeps_counting_after_old_windows_lapse():
    clock = Clock()
    limiter = RateLimiter(per_minute=2, clock=clock)
    assert limiter.hit("a") is None
    clock.now += 30
    assert limiter.hit("b") is None and limiter.hit("b") is None
    assert limiter.hit("b") == 60
    clock.now += 31  # a's window closed, b's has 29 s left
    assert limiter.hit("b") == 29
    assert limiter.hit("a") is None and len(limiter) == 2


def test_rate_limit_hit_does_not_touch_other_tokens_windows():
    clock = Clock()
    limiter = RateLimiter(per_minute=300, clock=clock)
    live = [CountingKey(f"live-{i}") for i in range(12000)]
    for key in live:
        limiter.hit(key)  # type: ignore[arg-type]
    CountingKey.touched = 0
    for i in range(200):
        clock.now += 0.01
        limiter.hit(live[i])  # type: ignore[arg-type]
    # a few hashes per hit (its own window, the oldest one); nothing scans the 12,000 live ones
    assert CountingKey.touched <= 200 * 5
