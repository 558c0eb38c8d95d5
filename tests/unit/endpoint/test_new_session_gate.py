"""The new-session gate: the client address behind trusted proxies, the moving windows per
address and endpoint (in memory, and shared through Redis by two stores as two workers would
be), the cap on stored sessions without an open handover."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "store"))
from store_backends import redis_url  # noqa: F401 - fixture

from om_bridge.bridge.endpoint.ratelimit import (
    NewSessionGate,
    Trusted,
    client_address,
)
from om_bridge.bridge.store import SessionKey, open_store


def test_x_forwarded_for_counts_only_from_a_trusted_peer():
    trusted = Trusted(["10.0.0.0/8", "::1"])
    assert client_address("203.0.113.9", "198.51.100.1", trusted) == "203.0.113.9"
    assert client_address("10.1.2.3", "198.51.100.1", trusted) == "198.51.100.1"
    # read from the right: the nearest untrusted hop; a client can prepend what it likes
    assert client_address("10.1.2.3", "1.2.3.4, 198.51.100.1, 10.9.9.9", trusted) == "198.51.100.1"
    assert client_address("::1", "2001:db8::7", trusted) == "2001:db8::7"
    assert client_address("10.1.2.3", "10.4.4.4, 10.5.5.5", trusted) == "10.4.4.4"
    assert client_address("10.1.2.3", None, trusted) == "10.1.2.3"
    assert client_address("10.1.2.3", "not-an-ip", trusted) == "not-an-ip"
    assert client_address("127.0.0.1", "198.51.100.1", Trusted()) == "127.0.0.1"
    with pytest.raises(ValueError):
        Trusted(["10.0.0.0/33"])


def test_the_address_and_endpoint_windows(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'gate.db'}")
    try:
        gate = NewSessionGate(store, per_address=3, per_endpoint=5, max_without_handover=0)
        assert [gate.admit("demo", "a") for _ in range(3)] == [None] * 3
        refused = gate.admit("demo", "a")
        assert refused is not None and refused.status == 429 and refused.retry_after >= 1
        assert "per_address" in refused.message
        assert gate.admit("demo", "b") is None
        assert gate.admit("demo", "c") is None
        at_endpoint = gate.admit("demo", "d")  # 5 admitted to the endpoint by now
        assert at_endpoint is not None and "per_endpoint" in at_endpoint.message
        assert gate.admit("other", "d") is None  # another endpoint has its own window
        off = NewSessionGate(store, per_address=0, per_endpoint=0, max_without_handover=0)
        assert all(off.admit("demo", "a") is None for _ in range(50))
    finally:
        store.close()


def test_the_cap_counts_stored_sessions_and_admitted_ones(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'gate.db'}")
    try:
        now = [0.0]
        gate = NewSessionGate(
            store, per_address=0, per_endpoint=0, max_without_handover=3, clock=lambda: now[0]
        )
        store.save_session(SessionKey("demo", "u", "stored"), {})
        assert gate.admit("demo", "a") is None  # 1 stored
        assert gate.admit("demo", "a") is None  # 1 stored + 1 admitted by this process
        refused = gate.admit("demo", "a")
        assert refused is not None and refused.status == 503 and refused.code == "session_capacity"
        # The admitted sessions never stored anything: at the next read of the count, room again.
        now[0] += 2.0
        assert gate.admit("demo", "a") is None
    finally:
        store.close()


def test_a_known_session_is_not_new(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'gate.db'}")
    try:
        gate = NewSessionGate(store)
        key = SessionKey("demo", "u", "s")
        assert gate.is_new(key)
        store.save_session(key, {})
        assert not gate.is_new(key)
        gate.remember(SessionKey("demo", "u", "remembered"))
        assert not gate.is_new(SessionKey("demo", "u", "remembered"))
    finally:
        store.close()


@pytest.mark.redis
def test_two_workers_on_redis_share_the_windows(redis_url):
    url = redis_url + f"?prefix=gate-{uuid.uuid4().hex}:"
    one, two = open_store(url), open_store(url)
    try:
        gates = [
            NewSessionGate(s, per_address=4, per_endpoint=0, max_without_handover=0)
            for s in (one, two)
        ]
        results = [gates[n % 2].admit("demo", "203.0.113.1") for n in range(10)]
        assert sum(1 for r in results if r is None) == 4
        # The counters are the store's keys, under its prefix.
        assert any(k.startswith(one.prefix) for k in one._r.keys(one.prefix + "limits*"))
    finally:
        one.close()
        two.close()
