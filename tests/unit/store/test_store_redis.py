"""Redis backend specifics: key prefix, URL handling, and the pub/sub thread's lifetime."""

from __future__ import annotations

import threading

import pytest
import redis
from store_backends import redis_url  # noqa: F401 - fixture

from om_bridge.bridge.store import SessionKey, open_store

pytestmark = pytest.mark.redis
KEY = SessionKey("demo", "u", "s")


def test_key_prefix_from_the_url_or_the_argument_isolates_stores(redis_url: str) -> None:
    a = open_store(redis_url + "?prefix=tenant-a:")
    b = open_store(redis_url, key_prefix="tenant-b:")
    try:
        a.save_session(KEY, {"who": "a"})
        assert b.load_session(KEY) is None
        assert b.seen("m1", 60) is False and a.seen("m1", 60) is False
        raw = redis.Redis.from_url(redis_url, decode_responses=True)
        assert raw.keys("tenant-a:*") and raw.keys("tenant-b:*")
        raw.close()
    finally:
        a.close()
        b.close()


def test_default_prefix(redis_url: str) -> None:
    s = open_store(redis_url)
    try:
        s.save_session(SessionKey("prefix-test", "u", "s"), {})
        raw = redis.Redis.from_url(redis_url, decode_responses=True)
        assert raw.exists("om-bridge:s:prefix-test:u:s")
        raw.delete("om-bridge:s:prefix-test:u:s")
        raw.close()
    finally:
        s.close()


def test_close_stops_the_output_subscriber(redis_url: str) -> None:
    s = open_store(redis_url + "?prefix=sub-test:")
    s.start()
    assert s.wait_outputs(KEY, 0, timeout=0.05) == []
    assert any(t.name == "om-bridge-store-outputs" for t in threading.enumerate())
    s.close()
    assert not any(t.name == "om-bridge-store-outputs" for t in threading.enumerate())


def test_ping_is_false_when_redis_is_unreachable() -> None:
    from tests.conftest import free_port

    s = open_store(f"redis://127.0.0.1:{free_port()}/0")
    try:
        assert s.ping() is False
    finally:
        s.close()
