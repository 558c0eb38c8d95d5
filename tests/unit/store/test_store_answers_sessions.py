"""The store's kept idempotent answers and its count of sessions without an open handover, on
both backends."""

from __future__ import annotations

import time
from collections.abc import Callable

from store_backends import redis_url, reopen, store  # noqa: F401 - fixtures

from om_bridge.bridge.store import Handover, SessionKey, Store


def test_a_kept_answer_is_found_across_a_reopen_until_it_expires(
    reopen: Callable[[], Store],
) -> None:
    first = reopen()
    first.keep_answer("k1", {"body": {"text": "hi"}, "fingerprint": "f"}, 60)
    first.keep_answer("short", {"body": {}}, 0.05)
    again = reopen()
    assert again.kept_answer("k1") == {"body": {"text": "hi"}, "fingerprint": "f"}
    assert again.kept_answer("unknown") is None
    deadline = time.monotonic() + 10
    while again.kept_answer("short") is not None:
        assert time.monotonic() < deadline, "the short-lived answer never expired"
        time.sleep(0.05)


def test_sessions_without_an_open_handover_are_counted(store: Store) -> None:
    assert store.count_sessions_without_handover() == 0
    keys = [SessionKey("demo", "u", f"s{n}") for n in range(3)]
    for key in keys:
        store.save_session(key, {"n": 1})
    store.save_session(keys[0], {"n": 2})  # saved again: still one session
    assert store.count_sessions_without_handover() == 3
    store.create_handover(Handover.new(keys[1], "p", "c1", "integration-1"))
    assert store.count_sessions_without_handover() == 2
