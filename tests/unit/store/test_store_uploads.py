"""Contract tests, every backend: files users upload for the agent (bytes kept, expiry)."""

from __future__ import annotations

from collections.abc import Callable

from store_backends import race, redis_url, reopen, store  # noqa: F401 - fixtures

from om_bridge.bridge.store import SessionKey, Store, UploadQuota, UploadUsage
from tests.conftest import wait_until

META = {"name": "invoice.pdf", "mime": "application/pdf", "size": 5, "session": "demo|u|s"}


def test_an_upload_keeps_its_bytes_and_metadata_across_a_reopen(
    reopen: Callable[[], Store],
) -> None:
    body = bytes(range(256)) * 3  # every byte value, not only text
    first = reopen()
    first.put_upload("a" * 32, META, body, ttl_seconds=60)
    first.close()
    again = reopen()
    assert again.get_upload("a" * 32) == (META, body)
    assert again.get_upload("b" * 32) is None


def test_an_upload_expires(store: Store) -> None:
    store.put_upload("c" * 32, META, b"%PDF-", ttl_seconds=0.05)
    wait_until(lambda: store.get_upload("c" * 32) is None, 5, what="the upload to expire")


SESSION = SessionKey("tok", "u", "s")
OTHER = SessionKey("tok", "u", "other")


def meta_for(key: SessionKey, size: int) -> dict:
    return {"name": "a.txt", "mime": "text/plain", "size": size, "session": key.as_str()}


def test_uploads_are_counted_per_session(store: Store) -> None:
    assert store.upload_usage(SESSION) == UploadUsage(0, 0)
    assert store.put_upload("1" * 32, meta_for(SESSION, 3), b"abc", ttl_seconds=60) is True
    assert store.put_upload("2" * 32, meta_for(SESSION, 5), b"hello", ttl_seconds=60) is True
    assert store.put_upload("3" * 32, meta_for(OTHER, 1), b"x", ttl_seconds=60) is True
    assert store.upload_usage(SESSION) == UploadUsage(2, 8)
    assert store.upload_usage(OTHER) == UploadUsage(1, 1)


def test_an_upload_over_the_quota_is_refused_and_stores_nothing(store: Store) -> None:
    quota = UploadQuota(max_count=2, max_bytes=10)
    assert store.put_upload("1" * 32, meta_for(SESSION, 6), b"abcdef", 60, quota)
    # 6 + 5 bytes would pass max_bytes.
    assert store.put_upload("2" * 32, meta_for(SESSION, 5), b"hello", 60, quota) is False
    assert store.get_upload("2" * 32) is None
    assert store.put_upload("3" * 32, meta_for(SESSION, 4), b"four", 60, quota) is True
    # A third one passes max_count, however small.
    assert store.put_upload("4" * 32, meta_for(SESSION, 1), b"x", 60, quota) is False
    assert store.get_upload("4" * 32) is None
    assert store.upload_usage(SESSION) == UploadUsage(2, 10)
    # Another session has its own quota.
    assert store.put_upload("5" * 32, meta_for(OTHER, 1), b"x", 60, quota) is True


def test_an_expired_upload_no_longer_counts(store: Store) -> None:
    quota = UploadQuota(max_count=1)
    assert store.put_upload("1" * 32, meta_for(SESSION, 1), b"x", 0.05, quota)
    wait_until(
        lambda: store.upload_usage(SESSION) == UploadUsage(0, 0), 5, what="the upload to expire"
    )
    assert store.put_upload("2" * 32, meta_for(SESSION, 1), b"y", 60, quota) is True


def test_concurrent_uploads_never_pass_the_quota(store: Store) -> None:
    quota = UploadQuota(max_count=3)
    stored = race(8, lambda i: store.put_upload(f"{i:032x}", meta_for(SESSION, 1), b"z", 60, quota))
    assert sum(stored) == 3
    assert store.upload_usage(SESSION) == UploadUsage(3, 3)


def test_session_retention_caps_an_uploads_lifetime(store: Store) -> None:
    store.set_retention(0.05, None)
    assert store.put_upload("1" * 32, meta_for(SESSION, 1), b"x", ttl_seconds=3600)
    wait_until(lambda: store.get_upload("1" * 32) is None, 5, what="retention to end the upload")
    assert store.upload_usage(SESSION) == UploadUsage(0, 0)
