"""Contract tests, every backend: files users upload for the agent (bytes kept, expiry)."""

from __future__ import annotations

from collections.abc import Callable

from store_backends import redis_url, reopen, store  # noqa: F401 - fixtures

from om_bridge.bridge.store import Store
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
